"""What one ``requests`` row holds: metadata always; raw text only for a deterministic sample of inputs
(``capture_rate``), with personal data redacted when ``redact_pii`` and secrets always redacted."""
from __future__ import annotations

import hashlib
from typing import Any

from .._util.jsontext import dumps_with
from ..config.production import LoggingSettings
from ..hashing import bucket, content_hash
from ..inputs.pii import find_pii, redact


def scrub(text: str, redact_pii: bool = True) -> str:
    """``text`` with secrets always redacted, and personal data too when ``redact_pii``."""
    if redact_pii:
        return redact(text)
    out, pos = [], 0
    for m in find_pii(text):
        if m.kind == "secret":
            out += [text[pos:m.start], "[SECRET]"]
            pos = m.end
    return "".join(out) + text[pos:]


ID_COLUMN_CHARS = 512
"""The width of the ``item_id`` columns (requests, escalations)."""


def stored_id(item_id: Any, redact_pii: bool = True) -> str | None:
    """An item id as the log store keeps it: text, scrubbed (an id is text too), and at most ``ID_COLUMN_CHARS``: a
    longer one keeps its start and a hash of the whole, so distinct ids stay distinct. Postgres refused a longer one
    and the row was lost (SQLite took it: the two stores differed)."""
    if item_id is None:
        return None
    text = scrub(str(item_id), redact_pii)
    if len(text) <= ID_COLUMN_CHARS:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{text[:ID_COLUMN_CHARS - 24]}…sha256:{digest}"


def captured(input_hash: str, capture_rate: float) -> bool:
    """Whether an input's raw text is kept: a deterministic sample of ``capture_rate`` by input hash."""
    return capture_rate >= 1.0 or (capture_rate > 0.0 and bucket("capture:" + input_hash) < capture_rate)


def input_hash(inputs: Any) -> str:
    """``content_hash`` of the input (of its ``repr`` when it is not JSON-serialisable)."""
    try:
        return content_hash(inputs)
    except (TypeError, ValueError):
        return content_hash(repr(inputs))


def text_chars(value: Any, top: bool = True) -> int:
    """Characters of every string in an input at any depth (the top-level ``id`` excluded)."""
    stack = [v for k, v in value.items() if k != "id"] if top and isinstance(value, dict) else [value]
    total = 0
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
    return total


def scrub_value(value: Any, redact_pii: bool = True) -> Any:
    """A copy of a JSON-like value with every string scrubbed (``scrub``), object keys included."""
    if isinstance(value, str):
        return scrub(value, redact_pii)
    if isinstance(value, dict):
        return {scrub(str(k), redact_pii): scrub_value(v, redact_pii) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(v, redact_pii) for v in value]
    return value


_DUMPS = dumps_with(ensure_ascii=False, default=str)


def raw_json(inputs: Any, redact_pii: bool = True) -> str:
    """The input as JSON with every string scrubbed (``scrub``)."""
    return _DUMPS(scrub_value(inputs, redact_pii))


def request_row(result: Any, inputs: Any, settings: LoggingSettings, *, ts: float,
                config_hash: str | None) -> dict[str, Any]:
    """The ``requests`` row for a ``RunnerResult``: metadata always; raw text only for a sampled input."""
    ihash = input_hash(inputs)
    keep = captured(ihash, settings.capture_rate)
    classes = result.pipeline.classes if result.pipeline is not None else {}
    item_id = stored_id(result.id, settings.redact_pii)
    return {"ts": ts, "item_id": item_id, "input_hash": ihash,
            "input_chars": text_chars(inputs), "language": classes.get("language"),
            "length_class": classes.get("length"), "content_type": classes.get("content_type"),
            "variant": result.variant, "config_hash": config_hash, "model": result.model,
            "answered_by": result.answered_by, "saved_usd": result.saved_usd, "tier": result.tier,
            "input_tokens": result.input_tokens, "output_tokens": result.output_tokens, "cost_usd": result.cost_usd,
            "cost_basis": result.cost_basis, "latency_ms": result.latency_ms, "cache": result.cache,
            "status": str.__str__(result.status), "error_code": (result.error or {}).get("code"),
            "output_hash": None if result.output is None else content_hash(result.output),
            "fallback": bool(result.fallback), "degraded": result.status == "degraded",
            "escalated": result.status == "escalated", "flags": ",".join(result.flags)[:512] or None,
            "raw_input": raw_json(inputs, settings.redact_pii) if keep else None,
            "raw_output": scrub(result.output, settings.redact_pii) if keep and result.output is not None else None}
