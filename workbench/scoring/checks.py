"""Deterministic scorers: format checks and reference-based answer checks.

| kind | passes when |
|---|---|
| ``json_valid`` | the output is JSON (a str that parses, or a dict/list) and, with ``schema``, validates against it |
| ``required_fields`` | every field in ``fields`` (dotted paths) is present and not null; value = share present |
| ``numeric`` | the number in ``field`` (dict) or the first number in the text is within ``tolerance`` of expected |
| ``length`` | the output has between ``min`` and ``max`` ``unit`` (chars or words) |
| ``regex`` | ``pattern`` matches (``must_match: true``) or does not match (``false``) |
| ``contains_any`` | some expected answer is contained in the output (case- and whitespace-normalised) |
| ``exact_match`` | the output equals some expected answer after SQuAD normalisation |
| ``token_f1`` | the best SQuAD token F1 over the expected answers reaches ``threshold`` (default 0.5) |
| ``refusal`` | an unanswerable sample is refused, or an answerable one is answered |

**Unanswerable samples** (``category == "unanswerable"``): ``contains_any``, ``exact_match`` and ``token_f1``
score them by the refusal rule (1.0 when the output refuses, else 0.0), whatever ``expected`` holds (it may be
empty). **Unmeasured** (``measured=False``, with the reason): a ``None`` output, a non-text output (a dict needs a
string ``"answer"``), an empty output for the answer checks, and an answerable sample without expected answers.
``length`` and ``regex`` measure an empty string like any other.
"""
from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator

from ..errors import ConfigError
from .base import Score, ScorerBase
from .text import answer_text, is_refusal, normalize_answer, normalize_space, parse_json_output, token_f1

_NUMBER = re.compile(r"[-\u2212]?\d[\d,]*(?:\.\d+)?|[-\u2212]?\.\d+")


def _to_number(text: str) -> float | None:
    m = _NUMBER.search(text)
    return None if m is None else float(m.group(0).replace(",", "").replace("\u2212", "-"))


