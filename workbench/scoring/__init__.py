"""⑤ Scoring: deterministic checks, an LLM judge with calibration against human labels, and a ragas adapter.

    from workbench.scoring import scorer_from_spec, score_all, summarise, LLMJudge, calibrate
    scores = score_all(sample, output, [{"scorer": "token_f1", "threshold": 0.5}, {"scorer": "refusal"}])
    summarise(scores)        # mean and pass rate over measured scores only, plus the unmeasured count

Nothing heavy is imported here: jsonschema, the model layer and ragas load when a scorer that needs them is used.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    # records, protocol, building
    "Score": ".base", "Scorer": ".base", "ScorerBase": ".base", "scorer_from_spec": ".base",
    "scorer_class": ".base", "SCORER_KINDS": ".base", "score_all": ".base", "ascore_all": ".base",
    "summarise": ".base",
    # deterministic checks
    "JsonValid": ".checks", "RequiredFields": ".checks", "Numeric": ".checks", "Length": ".checks",
    "Regex": ".checks", "ContainsAny": ".checks", "ExactMatch": ".checks", "TokenF1": ".checks",
    "Refusal": ".checks", "is_refusal": ".text", "normalize_answer": ".text", "token_f1": ".text",
    # judge and calibration
    "LLMJudge": ".judge", "parse_verdict": ".judge",
    "Calibration": ".calibration", "calibrate": ".calibration",
    "cohen_kappa": ".calibration", "confusion_matrix": ".calibration", "pairwise_kappas": ".calibration",
    "require_calibrated": ".calibration", "kappa_interval": ".calibration", "load_judge_labels": ".calibration",
    "calibrate_judge": ".calibration",
    # ragas
    "ragas_scores": ".ragas_adapter", "aragas_scores": ".ragas_adapter", "RagasScorer": ".ragas_adapter",
    "RAGAS_METRICS": ".ragas_adapter", "RagasModels": ".ragas_adapter",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
