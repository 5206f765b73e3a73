"""``Pipeline(config)(inputs) -> Result``: the one path that experiments score and production runs.

    from workbench.pipeline import Pipeline
    result = Pipeline(config)({"question": "...", "documents": [...]})
    result.status, result.output, result.cost_usd, result.cache

``records`` holds ``Status`` (the one set of status values), ``Result`` and ``Prepared``; ``pipeline`` the path.
"""
from .pipeline import Pipeline
from .records import Prepared, Result, Status

__all__ = ["Pipeline", "Prepared", "Result", "Status"]
