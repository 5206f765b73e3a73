"""The release steps, from a notebook to production: **export** the winning variant with its evidence, **gate**
it on an eval set (CI), and **roll it out** (configs kept by hash, an active pointer that workers follow).

    from workbench.release import ExportOptions, export_config, run_gate, ConfigStore
    cfg = export_config(results, "grounded_qa@v3 · medium", name="northwind-qa", gate=GateThresholds(), path=...)
    export_config(..., options=ExportOptions(override_reason="..."))    # ship despite a missed threshold
    run_gate("configs/pipeline.yaml", "evalsets/northwind_qa.jsonl").passed
    ConfigStore().promote(cfg.config_hash)

Export and the gate need the notebook side (scorers, statistics); the runner only reads ``rollout``'s pointer.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "export_config": ".export", "ExportOptions": ".export", "evidence_from_results": ".export",
    "measured_from_evidence": ".export",
    "pipeline_config_of": ".export", "check_no_secrets": ".._util.secrets", "write_schema": ".export",
    "run_gate": ".gate", "GateOptions": ".gate", "GateReport": ".gate", "VariantReport": ".gate", "Check": ".gate",
    "check_thresholds": ".gate", "measure": ".gate",
    "ConfigStore": ".rollout",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
