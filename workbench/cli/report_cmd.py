"""``workbench report SPEC.yaml --out report.html``: execute notebook 03 with the spec as its parameters
(papermill) and render it to HTML (nbconvert), tables and plots included, to share and archive a run. Widgets
appear as static snapshots of their state when the notebook ran (``static_widgets``): no widget script from a CDN."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

NOTEBOOK = "notebooks/03_prompt_variants_across_tiers.ipynb"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="run notebook 03 on a spec and render it to HTML")
    p.add_argument("spec", help="an experiment spec YAML")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--run-dir", help="the run folder (default: the spec's default under $WORKBENCH_HOME/runs)")
    p.add_argument("--notebook", help=f"the report notebook (default: {NOTEBOOK} of the project)")
    p.set_defaults(run=run)


def _notebook(arg: str | None) -> Path:
    from .._util.paths import project_root
    from ..errors import UsageError

    path = Path(arg) if arg else (project_root() or Path.cwd()) / NOTEBOOK
    if not path.exists():
        raise UsageError(f"report notebook not found: {path}", hint="run from the project folder or pass --notebook")
    return path


OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
"""nbconvert's lab page without the scripts it loads from cdnjs (require.js, MathJax, Mermaid): the report is one
self-contained file (the notebooks hold no LaTeX or Mermaid that would need them)."""


def offline_exporter(exporter_class: type) -> Any:
    """An nbconvert ``HTMLExporter`` whose page loads nothing from the network."""
    import jinja2

    return exporter_class(extra_loaders=[jinja2.DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})],
                          template_file="offline.html.j2")


def run(args: argparse.Namespace) -> int:
    from .._util.paths import workspace
    from ..errors import UsageError
    from ..experiments import ExperimentSpec

    ExperimentSpec.load(args.spec)  # a malformed spec fails here, naming the field, before a kernel starts
    notebook = _notebook(args.notebook)
    try:
        import nbformat
        import papermill
        from nbconvert import HTMLExporter
    except ImportError as e:
        raise UsageError(f"reports need the notebook stack ({e.name} is missing)",
                         hint="uv pip install -e '.[lab]'") from None
    executed = workspace("reports", Path(args.out).stem + ".ipynb")
    # the kernel runs in the notebook's folder: hand it this workspace, so it finds the runs already made here
    os.environ["WORKBENCH_HOME"] = str(workspace())
    from ..models.credentials import offline_mode

    params = {"SPEC": str(Path(args.spec).resolve()), "OUT": str(Path(args.run_dir).resolve()) if args.run_dir else None,
              "OFFLINE": offline_mode()}
    try:
        # store_widget_state (nbclient's default, made explicit): the widgets' state is what the static rendering shows
        papermill.execute_notebook(str(notebook), str(executed), parameters=params, cwd=str(notebook.parent),
                                   kernel_name="python3", progress_bar=False, store_widget_state=True)
    except papermill.PapermillExecutionError as e:
        print(f"error: the report notebook failed in cell {e.exec_count}: {e.ename}: {e.evalue}", file=sys.stderr)
        return 1
    from .static_widgets import static_widgets

    # widgets as static HTML of their saved state: nbconvert would load their JavaScript from a CDN
    body, _ = offline_exporter(HTMLExporter).from_notebook_node(static_widgets(nbformat.read(executed, as_version=4)))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(body, encoding="utf-8")
    print(f"report written to {args.out} (executed notebook: {executed})", file=sys.stderr)
    return 0
