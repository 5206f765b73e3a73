"""Every field that counts in a config's hash is read by something (an attribute access or a key lookup): a setting nobody reads would change the hash
(and so the evidence's identity) without changing what runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

import workbench
from workbench.config import pipeline as variant
from workbench.config import production
from workbench.config.cache import CacheConfig

PACKAGE = Path(workbench.__file__).resolve().parent
RECORDS = [CacheConfig, variant.ContextConfig, variant.RoutingRule, variant.OutputValidation, variant.PipelineConfig,
           production.TrafficSplit, production.DegradationPolicy, production.EscalationRules,
           production.GateThresholds, production.LoggingSettings, production.Evidence, production.ProductionConfig]
READ_BY_VALIDATION = {("PipelineConfig", "schema_version"), ("ProductionConfig", "schema_version"),
                      ("ProductionConfig", "config_hash"), ("PipelineConfig", "prompt_hash")}
"""Fields whose reader is the loader itself (schema version and hash checks)."""


def _sources() -> str:
    """Every module of the package (a field's definition, ``name: type = ...``, is not a read)."""
    return "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__name__)
def test_every_hashed_field_is_read(record: type[BaseModel]):
    code = _sources()
    unread = [name for name in record.model_fields
              if (record.__name__, name) not in READ_BY_VALIDATION
              and not re.search(rf"\.{name}\b|\[\"{name}\"\]|\bget\(\"{name}\"", code)]
    assert unread == [], f"{record.__name__}: fields no code outside the config reads: {unread}"
