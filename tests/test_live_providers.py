"""Live provider tests: deselected by default; run with `pytest -m live` and OPENAI_API_KEY set."""
import os

import pytest

from workbench.models import complete

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not os.environ.get("OPENAI_API_KEY"), reason="needs OPENAI_API_KEY")]


def test_small_tier_calls_the_real_model(monkeypatch):
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    c = complete("Context:\nThe red door opened in 1972.\n\nQuestion: When did the red door open?", tier="small")
    assert c.model.startswith("openai/") and c.cost_basis == "provider" and c.cost_usd > 0
    assert "1972" in c.text
