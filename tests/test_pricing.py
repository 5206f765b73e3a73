import pytest

from workbench.errors import UsageError
from workbench.models.pricing import PriceBook, price_for
from workbench.models.records import Usage


def test_prices_come_from_litellms_bundled_map():
    p = price_for("openai/gpt-4o-mini")
    assert p is not None and p.source == "litellm"
    assert p.input > 0 and p.output > p.input
    assert p.cached_input is not None and p.cached_input < p.input


def test_unknown_model_is_unpriced_not_zero():
    assert price_for("openai/no-such-model-xyz") is None
    assert price_for("local/extractive") is None


def test_cost_uses_cached_input_price():
    book = PriceBook()
    p = book.register("acme/m1", input_per_1m=2.0, output_per_1m=8.0, cached_input_per_1m=0.5)
    assert book.get("acme/m1") is p and p.source == "registered"
    assert p.cost(Usage(1_000_000, 0)) == pytest.approx(2.0)
    assert p.cost(Usage(1_000_000, 500_000, cached_input_tokens=1_000_000)) == pytest.approx(0.5 + 4.0)
    assert p.per_million() == pytest.approx((2.0, 8.0))


def test_registered_price_wins_and_rejects_negative():
    book = PriceBook()
    book.register("openai/gpt-4o-mini", input_per_1m=1.0, output_per_1m=1.0)
    assert book.get("openai/gpt-4o-mini").input == pytest.approx(1e-6)
    with pytest.raises(UsageError):
        book.register("x/y", input_per_1m=-1, output_per_1m=0)
