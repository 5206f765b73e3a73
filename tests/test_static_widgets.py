"""Widgets rendered as static HTML of their saved state (workbench.cli.static_widgets), for offline reports."""
import copy

import nbformat
import pytest

from workbench.cli.static_widgets import CAPTION, NO_STATE_CAPTION, STATE_MIME, VIEW_MIME, static_widgets

CDN_MARKERS = ("jsdelivr", "unpkg", "html-manager", "embed-amd")


def _model(name, **state):
    return {"model_name": f"{name}Model", "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
            "state": {"_model_name": f"{name}Model", **state}}


def _ref(model_id):
    return f"IPY_MODEL_{model_id}"


def _view(model_id, plain="VBox(children=(...))"):
    return nbformat.v4.new_output("display_data", data={
        VIEW_MIME: {"model_id": model_id, "version_major": 2, "version_minor": 0}, "text/plain": plain})


STATE = {
    "top": _model("VBox", children=[_ref("row"), _ref("html"), _ref("out"), _ref("odd"), _ref("nope"), _ref("loop"),
                                     _ref("tabs"), _ref("gone")]),
    "row": _model("HBox", children=[_ref("go"), _ref("n"), _ref("lr"), _ref("span"), _ref("pick"), _ref("box")]),
    "go": _model("Button", description="run it"),
    "n": _model("IntSlider", description="failure", value=3, readout_format="d"),
    "lr": _model("FloatLogSlider", description="lr", value=100.0, base=10.0, min=0.0, max=4.0, readout_format=".3g"),
    "span": _model("IntRangeSlider", description="span", value=[2, 5], readout_format="d"),
    "pick": _model("Dropdown", description="variant", index=1, _options_labels=["small", "medium"]),
    "box": _model("Checkbox", description="strict", value=True),
    "html": _model("HTML", value="<b>12</b> cells did not pass"),
    "out": {"model_name": "OutputModel", "state": {"outputs": [
        {"output_type": "stream", "name": "stdout", "text": "printed <text>\n"},
        {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
         "metadata": {}},
        {"output_type": "display_data", "data": {"text/plain": "just text"}, "metadata": {}},
        {"output_type": "display_data", "data": {VIEW_MIME: {"model_id": "label"}}, "metadata": {}},
    ]}},
    "label": _model("Label", value="<script>alert(1)</script>"),
    "odd": _model("DatePicker", value=None),
    "loop": _model("VBox", children=[_ref("inner")]),
    "inner": _model("HBox", children=[_ref("loop")]),
    "tabs": _model("Tab", children=[_ref("t1"), _ref("t2")], titles=["first", "second"], selected_index=1),
    "t1": _model("Text", description="name", value="a & b"),
    "t2": _model("Textarea", value="line 1\nline 2"),
    "gone": _model("HTML", value="hidden text", layout=_ref("gone-layout")),
    "gone-layout": {"model_name": "LayoutModel", "state": {"display": "none"}},
}


def notebook(state=STATE, *outputs):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# a report"),
                nbformat.v4.new_code_cell("failure_browser()", outputs=list(outputs) or [_view("top")])]
    if state is not None:
        nb.metadata.widgets = {STATE_MIME: {"state": copy.deepcopy(state), "version_major": 2, "version_minor": 0}}
    return nb


def rendered(nb, cell=1, output=0):
    return static_widgets(nb).cells[cell].outputs[output].data


def test_a_widget_output_becomes_static_html_of_its_saved_state():
    data = rendered(notebook())
    assert VIEW_MIME not in data
    html = data["text/html"]
    assert CAPTION in html
    assert "display:flex;flex-direction:column" in html and "flex-direction:row" in html  # VBox holding an HBox
    assert "<b>12</b> cells did not pass" in html  # HTML: its value as HTML
    assert "<button disabled>run it</button>" in html
    assert "failure</span><b>3</b>" in html and "lr</span><b>100</b>" in html and "<b>2 – 5</b>" in html
    assert "variant</span><b>medium</b>" in html  # Dropdown: the label at `index`
    assert "checked" in html and "strict" in html
    assert "printed &lt;text&gt;" in html and 'src="data:image/png;base64,iVBORw0KGgo="' in html
    assert "<pre style='margin:0'>just text</pre>" in html  # text/plain only: escaped, in <pre>
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html  # a Label (nested in Output)
    assert "first" in html and "second (selected)" in html and "a &amp; b" in html and "line 1\nline 2" in html
    assert "hidden text" not in html  # layout display: none


def test_unknown_models_missing_references_and_cycles_give_notes_not_errors():
    html = rendered(notebook())["text/html"]
    assert "[widget: DatePickerModel]" in html
    assert "[widget: missing model nope]" in html
    assert "[widget: VBoxModel (contains itself)]" in html  # loop -> inner -> loop stops at the repeat
    self_ref = {"top": _model("VBox", children=[_ref("top")])}
    assert "(contains itself)" in rendered(notebook(self_ref))["text/html"]


def test_malformed_state_never_raises():
    bad = {"top": _model("VBox", children=[_ref("a"), _ref("b"), _ref("c"), _ref("d"), _ref("e")]),
           "a": _model("IntSlider", value="x", readout_format=".2f"),
           "b": _model("Tab", children=[_ref("a")], titles=None, _titles={"0": "old-style"}),
           "c": _model("Dropdown", index=7, _options_labels=["only"]),
           "d": {"model_name": "HBoxModel", "state": None},
           "e": _model("Output", outputs=["not a dict", {"output_type": "error", "ename": "E", "evalue": "v"}])}
    html = rendered(notebook(bad))["text/html"]
    assert "<b>x</b>" in html and "old-style" in html and "<b>—</b>" in html and "E: v" in html


def test_without_saved_state_the_text_form_is_shown_with_the_note():
    html = rendered(notebook(None, _view("top", plain="VBox(children=(<Dropdown>,))")))["text/html"]
    assert "<pre>VBox(children=(&lt;Dropdown&gt;,))</pre>" in html and NO_STATE_CAPTION in html
    bare = nbformat.v4.new_output("display_data", data={VIEW_MIME: {"model_id": "x"}})
    assert "[widget]" in rendered(notebook(None, bare))["text/html"]
    # a model id the saved state lacks: the same fallback
    assert "VBox(children=(...))" in rendered(notebook(STATE, _view("absent")))["text/html"]


def test_the_copy_drops_widget_state_and_leaves_the_rest_and_the_original_alone():
    plain = nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1)
    nb = notebook(STATE, _view("top"), plain)
    before = copy.deepcopy(nb)
    out = static_widgets(nb)
    assert nb == before
    assert "widgets" not in out.metadata
    assert out.cells[1].outputs[1] == plain and out.cells[0] == nb.cells[0]
    nbformat.validate(out)


def test_nbconvert_emits_no_widget_script_for_the_static_copy():
    exporter = pytest.importorskip("nbconvert").HTMLExporter
    original, _ = exporter().from_notebook_node(notebook())
    assert any(marker in original for marker in CDN_MARKERS)  # what the static copy avoids
    body, _ = exporter().from_notebook_node(static_widgets(notebook()))
    assert not [marker for marker in CDN_MARKERS if marker in body]
    assert "cells did not pass" in body and CAPTION in body and VIEW_MIME not in body
