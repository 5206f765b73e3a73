"""Every figure the notebooks show has a title, human axis labels, a legend clear of the data, labels that neither
overlap nor get cut off, and each tier in its own colour (``workbench.testing.figure_audit``).

The test settings (``conftest.py``) install the audit in every notebook kernel of the session; this module sorts
after the notebooks, so it reads what they recorded. Run alone (no notebook ran before it), it skips.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

NOTEBOOKS_WITH_FIGURES = {"00_model_layer.ipynb", "01_build_evalset.ipynb", "02_compare_chunking.ipynb",
                          "03_prompt_variants_across_tiers.ipynb", "04_cost_estimation.ipynb",
                          "06_monitoring.ipynb"}


def test_every_notebook_figure_is_readable():
    """No figure any notebook showed in this session has a problem the audit names."""
    audit = Path(os.environ.get("WORKBENCH_FIGURE_AUDIT", "/nonexistent"))
    if not audit.exists():
        pytest.skip("no notebook ran in this session: run `pytest notebooks` (the figure audit runs after them)")
    records = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines() if line.strip()]
    problems = [f"{r['source']} {r['titles'][:1]}: {p}" for r in records for p in r["problems"]]
    assert not problems, "\n".join(problems)
    ran = {r["source"] for r in records}
    if ran >= NOTEBOOKS_WITH_FIGURES:  # a whole run: every plot of the six notebooks was seen
        assert len(records) >= 15, [r["titles"] for r in records]
