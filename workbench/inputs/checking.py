"""``check``: validate, normalise and classify one input object under an ``InputPolicy``.

Per checked string, in order: encoding, emptiness (after normalisation), size (characters; tokens only when the
UTF-8 byte count could exceed ``max_tokens``), control / bidi / zero-width characters (on the raw text and, when
mojibake was repaired, on the repaired text), then — only for fields not already rejected — suspected prompt
injection and PII, both on the normalised text. Findings become ``Flag``s; the policy's actions decide the status.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import chars
from .classes import classify
from .fields import dotted, missing, rebuilt, selected
from .injection import injection_score
from .normalisation import normalise
from .pii import find_pii
from .result import Flag, InputResult
from .shape import documents_problem, shape_problem

if TYPE_CHECKING:
    from .policy import InputPolicy

_UNCLASSIFIED = {"language": None, "length": None, "content_type": None}


def _as_text(value: Any, field: str, found: list[Flag]) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            found.append(Flag("invalid_utf8", field, None, [f"byte {e.start}"]))
            return value.decode("utf-8", errors="replace")
    if not chars.is_valid_unicode(value):
        found.append(Flag("invalid_utf8", field, None, ["lone surrogate"]))
    return value


def _too_long(text: str, field: str, policy: InputPolicy) -> Flag | None:
    n = len(text)
    if n > policy.max_chars:
        return Flag("too_long", field, None, [f"{n} characters > max_chars {policy.max_chars}"])
    upper_bound = n if text.isascii() else len(text.encode("utf-8", errors="surrogatepass"))
    if upper_bound <= policy.max_tokens:  # a token covers at least one byte
        return None
    from ..models.tokens import tokenizer_for

    tokens = tokenizer_for(policy.model).count(text)
    if tokens > policy.max_tokens:
        return Flag("too_long", field, None, [f"{tokens} tokens > max_tokens {policy.max_tokens}"])
    return None


def _char_flags(raw: str, fixed: str | None, field: str) -> list[Flag]:
    suspect = {id(t): chars.suspicious(t) for t in (raw, fixed) if t is not None}
    if not any(suspect.values()):  # the usual case: no character of any class below
        return []
    found = []
    for code, finder in (("control_chars", chars.control_chars), ("bidi", chars.bidi_chars),
                         ("zero_width", chars.zero_width_chars)):
        sources = [raw] if fixed is None or code == "zero_width" else [raw, fixed]
        points = [cp for t in sources if suspect[id(t)] for cp in finder(t)]
        if points:
            found.append(Flag(code, field, None, list(dict.fromkeys(points))[:5]))
    return found


def check_field(value: Any, field: str, policy: InputPolicy) -> tuple[str, list[Flag], list[str]]:
    """(normalised text, findings, normalisation changes) for one string."""
    found: list[Flag] = []
    raw = _as_text(value, field, found)
    norm = normalise(raw)
    text = norm.text
    if not text:
        found.append(Flag("empty", field, None, []))
    long = _too_long(raw, field, policy)
    if long:
        found.append(long)
    found += _char_flags(raw, text if "mojibake_repaired" in norm.changes else None, field)
    if "mojibake_repaired" in norm.changes:
        found.append(Flag("mojibake_repaired", field, None, []))
    if text and not any(policy.action(f.code) == "reject" for f in found):
        score = injection_score(text)
        if score.score >= policy.injection_threshold:
            found.append(Flag("injection_suspected", field, score.score, score.reasons))
        kinds = list(dict.fromkeys(m.kind for m in find_pii(text)))
        if kinds:
            found.append(Flag("pii", field, None, kinds))
    return text, found, norm.changes


def _structure_flags(obj: Any, policy: InputPolicy) -> list[Flag]:
    return [Flag("missing_field", path, None, []) for req in policy.required for path in missing(obj, req)]


def _decide(found: Iterable[Flag], policy: InputPolicy) -> tuple[str, Flag | None, list[Flag]]:
    listed = [f for f in found if policy.action(f.code) != "accept"]
    rejecting = next((f for f in listed if policy.action(f.code) == "reject"), None)
    if rejecting:
        return "rejected", rejecting, listed
    if listed:
        return "flagged", listed[0], listed
    return "accepted", None, listed


def result_from(found: list[Flag], policy: InputPolicy, classes: dict, normalised: Any = None,
                changes: dict[str, list[str]] | None = None) -> InputResult:
    """An ``InputResult`` for ``found`` under ``policy``'s actions."""
    status, deciding, listed = _decide(found, policy)
    return InputResult(status=status, code=deciding.code if deciding else None,
                       message=deciding.sentence() if deciding else None, classes=classes, flags=listed,
                       normalised=normalised, changes=changes or {})


def check_object(policy: InputPolicy, obj: Any, prior: Iterable[Flag] = (), *,
                 shape_checked: bool = False) -> InputResult:
    """Check ``obj`` under ``policy`` (see the module docstring). ``prior`` findings (from parsing) come first;
    ``shape_checked``: the caller found no ``shape_problem`` in ``obj``."""
    found = list(prior)
    if not isinstance(obj, dict):
        found.append(Flag("not_object", None, None, [type(obj).__name__]))
        return result_from(found, policy, dict(_UNCLASSIFIED), obj)
    missing_fields = _structure_flags(obj, policy)
    malformed = (None if shape_checked else shape_problem(obj)) or (
        None if missing_fields else documents_problem(obj))
    if malformed is not None:  # no text is read
        return result_from([*found, malformed], policy, dict(_UNCLASSIFIED), None)
    try:
        texts, wrong = selected(obj, policy.fields)
        found += missing_fields
        found += [Flag("wrong_type", dotted(p), None, []) for p in wrong]
        replacements, changes, parts = {}, {}, []
        for path, value in texts:
            field = dotted(path)
            text, field_flags, field_changes = check_field(value, field, policy)
            found += field_flags
            replacements[path] = text
            if field_changes:
                changes[field] = field_changes
            parts.append(text)
        normalised = rebuilt(obj, replacements)
    except RecursionError:
        found.append(Flag("not_object", None, None, ["nested too deeply"]))
        return result_from(found, policy, dict(_UNCLASSIFIED), None)
    if not texts and not wrong:
        found.append(Flag("empty", None, None, ["no text to check"]))
    joined = "\n\n".join(parts)
    classes = classify(joined, short=policy.short_max_chars, medium=policy.medium_max_chars,
                       long=policy.long_max_chars)
    return result_from(found, policy, classes, normalised, changes)


def check(obj: Any, policy: InputPolicy | None = None) -> InputResult:
    """``(policy or InputPolicy()).check(obj)``."""
    from .policy import InputPolicy

    return (policy or InputPolicy()).check(obj)
