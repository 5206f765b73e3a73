"""③ Eval sets: samples with their inputs, expected answers, category and criteria, as versioned JSONL with a card;
and drafting new cases from documents for human review.

    from workbench.evalsets import load_evalset, EvalSet, Sample
    es = load_evalset("evalsets/northwind_qa.jsonl"); es.by_category(); es.to_pandas()
    es = import_evalset("data.parquet", ColumnMapping(question="q", documents="context", expected="answers"))
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "Sample": ".evalset", "SampleInputs": ".evalset", "Document": ".evalset", "EvalSet": ".evalset",
    "EvalCard": ".evalset", "CATEGORIES": ".evalset", "load_evalset": ".evalset", "card_path": ".evalset",
    "Candidate": ".drafting", "ReviewDecision": ".drafting", "draft_candidates": ".drafting",
    "apply_reviews": ".drafting", "save_reviews": ".drafting", "load_reviews": ".drafting",
    "coverage": ".drafting", "parse_drafts": ".drafting",
    "ColumnMapping": ".importing", "import_evalset": ".importing", "read_rows": ".importing",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
