import pytest

from workbench.errors import ConfigError, MissingKeyError, UnknownTierError
from workbench.models import ModelOptions, build_model, complete, load_tiers
from workbench.models.tiers import route


def test_shipped_tiers_have_stand_ins_and_known_prices():
    from workbench.models import price_for

    tiers = load_tiers()
    assert {"small", "medium", "large", "judge", "drafter"} <= set(tiers.names())
    for t in tiers.tiers.values():
        assert t.stand_in and t.stand_in.startswith("local/")
        assert price_for(t.model) is not None, f"{t.model} has no price in litellm's map"


def test_packaged_copy_is_the_project_file():
    from pathlib import Path

    import workbench

    packaged = Path(workbench.__file__).parent / "data" / "tiers.yaml"
    assert packaged.read_text() == (Path(__file__).parent.parent / "configs" / "tiers.yaml").read_text()


def test_offline_mode_routes_to_the_stand_in_priced_as_real(monkeypatch):
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    r = route("openai/gpt-4o-mini", "local/extractive")
    assert (r.call, r.priced_as, r.reason) == ("local/extractive", "openai/gpt-4o-mini", "offline")


def test_without_a_key_outside_offline_mode_no_stand_in_answers_silently(monkeypatch):
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingKeyError, match=r"OPENAI_API_KEY(.|\n)*WORKBENCH_OFFLINE=1 or --offline"):
        route("openai/gpt-4o-mini", "local/extractive")


def test_route_with_key_calls_the_real_model_unless_forced_offline(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    assert route("openai/gpt-4o-mini", "local/extractive").call == "openai/gpt-4o-mini"
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    assert route("openai/gpt-4o-mini", "local/extractive").call == "local/extractive"


def test_route_without_key_or_stand_in_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY"):
        route("anthropic/claude-sonnet-4-5")
    monkeypatch.setenv("WORKBENCH_OFFLINE", "1")
    with pytest.raises(MissingKeyError, match="no offline stand-in"):
        route("anthropic/claude-sonnet-4-5")


def test_tier_call_is_simulated_with_real_model_price_and_tokenizer():
    from workbench.models.tokens import tokenizer_for

    msgs = [{"role": "user", "content": "Context:\nThe red door opened in 1972.\n\nQuestion: When did the red door open?"}]
    c = complete(msgs, tier="medium", retries=0)
    assert "1972" in c.text and c.model == "local/extractive" and c.tier == "medium"
    assert c.cost_basis == "simulated" and c.priced_as == "openai/gpt-4o-mini" and c.cost_usd > 0
    assert c.usage.input_tokens == tokenizer_for("openai/gpt-4o-mini").count_messages(msgs)
    big = complete(msgs, tier="large", retries=0)
    assert big.cost_usd > 10 * c.cost_usd  # gpt-4.1 costs >10x gpt-4o-mini per token


def test_tier_fallbacks_compose_in_order():
    from workbench.models import FallbackModel

    model = build_model("large", options=ModelOptions(retries=0))
    assert isinstance(model, FallbackModel)
    assert [m.tier for m in model.models] == ["large", "medium", "small"]
    assert len(build_model("large", options=ModelOptions(fallbacks=False, retries=0)).identity()) == 3


def test_bad_tiers_file_names_the_tier_and_field(tmp_path):
    p = tmp_path / "tiers.yaml"
    p.write_text("tiers:\n  small:\n    model: openai/gpt-4o-mini\n    colour: blue\n")
    with pytest.raises(ConfigError, match=r"tier 'small'.*colour"):
        load_tiers(p)
    p.write_text("tiers: [1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_tiers(p)
    with pytest.raises(ConfigError, match="cannot read"):
        load_tiers(tmp_path / "missing.yaml")


def test_unknown_tier():
    with pytest.raises(UnknownTierError, match="known tiers"):
        load_tiers().get("xl")
