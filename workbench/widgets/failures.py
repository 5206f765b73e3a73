"""Browse an experiment's failures: variant -> each failed cell with its question, expected answer, output, scores
and a verdict in words.

Failures come in two kinds, shown in this order: **failed** (the answer looks wrong, or the call failed) and
**worded apart** (every word of an expected answer is in the output, in order, but not as written: "30 calendar
days" for "30 days", "10-year" for "10 years"). A worded-apart cell is likely a right answer that a literal check
scored wrong: the verdict says so, and that the fix belongs in the eval set (add the wording to the sample's expected
answers), not in the prompt.
"""
from __future__ import annotations

import html
import re
from typing import Any

from .._util.lexical import stem

_WORDS = re.compile(r"\w+")
SLACK = 3
"""Extra words an in-order match of an expected answer may span (``30 calendar days`` for ``30 days``)."""


def _norm(word: str) -> str:
    """Lower case, through the project's light stemmer (``years`` ~ ``year``)."""
    return stem(word.lower())


def spread_match(expected: str, output: str, slack: int = SLACK) -> str | None:
    """The stretch of ``output`` holding every word of ``expected`` in order (inflections aside), within
    ``slack`` extra words, when ``expected`` is not in it as written (else ``None``: absent, or a literal match)."""
    want = [_norm(w) for w in _WORDS.findall(expected)]
    if not want or expected.strip().lower() in output.lower():
        return None
    words = list(_WORDS.finditer(output))
    have = [_norm(m.group()) for m in words]
    for start, word in enumerate(have):
        if word != want[0]:
            continue
        k, end = 1, start
        for j in range(start + 1, min(len(have), start + len(want) + slack)):
            if k < len(want) and have[j] == want[k]:
                k, end = k + 1, j
        if k == len(want):
            return output[words[start].start():words[end].end()]
    return None


def verdict(record: Any, sample: Any) -> tuple[str, str]:
    """``("failed" | "worded apart", a sentence)``: why the cell did not pass, in words."""
    if record.error:
        return "failed", f"the call failed: {record.error}"
    passed = [k for k, v in record.scores.items() if v.get("passed") is True]
    failed = [k for k, v in record.scores.items() if v.get("passed") is False]
    checks = ", ".join(failed) + " failed"  # not the passed ones: a reported score (token_f1 at threshold 0) always passes
    for answer in (sample.expected if sample else []):
        stretch = spread_match(answer, record.output or "")
        if stretch:
            return "worded apart", (f"{checks}, but every word of the expected {answer!r} is in the output, in order "
                                    f"({stretch!r}), though not as written: likely a right answer worded differently; "
                                    "if so, add this wording to the sample's expected answers")
    if not passed:
        return "failed", f"no check passed: {', '.join(failed)}"
    return "failed", f"{checks}: the expected answer is not in the output"


def ordered(failed: list[Any], samples: dict[str, Any]) -> list[Any]:
    """Answers that look wrong first, then the ones worded apart; the run's order within each."""
    return sorted(failed, key=lambda r: verdict(r, samples.get(r.sample_id))[0] != "failed")


def answered_by(record: Any) -> str:
    """Who wrote the output: the tier's model, a fallback model, or the offline stand-in that answered in its place
    (never the real model's name alone when a stand-in answered)."""
    by, model = getattr(record, "answered_by", None), record.model
    if not by or not model or by == model:
        return str(by or model)
    if record.cost_basis in ("simulated", "offline"):
        return f"{by} (offline stand-in for {model}, {record.cost_basis} cost)"
    return f"{by} (fallback for {model})"


def _card(record: Any, sample: Any) -> str:
    kind, why = verdict(record, sample)
    colour = "#b71c1c" if kind == "failed" else "#8a6d00"  # red: wrong; amber: likely right, worded apart
    scores = "".join(f"<li><code>{html.escape(k)}</code>: {v.get('value')} "
                     f"{'✓' if v.get('passed') else '✗' if v.get('passed') is False else '·'} "
                     f"<small>{html.escape(v.get('explanation') or '')}</small></li>" for k, v in record.scores.items())
    error = f"<p><b>error</b> <code>{html.escape(str(record.error))}</code></p>" if record.error else ""
    return (f"<p><b>{html.escape(record.sample_id)}</b> · {record.category} · tier {record.tier} · "
            f"answered by {html.escape(answered_by(record))}</p>"
            f"<p style='color:{colour}'><b>{kind}</b>: {html.escape(why)}</p>"
            f"<p><b>question</b> {html.escape(sample.inputs.question[:600] if sample else '?')}</p>"
            f"<p><b>expected</b> {html.escape(' | '.join(sample.expected) if sample else '?') or '<i>(a refusal)</i>'}</p>"
            f"<p><b>output</b> {html.escape(record.output or '')}</p>{error}<ul>{scores}</ul>")


def failure_browser(results: Any, evalset: Any, scorer: str | None = None) -> Any:
    """An ipywidgets view: pick a variant, step through the cells that did not pass (answers that look wrong first,
    then the ones worded apart, each with its verdict in words)."""
    import ipywidgets as w

    samples = {s.id: s for s in evalset}
    variant = w.Dropdown(options=results.variants, description="variant")
    index = w.IntSlider(min=0, max=0, description="failure")
    view, count = w.HTML(), w.HTML()

    def render(*_: Any) -> None:
        failed = ordered(results.failures(variant.value, scorer), samples)
        apart = sum(verdict(r, samples.get(r.sample_id))[0] == "worded apart" for r in failed)
        index.max = max(0, len(failed) - 1)
        count.value = (f"<b>{len(failed)}</b> cells did not pass: {len(failed) - apart} look wrong, {apart} hold the "
                       "expected words apart (likely right, worded differently; shown after)")
        view.value = _card(failed[index.value], samples.get(failed[index.value].sample_id)) if failed else ""

    variant.observe(lambda *_: (setattr(index, "value", 0), render()), names="value")
    index.observe(render, names="value")
    render()
    return w.VBox([w.HBox([variant, index]), count, view])
