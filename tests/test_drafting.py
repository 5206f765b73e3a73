"""Drafting candidates, tolerating bad drafter replies, applying reviews, review files, coverage."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import workbench.models
from workbench.errors import DataError, RateLimitedError
from workbench.evalsets.drafting import (
    Candidate,
    ReviewDecision,
    apply_reviews,
    coverage,
    draft_candidates,
    load_reviews,
    parse_drafts,
    save_reviews,
)
from workbench.evalsets.evalset import EvalSet

ROOT = Path(__file__).resolve().parent.parent
DOCS = {name: (ROOT / "corpus" / name).read_text(encoding="utf-8") for name in ("refund-policy.md", "webhooks.md")}
REVIEW_FILE = ROOT / "notebooks" / "reviews" / "01_review_decisions.jsonl"


class FakeCompletion:
    def __init__(self, text: str):
        self.text = text


def fake_complete(replies: list[str]):
    calls = iter(replies)

    def complete(messages, **kw):
        reply = next(calls)
        if isinstance(reply, Exception):
            raise reply
        return FakeCompletion(reply)

    return complete


@pytest.fixture(scope="module")
def drafted() -> list[Candidate]:
    return draft_candidates(DOCS, n_per_doc=3)


def test_offline_drafter_drafts_verified_candidates(drafted):
    assert len(drafted) == 6 and {c.doc_id for c in drafted} == set(DOCS)
    for c in drafted:
        assert c.question and c.status in ("ok", "unverified")
        assert c.verified == (c.answer in DOCS[c.doc_id] and c.sentence in DOCS[c.doc_id])
        assert c.verified == (c.error is None)
    assert sum(c.verified for c in drafted) >= 4
    assert any(not c.verified for c in drafted)  # webhooks.md: a JSON line the drafter cannot quote verbatim


def test_drafting_is_deterministic(drafted):
    assert [c.id for c in draft_candidates(DOCS, n_per_doc=3)] == [c.id for c in drafted]


def test_candidate_ids_match_the_shipped_review_file(drafted):
    ids = {d.candidate_id for d in load_reviews(REVIEW_FILE)}
    assert {c.id for c in drafted if c.doc_id == "refund-policy.md"} <= ids


@pytest.mark.parametrize("reply, reason", [
    ("Sure! Here are some questions: 1. What is the refund window?", "malformed drafter reply"),
    ('[{"question": "What is the refund window?"', "malformed drafter reply"),
    ('{"answer": 1}', "malformed drafter reply"),
    ("[]", "no questions"),
])
def test_malformed_replies_become_failed_candidates(monkeypatch, reply, reason):
    monkeypatch.setattr(workbench.models, "complete", fake_complete([reply]))
    (c,) = draft_candidates({"refund-policy.md": DOCS["refund-policy.md"]})
    assert c.status == "failed" and reason in c.error and c.doc_id == "refund-policy.md"


def test_bad_items_fail_alone_and_unverified_answers_are_flagged(monkeypatch):
    reply = json.dumps({"questions": [
        {"question": "How long is the refund window?", "answer": "30 days",
         "sentence": "Refunds are available within 30 days of the charge."},
        {"answer": "no question here"},
        "just a string",
        {"question": "Is it free?", "answer": "365 days", "sentence": "Refunds are forever."},
    ]})
    monkeypatch.setattr(workbench.models, "complete", fake_complete([reply]))
    out = draft_candidates({"refund-policy.md": DOCS["refund-policy.md"]}, n_per_doc=4)
    assert [c.status for c in out] == ["ok", "failed", "failed", "unverified"]
    assert out[3].error == "answer and sentence not found verbatim in the document"


def test_a_failing_model_call_is_recorded_and_other_documents_still_drafted(monkeypatch):
    good = json.dumps([{"question": "How long must an endpoint take?", "answer": "10 seconds",
                        "sentence": "x"}])
    monkeypatch.setattr(workbench.models, "complete", fake_complete([RateLimitedError("slow down"), good]))
    out = draft_candidates(DOCS)
    assert out[0].status == "failed" and "model call failed" in out[0].error
    assert out[1].doc_id == "webhooks.md" and out[1].question


def test_fenced_json_is_accepted():
    reply = '```json\n[{"question": "Q?", "answer": "30 days", "sentence": "Refunds are available within 30 days of the charge."}]\n```'
    (c,) = parse_drafts("refund-policy.md", DOCS["refund-policy.md"], reply)
    assert c.status == "ok"


def candidate(cid: str, answer: str = "30 days") -> Candidate:
    return Candidate(cid, "refund-policy.md", f"question {cid}?", answer,
                     "Refunds are available within 30 days of the charge.", True)


def test_apply_reviews_accept_edit_reject():
    docs = {**DOCS, "other.md": "Nothing.", "third.md": "Nothing either."}
    cands = [candidate("a"), candidate("b"), candidate("c"), candidate("d")]
    decisions = [
        ReviewDecision(candidate_id="a", action="accept"),
        ReviewDecision(candidate_id="b", action="edit", question="Refund window?", expected=["30 days", "30"],
                       category="edge"),
        ReviewDecision(candidate_id="c", action="reject"),
        ReviewDecision(candidate_id="d", action="accept"),
        ReviewDecision(candidate_id="d", action="reject", note="changed my mind"),  # the last decision wins
    ]
    samples = apply_reviews(cands, decisions, docs)
    assert [s.id for s in samples] == ["draft-a", "draft-b"]
    a, b = samples
    assert a.inputs.question == "question a?" and a.expected == ["30 days"] and a.category == "normal"
    assert b.inputs.question == "Refund window?" and b.expected == ["30 days", "30"] and b.category == "edge"
    assert a.metadata["verified"] and a.metadata["review"] == "accept"
    assert len(a.inputs.documents) == 3 and a.inputs.documents[0].id == "refund-policy.md"
    assert [c.scorer for c in a.criteria] == ["contains_any"]


def test_apply_reviews_unanswerable_and_unverified_edits():
    cands = [candidate("a"), candidate("b")]
    decisions = [ReviewDecision(candidate_id="a", action="edit", question="Who is the CEO?", category="unanswerable"),
                 ReviewDecision(candidate_id="b", action="edit", expected=["forty days"])]
    u, b = apply_reviews(cands, decisions, DOCS)
    assert u.expected == [] and [c.scorer for c in u.criteria] == ["refusal"]
    assert b.metadata["verified"] is False


def test_apply_reviews_rejects_unknown_candidates_unless_lenient():
    decisions = [ReviewDecision(candidate_id="ghost", action="accept")]
    with pytest.raises(DataError, match="unknown candidates"):
        apply_reviews([candidate("a")], decisions, DOCS)
    assert apply_reviews([candidate("a")], decisions, DOCS, strict=False) == []


def test_an_edit_that_makes_an_invalid_sample_is_a_data_error():
    decisions = [ReviewDecision(candidate_id="a", action="edit", expected=[])]
    cands = [Candidate("a", "refund-policy.md", "q?", "", "", False, "x")]
    with pytest.raises(DataError, match="invalid sample"):
        apply_reviews(cands, decisions, DOCS)


def test_review_file_round_trip(tmp_path):
    decisions = [ReviewDecision(candidate_id="a", action="accept"),
                 ReviewDecision(candidate_id="b", action="edit", question="¿Cuánto?", expected=["30 días"],
                                category="edge", note="ñ")]
    path = save_reviews(tmp_path / "r" / "decisions.jsonl", decisions)
    assert load_reviews(path) == decisions


def test_a_bad_review_line_names_the_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"candidate_id": "a", "action": "accept"}\n{"candidate_id": "b", "action": "maybe"}\n')
    with pytest.raises(DataError) as info:
        load_reviews(path)
    assert info.value.line == 2 and info.value.field == "action"


def test_shipped_review_file_applies_to_the_offline_drafts():
    from workbench.evalsets.drafting import latest_decisions

    decisions = load_reviews(REVIEW_FILE)
    actions = {d.action for d in decisions}
    assert actions == {"accept", "edit", "reject"} and len(latest_decisions(decisions)) == len(decisions)


def test_coverage_counts_categories_and_tags():
    es = EvalSet.from_records([
        {"id": "1", "inputs": {"question": "q"}, "expected": ["a"], "tags": ["x", "doc:d.md"]},
        {"id": "2", "inputs": {"question": "q"}, "expected": [], "category": "unanswerable", "tags": ["x"]}])
    cov = coverage(es, targets={"normal": 1, "edge": 1})
    rows = {(k, n): (c, t, m) for k, n, c, t, m in zip(cov["kind"], cov["name"], cov["count"], cov["target"],
                                                         cov["met"], strict=True)}
    assert rows[("category", "normal")] == (1, 1, True)
    assert rows[("category", "edge")] == (0, 1, False)
    assert rows[("category", "unanswerable")] == (1, None, None)
    assert rows[("tag", "x")] == (2, None, None) and ("tag", "doc:d.md") not in rows
    assert len({len(v) for v in cov.values()}) == 1  # DataFrame-ready


def test_review_form_records_decisions(tmp_path):
    pytest.importorskip("ipywidgets")
    from workbench.widgets.review import review_form

    cands = [candidate("a"), candidate("b"), candidate("c")]
    path = tmp_path / "decisions.jsonl"
    form, decisions = review_form(cands, DOCS, path=path)
    progress, buttons = form.children[0], {b.description: b for b in form.children[-2].children}
    assert "1/3" in progress.value and form.confirmation.value == ""
    buttons["Accept"].click()
    assert "✓ accepted <code>a</code> (1 decision(s) saved to <code>decisions.jsonl</code>)" in form.confirmation.value
    form.children[3].value = "Edited question?"
    form.children[4].value = "30 days | 30"
    buttons["Edit+Accept"].click()
    buttons["Reject"].click()
    assert "✓ rejected <code>c</code> (3 decision(s) saved" in form.confirmation.value  # every click confirmed
    assert [d.action for d in decisions] == ["accept", "edit", "reject"]
    assert decisions[1].question == "Edited question?" and decisions[1].expected == ["30 days", "30"]
    assert load_reviews(path) == decisions
    assert "3/3" in progress.value and "reject" in progress.value  # the last one stays in view
    buttons["Back"].click()
    assert "2/3" in progress.value and form.children[3].value == "Edited question?"
