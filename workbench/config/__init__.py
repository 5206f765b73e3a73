"""⑦ Configs: what a pipeline variant does (``PipelineConfig``) and what production runs (``ProductionConfig``: the
chosen variants, split, degradation, escalation, gate, logging and evidence, hashed). Both share one frozen base.

    from workbench.config import PipelineConfig, load_production_config
    cfg = PipelineConfig.build("grounded_qa", version=2, tier="medium", chunking={"strategy": "structure"})
    prod = load_production_config("configs/pipeline.yaml")       # schema and hash checked
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "PipelineConfig": ".pipeline", "ContextConfig": ".pipeline", "RoutingRule": ".pipeline",
    "OutputValidation": ".pipeline", "CacheConfig": ".cache",
    "ProductionConfig": ".production", "load_production_config": ".production", "TrafficSplit": ".production",
    "DegradationPolicy": ".production", "EscalationRules": ".production",
    "GateThresholds": ".production", "LoggingSettings": ".production", "Evidence": ".production", "Provenance": ".production",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
