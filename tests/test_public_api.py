"""The public API is curated and light: every package's ``__all__`` is pinned here, the names resolve, and
``import workbench`` (or any package) pulls in no heavy dependency. Changing the public surface means changing
this file, on purpose."""
import importlib
import subprocess
import sys

import pytest

import workbench

ROOT_API = {
    "__version__", "WorkbenchError", "UsageError", "ConfigError", "ModelError",
    "InputPolicy", "make_chunker", "PromptTemplate", "load_prompt",
    "complete", "acomplete", "build_model", "Completion",
    "EvalSet", "Sample", "load_evalset", "Experiment", "ExperimentSpec", "ExperimentResults",
    "PipelineConfig", "ProductionConfig", "load_production_config", "Pipeline", "Result", "Status",
    "export_config", "run_gate", "Runner", "monitor", "content_hash", "workspace",
}

PACKAGE_API = {
    "workbench.caches": {"Expiry", "Match", "ResponseCache", "SearchLimits", "SemanticCache", "Signature",
                         "SketchIndex", "normalise_question", "signature"},
    "workbench.chunking": {"Chunk", "Chunker", "ChunkerConfig", "ChunkerSpec", "ConversationChunker", "Query",
                           "RecursiveChunker", "RetrievalOptions", "SemanticChunker", "SentenceChunker",
                           "StructureChunker", "TokenChunker", "chunk_quality", "chunk_sizes",
                           "compare_quality", "compare_retrieval", "make_chunker", "registry",
                           "retrieval_quality"},
    "workbench.config": {"CacheConfig", "ContextConfig", "DegradationPolicy", "EscalationRules", "Evidence",
                         "GateThresholds", "LoggingSettings", "OutputValidation", "PipelineConfig", "ProductionConfig",
                         "Provenance", "RoutingRule", "TrafficSplit", "load_production_config"},
    "workbench.costs": {"DEFAULT_BATCH_DISCOUNT", "ItemCost", "ItemCosts", "PolicyResult", "Projection",
                        "RoutingTradeoff", "SIMULATED_LABEL", "Scenario", "TierProjection", "basis_label",
                        "check_budget", "compare_scenarios", "cost_per_item", "estimate_run_cost", "item_cost",
                        "item_costs", "plot_projection", "plot_sensitivity", "price_from_override", "project",
                        "resolve_price", "routing_tradeoff", "sensitivity", "what_if_ladder"},
    "workbench.evalsets": {"CATEGORIES", "Candidate", "Document", "EvalCard", "EvalSet", "ReviewDecision", "Sample",
                           "SampleInputs", "apply_reviews", "card_path", "coverage", "draft_candidates",
                           "load_evalset", "load_reviews", "parse_drafts", "save_reviews", "ColumnMapping",
                           "import_evalset", "read_rows"},
    "workbench.experiments": {"Estimate", "Experiment", "ExperimentResults", "ExperimentSpec", "RunOptions",
                              "RunRecord", "RunSummary", "compare_prompt_lengths", "list_runs", "usage_rows"},
    "workbench.inputs": {"CODES", "DEFAULT_ACTIONS", "DEFAULT_THRESHOLD", "Flag", "InjectionScore", "InputPolicy",
                         "InputResult", "Normalised", "PiiMatch", "check", "check_field", "check_line", "classify",
                         "content_type", "detect_language", "find_pii", "iban_ok", "injection_metrics",
                         "injection_score", "length_class", "luhn_ok", "normalise", "redact", "repair_mojibake"},
    "workbench.models": {"Attempt", "CachedModel", "Completion", "CostBasis", "Embedder", "Endpoint",
                         "FallbackModel", "HashingEmbedder", "LimitedModel", "LiteLLMEmbedder",
                         "LiteLLMModel", "MiniLMEmbedder", "Model", "ModelOptions", "OFFLINE_MODELS", "Price",
                         "PriceBook", "ResponseStore", "RetryPolicy", "RetryingModel", "Tier", "TierPrice", "TierSet",
                         "Tokenizer", "Usage", "acomplete", "as_messages", "build_model", "cache_key",
                         "complete", "current_tiers", "describe_models", "load_tiers", "missing_credentials",
                         "mode_line", "offline_mode", "price_for", "register_offline", "register_price", "route",
                         "set_offline", "tokenizer_for", "translate"},
    "workbench.monitoring": {"Alert", "AlertDelivery", "DAY", "LogData", "MonitorReport", "PlantedChanges",
                             "Reference", "RowScore", "RunawayModel", "START", "SimRequest", "TopicModel",
                             "Window", "bootstrap_difference", "candidate_samples", "deliver", "detect",
                             "drifted_inputs", "export_candidates", "hourly", "load", "monitor", "operations",
                             "parse_since", "post_webhook", "psi", "recommend", "reference_for",
                             "row_features", "run_stream", "score_output", "score_rows", "simulate_stream", "simulate_ab_rows",
                             "stored_alerts", "summarise", "write_rows"},
    "workbench.pipeline": {"Pipeline", "Prepared", "Result", "Status"},
    "workbench.release": {"Check", "ConfigStore", "ExportOptions", "GateOptions", "GateReport", "VariantReport",
                          "check_no_secrets", "check_thresholds", "evidence_from_results", "export_config",
                          "measure", "measured_from_evidence", "pipeline_config_of", "run_gate",
                          "write_schema"},
    "workbench.runner": {"ConfigSource", "Metrics", "Reporting", "Runner", "RunnerResult", "WorkQueue",
                         "Worker", "WorkerOptions", "render_metrics"},
    "workbench.scoring": {"Calibration", "ContainsAny", "ExactMatch", "JsonValid", "LLMJudge", "Length",
                          "Numeric", "RAGAS_METRICS", "RagasModels", "RagasScorer", "Refusal", "Regex",
                          "RequiredFields", "SCORER_KINDS", "Score", "Scorer", "ScorerBase", "TokenF1",
                          "aragas_scores", "ascore_all", "calibrate", "calibrate_judge", "cohen_kappa",
                          "confusion_matrix", "is_refusal", "load_judge_labels", "normalize_answer",
                          "pairwise_kappas", "parse_verdict", "ragas_scores", "require_calibrated", "kappa_interval",
                          "score_all", "scorer_class", "scorer_from_spec", "summarise", "token_f1"},
    "workbench.stats": {"Comparison", "ComparisonOptions", "McNemar", "Paired", "PointStyle",
                        "WILCOXON_ZERO_METHOD", "Wilcoxon", "aa_noise", "bootstrap_ci", "compare_many",
                        "comparison_table", "default_discordance", "holm", "mcnemar_exact",
                        "min_detectable_difference", "pair", "paired_comparison", "pareto_front",
                        "plot_pareto", "power_curve", "power_paired_binary", "power_paired_continuous",
                        "sample_size_paired_binary", "sample_size_paired_continuous", "wilcoxon_test",
                        "wilcoxon_exact", "wilson_interval", "newcombe_interval", "fisher_exact_p",
                        "rate_difference", "per_test_alpha", "simulated_power_binary",
                        "simulated_aa_false_positives", "holm_adjust", "SimulatedRate", "TestLevel",
                        "Draws"},
    "workbench.store": {"LogStore", "RequestLog", "WriteBehind", "default_db_url", "escalate",
                        "export_candidates", "get_escalation", "list_escalations", "make_engine",
                        "request_row", "resolve", "safe_url", "scrub", "to_candidate_sample"},
    "workbench.testing": {"FaultConfig", "FaultServer", "running"},
    "workbench.widgets": {"chunk_explorer", "colour_for", "colours_for", "failure_browser", "legend_outside",
                          "projection_sliders", "review_form"},
}
LIGHT = ("litellm", "pandas", "sqlalchemy", "jinja2", "matplotlib", "scipy", "ragas", "openai")


