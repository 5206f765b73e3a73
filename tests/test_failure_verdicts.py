"""The failure browser puts answers that look wrong first and names a right answer worded apart from the expected
one ("30 calendar days" for "30 days", "10-year" for "10 years") instead of calling it wrong."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.widgets.failures import _card, answered_by, ordered, spread_match, verdict


@pytest.mark.parametrize(("expected", "output", "found"), [
    ("30 days", "no later than 30 calendar days after the charge", "30 calendar days"),
    ("30 days", "within 30 business or calendar days", "30 business or calendar days"),
    ("Pro plan", "the Pro annual plan includes it", "Pro annual plan"),
    ("10 years", "kept until the 10-year retention period ends", "10-year"),  # hyphen and plural
    ("30 days", "refunds take 30 Days", None),               # literal (any case): nothing to explain
    ("30 days", "days after charge 30", None),               # wrong order
    ("30 days", "30 of the many different possible days", None),  # too far apart
    ("30 days", "no refunds at all", None),
    ("", "anything", None),
])
def test_spread_match(expected, output, found):
    assert spread_match(expected, output) == found


def record(scores, output="", error=None, sample_id="s1", model="m", by="m", basis="provider"):
    return SimpleNamespace(scores=scores, output=output, error=error, sample_id=sample_id, category="normal",
                           tier="small", model=model, answered_by=by, cost_basis=basis)


def sample(expected, question="How many days?"):
    return SimpleNamespace(expected=expected, inputs=SimpleNamespace(question=question))


FAIL = {"passed": False, "value": 0.0}
PASS = {"passed": True, "value": 1.0}


def test_a_right_answer_worded_apart_is_explained_not_called_wrong():
    r = record({"contains_any": FAIL, "token_f1": PASS}, "no later than 30 calendar days after the invoice date")
    kind, why = verdict(r, sample(["30 days"]))
    assert kind == "worded apart"
    assert "'30 calendar days'" in why and "add this wording" in why and "contains_any failed, but every word" in why
    assert "worded apart" in _card(r, sample(["30 days"]))


def test_answers_that_look_wrong_come_first_even_when_a_lenient_check_passed():
    apart = record({"contains_any": FAIL, "token_f1": PASS}, "30 calendar days", sample_id="apart")
    wrong = record({"contains_any": FAIL, "token_f1": PASS}, "refunds take 90 days", sample_id="wrong")
    none = record({"contains_any": FAIL, "token_f1": FAIL}, "ask support", sample_id="none")
    broken = record({}, error="ModelError: timed out", sample_id="broken")
    samples = {k: sample(["30 days"]) for k in ("apart", "wrong", "none", "broken")}
    assert [r.sample_id for r in ordered([apart, wrong, none, broken], samples)] == ["wrong", "none", "broken", "apart"]
    assert verdict(wrong, samples["wrong"]) == (
        "failed", "contains_any failed: the expected answer is not in the output")
    assert verdict(none, samples["none"]) == ("failed", "no check passed: contains_any, token_f1")
    assert verdict(broken, samples["broken"])[1].startswith("the call failed: ModelError")


def test_the_card_names_the_stand_in_that_answered_not_only_the_model_it_stands_for():
    stand_in = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="local/keyword", basis="simulated")
    assert answered_by(stand_in) == "local/keyword (offline stand-in for openai/gpt-4.1-nano, simulated cost)"
    assert "answered by local/keyword (offline stand-in" in _card(stand_in, sample(["30 days"]))
    real = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="openai/gpt-4.1-nano")
    assert answered_by(real) == "openai/gpt-4.1-nano"
    fallback = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="anthropic/claude-haiku-4-5")
    assert answered_by(fallback) == "anthropic/claude-haiku-4-5 (fallback for openai/gpt-4.1-nano)"