def _field(data: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` for a dotted path (``a.b.0``) in nested dicts and lists."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return False, None
    return True, data


def _json_path(path: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


class JsonValid(ScorerBase):
    """The output is JSON and, when ``schema`` is given, valid against it (errors name the JSON path)."""

    kind: Literal["json_valid"] = "json_valid"
    json_schema: dict[str, Any] | None = Field(None, validation_alias=AliasChoices("schema", "json_schema"))

    @field_validator("json_schema")
    @classmethod
    def _check_schema(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            import jsonschema

            try:
                jsonschema.validators.validator_for(schema).check_schema(schema)
            except jsonschema.SchemaError as e:
                raise ConfigError(f"json_valid: invalid JSON Schema at {_json_path(e.path)}: {e.message}") from None
        return schema

    def score(self, sample, output) -> Score:
        """1 when the output parses (and matches the schema), else 0 with the parse error or the first schema
        violations; unmeasured for no output."""
        if output is None:
            return Score.unmeasured(self.name, "no output (None): nothing to score")
        data, error = parse_json_output(output)
        if error:
            return Score.of(self.name, 0.0, self.pass_mark, error)
        if self.json_schema is None:
            return Score.of(self.name, 1.0, self.pass_mark, "valid JSON")
        import jsonschema

        validator = jsonschema.validators.validator_for(self.json_schema)(self.json_schema)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            return Score.of(self.name, 1.0, self.pass_mark, "valid JSON, matches the schema")
        found = [f"{_json_path(e.absolute_path)}: {e.message}" for e in errors]
        return Score.of(self.name, 0.0, self.pass_mark, "schema violation at " + "; ".join(found[:3]), errors=found)


class RequiredFields(ScorerBase):
    """Every field (dotted path) is present and not null; ``value`` is the share present."""

    kind: Literal["required_fields"] = "required_fields"
    fields: list[str] = Field(min_length=1)

    def score(self, sample, output) -> Score:
        """The share of ``fields`` present and not null (0 when the output is not JSON); unmeasured for no output."""
        if output is None:
            return Score.unmeasured(self.name, "no output (None): nothing to score")
        data, error = parse_json_output(output)
        if error:
            return Score.of(self.name, 0.0, self.pass_mark, error, missing=list(self.fields))
        missing = [f for f in self.fields if _field(data, f)[1] is None]
        why = f"missing or null: {', '.join(missing)}" if missing else "all required fields present"
        return Score.of(self.name, 1 - len(missing) / len(self.fields), self.pass_mark, why, missing=missing)


class Numeric(ScorerBase):
    """A number within ``tolerance`` of the expected one (``expected``, else the first number of any expected
    answer). ``relative: true`` makes the tolerance a fraction of the expected value."""

    kind: Literal["numeric"] = "numeric"
    field: str | None = None
    expected: float | None = None
    tolerance: float = Field(0.0, ge=0)
    relative: bool = False

    def _got(self, output: Any) -> tuple[float | None, str]:
        if self.field is not None:
            data, error = parse_json_output(output)
            if error:
                return None, error
            found, value = _field(data, self.field)
            if not found or value is None:
                return None, f"no field {self.field!r} in the output"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value), ""
            output = str(value)
        text, why = answer_text(output)
        if text is None:
            return None, why
        number = _to_number(text)
        return number, "" if number is not None else "no number in the output"

    def score(self, sample, output) -> Score:
        """1 when the output's number (or ``field``'s) is within the tolerance of the closest expected number, else 0;
        unmeasured without an expected number or an output."""
        targets = [self.expected] if self.expected is not None else \
            [n for n in (_to_number(e) for e in sample.expected) if n is not None]
        if not targets:
            return Score.unmeasured(self.name, "no expected number (set 'expected' or give numeric answers)")
        if output is None or (self.field is None and answer_text(output)[0] is None):
            return Score.unmeasured(self.name, answer_text(output)[1])
        got, why = self._got(output)
        if got is None:
            return Score.of(self.name, 0.0, self.pass_mark, why, expected=targets)
        best = min(targets, key=lambda t: abs(got - t))
        allowed = self.tolerance * abs(best) if self.relative else self.tolerance
        ok = abs(got - best) <= allowed + 1e-12
        return Score.of(self.name, float(ok), self.pass_mark,
                        f"got {got:g}, expected {best:g} ± {allowed:g}", got=got, expected=best)


class Length(ScorerBase):
    """Between ``min`` and ``max`` characters or words (``unit``)."""

    kind: Literal["length"] = "length"
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    unit: Literal["chars", "words"] = "chars"

    @model_validator(mode="after")
    def _bounds(self):
        if self.min is None and self.max is None:
            raise ConfigError("length: give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ConfigError(f"length: min {self.min} is greater than max {self.max}")
        return self

    def score(self, sample, output) -> Score:
        """1 when the answer's length is within the bounds, else 0; unmeasured when the output has no text answer."""
        if isinstance(output, dict) and isinstance(output.get("answer"), str):
            output = output["answer"]
        if not isinstance(output, str):
            return Score.unmeasured(self.name, answer_text(output)[1])
        n = len(output.split()) if self.unit == "words" else len(output)
        ok = (self.min is None or n >= self.min) and (self.max is None or n <= self.max)
        bounds = f"[{'' if self.min is None else self.min}, {'' if self.max is None else self.max}]"
        return Score.of(self.name, float(ok), self.pass_mark, f"{n} {self.unit}, allowed {bounds}", length=n)


class Regex(ScorerBase):
    """``pattern`` must (or, with ``must_match: false``, must not) match; outputs over ``max_chars`` are not
    searched (unmeasured), which bounds the cost of a pathological pattern."""

    kind: Literal["regex"] = "regex"
    pattern: str
    must_match: bool = True
    ignore_case: bool = False
    max_chars: int = Field(20_000, ge=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ConfigError(f"regex: pattern {pattern!r} does not compile: {e}") from None
        return pattern

    def score(self, sample, output) -> Score:
        """1 when the pattern's match (or absence) is as required, else 0; unmeasured for no text answer or one over
        ``max_chars``."""
        if isinstance(output, dict) and isinstance(output.get("answer"), str):
            output = output["answer"]
        if not isinstance(output, str):
            return Score.unmeasured(self.name, answer_text(output)[1])
        if len(output) > self.max_chars:
            return Score.unmeasured(self.name, f"output has {len(output)} chars, over max_chars {self.max_chars}: "
                                               "not searched")
        found = re.search(self.pattern, output, re.IGNORECASE if self.ignore_case else 0) is not None
        ok = found == self.must_match
        return Score.of(self.name, float(ok), self.pass_mark,
                        f"pattern {'matched' if found else 'not found'} (must_match={self.must_match})")


class _AnswerCheck(ScorerBase):
    """Shared flow: output text, the unanswerable refusal rule, then ``_compare`` against the expected answers."""

    def score(self, sample, output) -> Score:
        text, why = answer_text(output)
        if text is None:
            return Score.unmeasured(self.name, why)
        if sample.category == "unanswerable":
            refused = is_refusal(text)
            return Score.of(self.name, float(refused), self.pass_mark,
                            "unanswerable sample: " + ("the output refuses" if refused else "the output answers "
                                                       "instead of refusing"), rule="refusal")
        refs = [e for e in sample.expected if e.strip()]
        if not refs:
            return Score.unmeasured(self.name, "the sample has no expected answers to compare with")
        return self._compare(text, refs)

    def _compare(self, text: str, refs: list[str]) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError


class ContainsAny(_AnswerCheck):
    """Some expected answer appears in the output (case- and whitespace-normalised)."""

    kind: Literal["contains_any"] = "contains_any"

    def _compare(self, text: str, refs: list[str]) -> Score:
        hay = normalize_space(text)
        hit = next((r for r in refs if normalize_space(r) in hay), None)
        why = f"contains {hit!r}" if hit else f"contains none of {len(refs)} expected answer(s)"
        return Score.of(self.name, float(hit is not None), self.pass_mark, why, matched=hit)


class ExactMatch(_AnswerCheck):
    """The output equals some expected answer after SQuAD normalisation."""

    kind: Literal["exact_match"] = "exact_match"

    def _compare(self, text: str, refs: list[str]) -> Score:
        norm = normalize_answer(text)
        hit = next((r for r in refs if normalize_answer(r) == norm), None)
        why = f"equals {hit!r}" if hit else "equals no expected answer (after normalisation)"
        return Score.of(self.name, float(hit is not None), self.pass_mark, why, matched=hit)


class TokenF1(_AnswerCheck):
    """SQuAD token F1, the best over the expected answers; passes at ``threshold`` (default 0.5)."""

    kind: Literal["token_f1"] = "token_f1"
    default_threshold: ClassVar[float] = 0.5

    def _compare(self, text: str, refs: list[str]) -> Score:
        best = max(refs, key=lambda r: token_f1(text, r))
        f1 = token_f1(text, best)
        return Score.of(self.name, f1, self.pass_mark, f"token F1 {f1:.2f} against {best!r}", matched=best)


class Refusal(ScorerBase):
    """Correct refusal: an unanswerable sample is refused, an answerable one is not."""

    kind: Literal["refusal"] = "refusal"

    def score(self, sample, output) -> Score:
        """1 when the output refuses exactly when the sample is unanswerable, else 0; unmeasured for no answer."""
        text, why = answer_text(output)
        if text is None:
            return Score.unmeasured(self.name, why)
        refused, should = is_refusal(text), sample.category == "unanswerable"
        ok = refused == should
        why = (f"{'unanswerable' if should else 'answerable'} sample, output "
               f"{'refuses' if refused else 'answers'}")
        return Score.of(self.name, float(ok), self.pass_mark, why, refused=refused)
