"""Chunk views: a document with its chunk boundaries highlighted, and an explorer to try strategies."""
from __future__ import annotations

import html
from typing import Any

from ..chunking.base import Chunk

_COLOURS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#fce4ec", "#ede7f6", "#f1f8e9")


def highlight(text: str, chunks: list[Chunk], *, limit_chars: int = 20_000) -> str:
    """HTML of ``text`` with each chunk on its own background colour; overlaps shown darker, gaps plain."""
    depth = [0] * min(len(text), limit_chars)
    owner = [-1] * len(depth)
    for i, c in enumerate(chunks):
        for pos in range(c.start, min(c.end, len(depth))):
            depth[pos] += 1
            owner[pos] = i
    parts, pos = [], 0
    while pos < len(depth):
        end = pos
        while end < len(depth) and (owner[end], depth[end]) == (owner[pos], depth[pos]):
            end += 1
        piece = html.escape(text[pos:end])
        if owner[pos] < 0:
            parts.append(piece)
        else:
            c = chunks[owner[pos]]
            style = f"background:{_COLOURS[owner[pos] % len(_COLOURS)]}"
            style += ";outline:1px solid #e65100" if depth[pos] > 1 else ""
            parts.append(f"<span style='{style}' title='chunk {owner[pos]}: {c.tokens} tokens · "
                         f"{html.escape(' › '.join(c.section))}'>{piece}</span>")
        pos = end
    more = f"<p><i>… {len(text) - limit_chars:,} more characters</i></p>" if len(text) > limit_chars else ""
    return (f"<div style='white-space:pre-wrap;font-family:monospace;font-size:12px;max-height:480px;"
            f"overflow:auto;border:1px solid #ddd;padding:6px'>{''.join(parts)}</div>{more}")


def chunk_explorer(documents: dict[str, str], strategies: list[str] | None = None, model: str | None = None
                   ) -> Any:
    """An ipywidgets form: document, strategy, max tokens, overlap -> the document with chunk boundaries."""
    import ipywidgets as w

    from ..chunking.spec import make_chunker, registry
    from ..errors import WorkbenchError

    doc = w.Dropdown(options=sorted(documents), description="document")
    strategy = w.Dropdown(options=strategies or sorted(registry()), value="structure", description="strategy")
    max_tokens = w.IntSlider(value=256, min=32, max=1024, step=32, description="max tokens")
    overlap = w.IntSlider(value=0, min=0, max=128, step=8, description="overlap")
    summary, view = w.HTML(), w.HTML()

    def render(*_: Any) -> None:
        try:
            chunker = make_chunker(strategy.value, max_tokens=max_tokens.value,
                                   overlap=min(overlap.value, max_tokens.value - 1), model=model)
            chunks = chunker.chunk(documents[doc.value], source=doc.value)
        except WorkbenchError as e:
            summary.value, view.value = f"<b style='color:#b71c1c'>{html.escape(str(e))}</b>", ""
            return
        sizes = [c.tokens for c in chunks]
        summary.value = (f"<b>{len(chunks)}</b> chunks · tokens min {min(sizes, default=0)} / "
                         f"max {max(sizes, default=0)} / mean {sum(sizes) / max(len(sizes), 1):.0f}")
        view.value = highlight(documents[doc.value], chunks)

    for control in (doc, strategy, max_tokens, overlap):
        control.observe(render, names="value")
    render()
    return w.VBox([w.HBox([doc, strategy]), w.HBox([max_tokens, overlap]), summary, view])
