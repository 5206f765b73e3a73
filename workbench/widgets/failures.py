"""Browse an experiment's failures: variant -> each failed cell with its question, expected answer, output and
scores."""
from __future__ import annotations

import html
from typing import Any


def _card(record: Any, sample: Any) -> str:
    scores = "".join(f"<li><code>{html.escape(k)}</code>: {v.get('value')} "
                     f"{'✓' if v.get('passed') else '✗' if v.get('passed') is False else '·'} "
                     f"<small>{html.escape(v.get('explanation') or '')}</small></li>" for k, v in record.scores.items())
    error = f"<p><b>error</b> <code>{html.escape(str(record.error))}</code></p>" if record.error else ""
    return (f"<p><b>{html.escape(record.sample_id)}</b> · {record.category} · tier {record.tier} · "
            f"{html.escape(str(record.model))}</p>"
            f"<p><b>question</b> {html.escape(sample.inputs.question[:600] if sample else '?')}</p>"
            f"<p><b>expected</b> {html.escape(' | '.join(sample.expected) if sample else '?') or '<i>(a refusal)</i>'}</p>"
            f"<p><b>output</b> {html.escape(record.output or '')}</p>{error}<ul>{scores}</ul>")


def failure_browser(results: Any, evalset: Any, scorer: str | None = None) -> Any:
    """An ipywidgets view: pick a variant, step through the cells that did not pass."""
    import ipywidgets as w

    samples = {s.id: s for s in evalset}
    variant = w.Dropdown(options=results.variants, description="variant")
    index = w.IntSlider(min=0, max=0, description="failure")
    view, count = w.HTML(), w.HTML()

    def render(*_: Any) -> None:
        failed = results.failures(variant.value, scorer)
        index.max = max(0, len(failed) - 1)
        count.value = f"<b>{len(failed)}</b> cells did not pass"
        view.value = _card(failed[index.value], samples.get(failed[index.value].sample_id)) if failed else ""

    variant.observe(lambda *_: (setattr(index, "value", 0), render()), names="value")
    index.observe(render, names="value")
    render()
    return w.VBox([w.HBox([variant, index]), count, view])