def test_root_exports_are_pinned_and_resolve():
    assert set(workbench.__all__) == ROOT_API
    assert 20 <= len(ROOT_API) <= 32, "the root is for the nouns a user types; the rest lives in the packages"
    for name in workbench.__all__:
        assert getattr(workbench, name) is not None


def test_every_public_package_is_pinned():
    import pkgutil

    found = {m.name for m in pkgutil.iter_modules(workbench.__path__, "workbench.")
             if m.ispkg and not m.name.rsplit(".", 1)[-1].startswith("_") and m.name != "workbench.cli"}
    assert found == set(PACKAGE_API), "a new package needs its __all__ pinned here"


@pytest.mark.parametrize("package", sorted(PACKAGE_API))
def test_package_exports_are_pinned_and_resolve(package):
    module = importlib.import_module(package)
    assert set(module.__all__) == PACKAGE_API[package]
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{package}.{name}"


def test_every_exception_lives_in_errors():
    import ast
    from pathlib import Path

    outside = []
    for path in Path(workbench.__file__).parent.rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "workbench":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    getattr(b, "id", getattr(b, "attr", "")).endswith(("Error", "Exception")) for b in node.bases):
                outside.append(f"{path.name}:{node.name}")
    assert outside == []


def test_import_workbench_pulls_in_no_heavy_dependency():
    code = ("import sys, workbench, workbench.errors, workbench.hashing; "
            f"print(' '.join(m for m in {LIGHT!r} + ('numpy',) if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_packages_import_light():
    code = ("import sys, " + ", ".join(sorted(PACKAGE_API)) + "; "
            f"print(' '.join(m for m in {LIGHT!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError):
        workbench.no_such_thing  # noqa: B018


def test_notebooks_import_only_public_paths():
    """A notebook imports from a package (``workbench.release``), never from a module inside one
    (``workbench.release.export``): the packages' ``__all__`` is the surface notebooks can rely on."""
    import json
    import re
    from pathlib import Path

    deep = []
    for nb in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")):
        for cell in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            for module in re.findall(r"^\s*(?:from|import)\s+(workbench[\w.]*)", "".join(cell["source"]), re.M):
                if module != "workbench" and module not in PACKAGE_API and module != "workbench.errors":
                    deep.append(f"{nb.name}: {module}")
    assert deep == []
