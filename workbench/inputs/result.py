"""The records ``InputPolicy.check`` returns: ``InputResult`` and its ``Flag``s, and the codes they use."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["accepted", "flagged", "rejected"]
Action = Literal["reject", "flag", "accept"]

CODES: dict[str, tuple[str, str]] = {
    # code: (default action, meaning)
    "invalid_json": ("reject", "the line is not valid JSON"),
    "not_object": ("reject", "the input is not a JSON object"),
    "missing_id": ("reject", "the object has no usable 'id' (a non-empty string or an integer, at most 500 "
                             "characters)"),
    "too_deep": ("reject", "the input nests objects or lists too deeply"),
    "invalid_unicode": ("reject", "a string or key holds a lone surrogate, which UTF-8 cannot carry"),
    "missing_field": ("reject", "a required field is missing"),
    "wrong_type": ("reject", "the field holds the wrong type"),
    "invalid_utf8": ("reject", "the text is not valid UTF-8 (undecodable bytes or lone surrogates)"),
    "empty": ("reject", "the text is empty or only whitespace (after normalisation)"),
    "too_long": ("reject", "the text exceeds max_chars characters or max_tokens tokens"),
    "control_chars": ("reject", "the text holds control characters (C0 except tab/LF/CR, DEL, C1)"),
    "bidi": ("reject", "the text holds bidirectional control characters, which can reorder what a reader sees"),
    "zero_width": ("flag", "the text holds zero-width characters (removed by normalisation)"),
    "injection_suspected": ("flag", "the text looks like a prompt injection (heuristic score >= threshold)"),
    "pii": ("accept", "the text holds personal data or secrets (emails, phones, cards, IBANs, IPs, SSNs, keys)"),
    "mojibake_repaired": ("accept", "the text was mis-decoded UTF-8 (mojibake) and was repaired"),
}
"""Every code ``check`` can report, with its default action and what it means."""
DEFAULT_ACTIONS: dict[str, str] = {code: action for code, (action, _) in CODES.items()}


@dataclass(frozen=True)
class Flag:
    """One finding about one field."""

    code: str
    """A stable code from ``CODES``."""
    field: str | None
    """Dotted path of the field (``"documents.0.text"``); None for a finding about the whole input."""
    score: float | None = None
    """A score in [0, 1] where the check has one (``injection_suspected``), else None."""
    reasons: list[str] = field(default_factory=list)
    """Details: pattern names, PII kinds, code points (``"U+202E"``), sizes."""

    def to_dict(self) -> dict[str, Any]:
        """The flag as JSON-ready values (the form in result lines and logs)."""
        return {"code": self.code, "field": self.field, "score": self.score, "reasons": list(self.reasons)}

    def sentence(self) -> str:
        """A human sentence: where, what, and the details."""
        where = f"field {self.field!r}: " if self.field else ""
        detail = f" ({', '.join(self.reasons)})" if self.reasons else ""
        return f"{where}{CODES[self.code][1]}{detail}"


@dataclass(frozen=True)
class InputResult:
    """The outcome of checking one input: a value, never an exception."""

    status: Status
    """``"accepted"``, ``"flagged"`` (usable, but look at ``flags``) or ``"rejected"`` (do not run)."""
    code: str | None
    """The first rejecting code; else the first flag code when flagged; None when accepted."""
    message: str | None
    """A human sentence about ``code``; None when accepted."""
    classes: dict[str, str | None]
    """``{"language", "length", "content_type"}`` of the checked text, concatenated (None when unparsed)."""
    flags: list[Flag] = field(default_factory=list)
    """Every finding whose action is ``flag`` or ``reject``, in order (``accept`` findings are not listed)."""
    normalised: Any = None
    """A new copy of the input with every checked string normalised (the caller's object is never changed)."""
    changes: dict[str, list[str]] = field(default_factory=dict)
    """Per dotted path, what normalisation changed (``["nfc", "zero_width_removed"]``); unchanged fields absent."""

    @property
    def ok(self) -> bool:
        """True unless rejected."""
        return self.status != "rejected"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {"status": self.status, "code": self.code, "message": self.message, "classes": dict(self.classes),
                "flags": [f.to_dict() for f in self.flags], "normalised": self.normalised,
                "changes": {k: list(v) for k, v in self.changes.items()}}
