"""Static HTML for the Jupyter widgets of an executed notebook, so a report renders them with no kernel and no
network.

A widget output in a notebook holds no picture of the widget: only a reference (``model_id``) to the widget's
state, which the executing client (nbclient, under papermill) saves in
``nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]`` — one entry per model id, each with
its ``model_name`` (``"VBoxModel"``, ``"HTMLModel"``...) and its ``state`` (``value``, ``description``,
``children`` as ``"IPY_MODEL_<id>"`` references...). nbconvert turns such an output into a ``<script>`` that loads
``@jupyter-widgets/html-manager`` from a CDN, so offline the widget shows as nothing.

``static_widgets(nb)`` returns a copy of the notebook where each widget output carries a ``text/html`` rendering
of that saved state instead (values as they were when the notebook ran, under a small caption saying so), the
widget-view data and the saved state are removed, and nbconvert therefore emits no widget script at all. Any model
it does not know shows as a grey ``[widget: <model_name>]`` note; missing models and reference cycles too — it
never raises on a malformed state.
"""
from __future__ import annotations

import copy
import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbformat import NotebookNode

VIEW_MIME = "application/vnd.jupyter.widget-view+json"
STATE_MIME = "application/vnd.jupyter.widget-state+json"
CAPTION = "Static snapshot of the widget as it was when the notebook was executed (interactive in JupyterLab)."
NO_STATE_CAPTION = ("Text form of the widget: its state was not saved with the notebook "
                    "(interactive in JupyterLab).")
MAX_DEPTH = 40
"""Nesting deeper than this is cut short with a note (a guard besides the cycle check)."""

Models = dict[str, dict[str, Any]]
"""Saved widget models by model id: ``{"model_name": ..., "state": {...}}``."""
Child = Callable[[Any], str]
"""Renders a child reference (``IPY_MODEL_<id>``) where a container needs it."""


