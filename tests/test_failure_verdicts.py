"""The failure browser puts real failures first and explains a split verdict in words, naming a right answer
worded apart from the expected one ("30 calendar days" for "30 days") instead of calling it wrong."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from workbench.widgets.failures import _card, answered_by, ordered, spread_match, verdict


@pytest.mark.parametrize(("expected", "output", "found"), [
    ("30 days", "no later than 30 calendar days after the charge", "30 calendar days"),
    ("30 days", "within 30 business or calendar days", "30 business or calendar days"),
    ("Pro plan", "the Pro annual plan includes it", "Pro annual plan"),
    ("30 days", "refunds take 30 days", None),               # literal: nothing to explain
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
    assert kind == "split"
    assert "'30 calendar days'" in why and "add this wording" in why and "contains_any failed" in why
    assert "split verdict" in _card(r, sample(["30 days"]))


def test_real_failures_come_first():
    split = record({"contains_any": FAIL, "token_f1": PASS}, "30 calendar days", sample_id="split")
    wrong = record({"contains_any": FAIL, "token_f1": FAIL}, "90 days", sample_id="wrong")
    broken = record({}, error="ModelError: timed out", sample_id="broken")
    samples = {"split": sample(["30 days"]), "wrong": sample(["30 days"]), "broken": sample(["30 days"])}
    assert [r.sample_id for r in ordered([split, wrong, broken], samples)] == ["wrong", "broken", "split"]
    assert verdict(wrong, samples["wrong"]) == ("failed", "no check passed: contains_any, token_f1")
    assert verdict(broken, samples["broken"])[1].startswith("the call failed: ModelError")


def test_a_split_verdict_without_a_wording_match_says_to_read_it():
    r = record({"contains_any": FAIL, "answered": PASS}, "refunds are possible within a month")
    kind, why = verdict(r, sample(["30 days"]))
    assert kind == "split" and why.endswith("read the output against the expected answer")


def test_the_card_names_the_stand_in_that_answered_not_only_the_model_it_stands_for():
    stand_in = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="local/keyword", basis="simulated")
    assert answered_by(stand_in) == "local/keyword (offline stand-in for openai/gpt-4.1-nano, simulated cost)"
    assert "answered by local/keyword (offline stand-in" in _card(stand_in, sample(["30 days"]))
    real = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="openai/gpt-4.1-nano")
    assert answered_by(real) == "openai/gpt-4.1-nano"
    fallback = record({"contains_any": FAIL}, model="openai/gpt-4.1-nano", by="anthropic/claude-haiku-4-5")
    assert answered_by(fallback) == "anthropic/claude-haiku-4-5 (fallback for openai/gpt-4.1-nano)"
