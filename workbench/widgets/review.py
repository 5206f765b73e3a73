"""The review form: one drafted candidate at a time -> Accept / Edit+Accept / Reject, recorded as ReviewDecisions.

    form, decisions = review_form(candidates, documents, path=workspace("reviews", "mine.jsonl"))
    form            # in a notebook cell; each click appends a ReviewDecision to ``decisions`` (and saves)

Notebook-only (``lab`` extra): never imported by the runner or the model layer.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evalsets.drafting import Candidate, ReviewDecision, latest_decisions, save_reviews
from ..evalsets.evalset import CATEGORIES


def sentence_in_context(document: str, sentence: str, answer: str = "", context_chars: int = 300) -> str:
    """HTML: the sentence highlighted with ``context_chars`` of the document either side (answer in bold)."""
    at = document.find(sentence) if sentence else -1
    if at < 0:
        return (f"<i style='color:#b71c1c'>sentence not found in the document</i><br>"
                f"<code>{html.escape(sentence[:500])}</code>")
    before = document[max(0, at - context_chars):at]
    after = document[at + len(sentence):at + len(sentence) + context_chars]
    marked = html.escape(sentence)
    if answer and answer in sentence:
        marked = marked.replace(html.escape(answer), f"<b>{html.escape(answer)}</b>", 1)
    return (f"<div style='white-space:pre-wrap;font-family:monospace;font-size:12px;max-height:220px;"
            f"overflow:auto;border:1px solid #ddd;padding:6px'>…{html.escape(before)}"
            f"<mark>{marked}</mark>{html.escape(after)}…</div>")


def review_form(candidates: Sequence[Candidate], documents: Mapping[str, str],
                decisions: list[ReviewDecision] | None = None, path: str | Path | None = None
                ) -> tuple[Any, list[ReviewDecision]]:
    """An ipywidgets form over ``candidates``; returns ``(widget, decisions)``.

    Clicks append to ``decisions`` (the list passed in, or a new one); with ``path`` the whole list is saved as
    JSONL after every click. The form opens at the first candidate without a decision.
    """
    import ipywidgets as w

    decisions = decisions if decisions is not None else []
    state = {"i": next((i for i, c in enumerate(candidates) if c.id not in latest_decisions(decisions)), 0)}
    progress, header, evidence, confirmation = w.HTML(), w.HTML(), w.HTML(), w.HTML()
    question = w.Textarea(description="question", layout=w.Layout(width="95%", height="60px"))
    expected = w.Text(description="expected", placeholder="answers separated by ' | '",
                      layout=w.Layout(width="95%"))
    category = w.Dropdown(options=list(CATEGORIES), value="normal", description="category")
    buttons = {name: w.Button(description=name, button_style=style) for name, style in
               (("Accept", "success"), ("Edit+Accept", "info"), ("Reject", "danger"), ("Back", ""), ("Next", ""))}

    def show() -> None:
        done = latest_decisions(decisions)
        if not candidates:
            progress.value = "<b>no candidates</b>"
            return
        c = candidates[state["i"]]
        d = done.get(c.id)
        progress.value = (f"<b>{state['i'] + 1}/{len(candidates)}</b> · {len(done)} decided"
                          + (f" · this one: <b>{d.action}</b>" if d else ""))
        colour = {"ok": "#1b5e20", "unverified": "#e65100", "failed": "#b71c1c"}[c.status]
        header.value = (f"<code>{html.escape(c.id)}</code> from <code>{html.escape(c.doc_id)}</code> · "
                        f"<span style='color:{colour}'>{c.status}</span>"
                        + (f" — {html.escape(c.error)}" if c.error else ""))
        question.value = d.question if d and d.question else c.question
        expected.value = " | ".join(d.expected) if d and d.expected else c.answer
        category.value = d.category if d else "normal"
        evidence.value = sentence_in_context(documents.get(c.doc_id, ""), c.sentence, c.answer)

    def decide(action: str) -> None:
        if not candidates:
            return
        c = candidates[state["i"]]
        edited = action == "edit"
        answers = [a.strip() for a in expected.value.split("|") if a.strip()] if edited else []
        decisions.append(ReviewDecision(candidate_id=c.id, action=action, category=category.value,
                                        question=question.value.strip() if edited else "", expected=answers))
        where = ""
        if path:
            save_reviews(path, decisions)
            where = f" to <code>{html.escape(Path(path).name)}</code>"
        verb = {"accept": "accepted", "edit": "edited and accepted", "reject": "rejected"}[action]
        confirmation.value = (f"<span style='color:#1b5e20'>✓ {verb} <code>{html.escape(c.id)}</code> "
                              f"({len(decisions)} decision(s) saved{where})</span>")
        move(1)

    def move(step: int) -> None:
        state["i"] = min(max(state["i"] + step, 0), max(len(candidates) - 1, 0))
        show()

    buttons["Accept"].on_click(lambda _: decide("accept"))
    buttons["Edit+Accept"].on_click(lambda _: decide("edit"))
    buttons["Reject"].on_click(lambda _: decide("reject"))
    buttons["Back"].on_click(lambda _: move(-1))
    buttons["Next"].on_click(lambda _: move(1))
    show()
    form = w.VBox([progress, header, evidence, question, expected, category, w.HBox(list(buttons.values())),
                   confirmation])
    form.confirmation = confirmation
    return form, decisions