def static_widgets(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` (nbformat v4) with every widget output rendered as static HTML and no widget state left."""
    out = copy.deepcopy(nb)
    models = saved_models(out)
    for cell in out.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if isinstance(data, dict) and VIEW_MIME in data:
                data["text/html"] = snapshot(data, models)
                del data[VIEW_MIME]
    out.get("metadata", {}).pop("widgets", None)  # its presence alone makes nbconvert emit the CDN loader
    return out


def saved_models(nb: Any) -> Models:
    """The saved widget models of a notebook by model id (empty when none were saved)."""
    widgets = nb.get("metadata", {}).get("widgets") or {}
    state = (widgets.get(STATE_MIME) or {}).get("state") or {}
    return {k: v for k, v in state.items() if isinstance(v, dict)} if isinstance(state, dict) else {}


def snapshot(data: dict[str, Any], models: Models) -> str:
    """The HTML for one widget output's ``data`` (its widget-view reference, its ``text/plain`` form)."""
    view = data.get(VIEW_MIME)
    model_id = str(view.get("model_id", "")) if isinstance(view, dict) else ""
    if model_id in models:
        body, caption = _render(model_id, models, ()), CAPTION
    else:
        plain = _text(data.get("text/plain", ""))
        body = f"<pre>{html.escape(plain)}</pre>" if plain else _note("widget")
        caption = NO_STATE_CAPTION
    return (f'<div class="wb-static-widget">{body}'
            f'<div style="color:#777;font-size:85%;margin-top:4px">{html.escape(caption)}</div></div>')


def _render(ref: Any, models: Models, ancestors: tuple[str, ...]) -> str:
    """One model (by id or ``IPY_MODEL_<id>`` reference) and, for containers, its children."""
    model_id = str(ref).removeprefix("IPY_MODEL_")
    model = models.get(model_id)
    if model is None:
        return _note(f"widget: missing model {model_id[:12]}")
    state = model.get("state") if isinstance(model.get("state"), dict) else {}
    name = str(model.get("model_name") or state.get("_model_name") or "unknown")
    if model_id in ancestors or len(ancestors) >= MAX_DEPTH:
        return _note(f"widget: {name} (contains itself)" if model_id in ancestors else f"widget: {name} (too deep)")
    if _hidden(state, models):
        return ""
    renderer = RENDERERS.get(name.removesuffix("Model"))
    if renderer is None:
        return _note(f"widget: {name}")
    try:
        return renderer(state, lambda child: _render(child, models, (*ancestors, model_id)))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):  # a state not shaped as expected
        return _note(f"widget: {name}")


def _note(text: str) -> str:
    return f'<span style="color:#888;font-size:85%">[{html.escape(text)}]</span>'


def _text(value: Any) -> str:
    return "".join(map(str, value)) if isinstance(value, list) else str(value)


def _hidden(state: dict[str, Any], models: Models) -> bool:
    """Whether the model's layout hides it (``display: none``)."""
    layout = models.get(str(state.get("layout", "")).removeprefix("IPY_MODEL_"), {}).get("state") or {}
    return isinstance(layout, dict) and layout.get("display") == "none"


def _described(state: dict[str, Any], body: str) -> str:
    """``body`` after the widget's description, if it has one."""
    desc = state.get("description") or ""
    label = f'<span style="margin-right:.5em">{html.escape(str(desc))}</span>' if desc else ""
    return f'<div style="margin:2px 0">{label}{body}</div>'


def _fmt(value: Any, fmt: Any) -> str:
    """A number with the widget's readout format (Python's format, which agrees on the common ``.2f``, ``d``...)."""
    try:
        return format(value, str(fmt)) if fmt else str(value)
    except (TypeError, ValueError):
        return str(value)


def _label(state: dict[str, Any], index: Any) -> str:
    """The option label at ``index`` of a selection widget; "—" for no selection."""
    labels = state.get("_options_labels") or []
    return str(labels[index]) if isinstance(index, int) and 0 <= index < len(labels) else "—"


def _html(state: dict[str, Any], child: Child) -> str:
    return _described(state, f"<div>{_text(state.get('value', ''))}</div>")


def _plain(state: dict[str, Any], child: Child) -> str:
    return _described(state, f"<span>{html.escape(_text(state.get('value', '')))}</span>")


def _textbox(state: dict[str, Any], child: Child) -> str:
    value = html.escape(_text(state.get("value", "")))
    return _described(state, f'<span style="border:1px solid #ccc;padding:1px 4px">{value or "&nbsp;"}</span>')


def _textarea(state: dict[str, Any], child: Child) -> str:
    value = html.escape(_text(state.get("value", "")))
    return _described(state, f'<pre style="border:1px solid #ccc;padding:2px 4px;margin:0">{value}</pre>')


def _password(state: dict[str, Any], child: Child) -> str:
    return _described(state, "<span>••••••</span>")


def _button(state: dict[str, Any], child: Child) -> str:
    return f"<button disabled>{html.escape(str(state.get('description') or ''))}</button>"


def _toggle(state: dict[str, Any], child: Child) -> str:
    on = "on" if state.get("value") else "off"
    return f"<button disabled>{html.escape(str(state.get('description') or ''))} ({on})</button>"


def _checkbox(state: dict[str, Any], child: Child) -> str:
    checked = " checked" if state.get("value") else ""
    return _described(state, f"<input type='checkbox' disabled{checked}>")


def _valid(state: dict[str, Any], child: Child) -> str:
    return _described(state, "<span>✓</span>" if state.get("value") else "<span>✗</span>")


def _slider(state: dict[str, Any], child: Child) -> str:
    value, fmt = state.get("value"), state.get("readout_format")
    shown = " – ".join(_fmt(v, fmt) for v in value) if isinstance(value, list | tuple) else _fmt(value, fmt)
    return _described(state, f"<b>{html.escape(shown)}</b>")


def _progress(state: dict[str, Any], child: Child) -> str:
    value, top = state.get("value", 0), state.get("max", 100)
    return _described(state, f"<progress value='{html.escape(str(value))}' max='{html.escape(str(top))}'></progress>"
                              f" {html.escape(str(value))} / {html.escape(str(top))}")


def _selection(state: dict[str, Any], child: Child) -> str:
    index = state.get("index")
    labels = [_label(state, i) for i in index] if isinstance(index, list | tuple) else [_label(state, index)]
    return _described(state, f"<b>{html.escape(', '.join(labels) or '—')}</b>")


def _box(direction: str) -> Callable[[dict[str, Any], Child], str]:
    def render(state: dict[str, Any], child: Child) -> str:
        wrap = "wrap" if direction == "row" else "nowrap"
        inner = "".join(f"<div>{child(c)}</div>" for c in state.get("children") or [])
        return f'<div style="display:flex;flex-direction:{direction};flex-wrap:{wrap};gap:4px 12px">{inner}</div>'

    return render


def _titles(state: dict[str, Any], count: int) -> list[str]:
    """Tab/accordion titles: ``titles`` (ipywidgets 8) or ``_titles`` (7, keyed by position)."""
    titles = state.get("titles")
    if isinstance(titles, list | tuple):
        found = [str(t or "") for t in titles]
    else:
        old = state.get("_titles") if isinstance(state.get("_titles"), dict) else {}
        found = [str(old.get(str(i), "")) for i in range(count)]
    return [t or f"#{i + 1}" for i, t in enumerate((found + [""] * count)[:count])]


def _tabs(state: dict[str, Any], child: Child) -> str:
    children = list(state.get("children") or [])
    selected = state.get("selected_index")
    parts = []
    for i, (title, ref) in enumerate(zip(_titles(state, len(children)), children, strict=True)):
        mark = " (selected)" if i == selected else ""
        parts.append(f'<div style="font-weight:bold;border-bottom:1px solid #ccc;margin-top:6px">'
                     f"{html.escape(title)}{mark}</div><div>{child(ref)}</div>")
    return f"<div>{''.join(parts)}</div>"


def _stack(state: dict[str, Any], child: Child) -> str:
    children, selected = list(state.get("children") or []), state.get("selected_index")
    return child(children[selected]) if isinstance(selected, int) and 0 <= selected < len(children) else ""


def _output(state: dict[str, Any], child: Child) -> str:
    return "".join(_one_output(o, child) for o in state.get("outputs") or [] if isinstance(o, dict))


def _one_output(output: dict[str, Any], child: Child) -> str:
    """One captured output of an Output widget: a stream, an error or a display."""
    kind = output.get("output_type")
    if kind == "stream":
        colour = "background:#fdd;" if output.get("name") == "stderr" else ""
        return f'<pre style="{colour}margin:0">{html.escape(_text(output.get("text", "")))}</pre>'
    if kind == "error":
        error = f"{output.get('ename')}: {output.get('evalue')}"
        return f"<pre style='background:#fdd;margin:0'>{html.escape(error)}</pre>"
    return _display_data(output.get("data") or {}, child)


def _display_data(data: dict[str, Any], child: Child) -> str:
    """A display's richest form we can show statically: a nested widget, HTML, an image, else its text."""
    if VIEW_MIME in data:
        return child(data[VIEW_MIME].get("model_id", ""))
    if "text/html" in data:
        return f"<div>{_text(data['text/html'])}</div>"
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            return f'<img src="data:{mime};base64,{_text(data[mime]).strip()}">'
    if "image/svg+xml" in data:
        return f"<div>{_text(data['image/svg+xml'])}</div>"
    return f"<pre style='margin:0'>{html.escape(_text(data.get('text/plain', '')))}</pre>" if data else ""


RENDERERS: dict[str, Callable[[dict[str, Any], Child], str]] = {
    "HTML": _html, "HTMLMath": _html, "Label": _plain,
    "Text": _textbox, "Combobox": _textbox, "Textarea": _textarea, "Password": _password,
    "IntText": _slider, "FloatText": _slider, "BoundedIntText": _slider, "BoundedFloatText": _slider,
    "IntSlider": _slider, "FloatSlider": _slider, "FloatLogSlider": _slider,
    "IntRangeSlider": _slider, "FloatRangeSlider": _slider,
    "SelectionSlider": _selection, "SelectionRangeSlider": _selection,
    "IntProgress": _progress, "FloatProgress": _progress,
    "Button": _button, "ToggleButton": _toggle, "Checkbox": _checkbox, "Valid": _valid,
    "Dropdown": _selection, "Select": _selection, "RadioButtons": _selection, "ToggleButtons": _selection,
    "SelectMultiple": _selection,
    "VBox": _box("column"), "HBox": _box("row"), "Box": _box("row"), "GridBox": _box("row"),
    "Tab": _tabs, "Accordion": _tabs, "Stack": _stack,
    "Output": _output,
}
"""Model name without its ``Model`` suffix -> ``renderer(state, child)``."""
