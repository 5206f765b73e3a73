"""① Inputs: validate, normalise and classify what enters a pipeline, before anything else runs.

    from workbench.inputs import InputPolicy
    result = InputPolicy().check({"id": "q1", "question": "How do I reset my password?"})
    result.status            # "accepted" | "flagged" | "rejected"
    result.code, result.message, result.flags, result.classes, result.normalised

Dependency-light (pydantic, PyYAML; ftfy only when a text looks like mojibake; the tokenizer only for texts
near ``max_tokens``), so the production runner imports it on every request.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "InputPolicy": ".policy", "InputResult": ".result", "Flag": ".result", "CODES": ".result",
    "DEFAULT_ACTIONS": ".result", "check": ".checking", "check_field": ".checking", "check_line": ".jsonl",
    "normalise": ".normalisation", "Normalised": ".normalisation", "repair_mojibake": ".normalisation",
    "classify": ".classes", "content_type": ".classes", "length_class": ".classes",
    "detect_language": ".language",
    "injection_score": ".injection", "injection_metrics": ".injection", "InjectionScore": ".injection",
    "DEFAULT_THRESHOLD": ".injection",
    "find_pii": ".pii", "redact": ".pii", "PiiMatch": ".pii", "luhn_ok": ".pii", "iban_ok": ".pii",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
