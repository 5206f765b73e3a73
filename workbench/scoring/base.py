"""⑤ The scoring records and protocol: ``Score``, ``Scorer``, building scorers from criteria, summaries.

    from workbench.scoring import scorer_from_spec, score_all, summarise
    f1 = scorer_from_spec({"scorer": "token_f1", "threshold": 0.5})
    s = f1.score(sample, "Refunds are available within 30 days.")
    s.value, s.passed, s.measured, s.explanation

A scorer is a frozen pydantic component with a ``kind`` field, so ``scorer.model_dump()`` is its config and
``scorer_from_spec(scorer.model_dump())`` rebuilds it. A score that could not be measured (no output, a judge
reply that cannot be parsed, a timeout) has ``measured=False`` and ``value=None``: it is counted and shown,
never averaged in as 0 or NaN.
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..evalsets.evalset import Sample
    from ..prompts import Criterion

Output = Any
"""What a pipeline produced: usually ``str``, a ``dict`` for structured outputs, ``None`` when it produced nothing."""


@dataclass(frozen=True)
class Score:
    """One scorer's verdict on one output."""

    scorer: str
    """Name of the scorer that produced it (its ``kind``, e.g. ``token_f1``)."""
    value: float | None = None
    """The score in [0, 1]; ``None`` exactly when the scorer could not measure (``measured`` is False)."""
    passed: bool | None = None
    """Whether the value meets the scorer's threshold; ``None`` when not measured."""
    measured: bool = True
    """False when the scorer could not measure (no output, unparseable or timed-out judge...): such scores are
    counted and shown, never averaged in as 0 or NaN."""
    explanation: str = ""
    """One human-readable sentence on why this value (or why nothing was measured)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Scorer-specific facts: matched reference, per-repeat verdicts, judge cost and tokens..."""

    def __post_init__(self) -> None:
        if self.value is not None:
            if isinstance(self.value, bool) or not isinstance(self.value, (int, float)) or math.isnan(self.value):
                raise ValueError(f"{self.scorer}: score value must be a number in [0, 1], got {self.value!r}")
            if not 0.0 <= self.value <= 1.0:
                raise ValueError(f"{self.scorer}: score value {self.value} is outside [0, 1]")
        if not self.measured and (self.value is not None or self.passed is not None):
            raise ValueError(f"{self.scorer}: an unmeasured score has no value and no pass/fail")

    @classmethod
    def unmeasured(cls, scorer: str, explanation: str, **details: Any) -> Score:
        """A score that could not be measured, saying why."""
        return cls(scorer, None, None, False, explanation, details)

    @classmethod
    def of(cls, scorer: str, value: float, threshold: float, explanation: str, **details: Any) -> Score:
        """A measured score; ``passed`` is ``value >= threshold``."""
        value = min(1.0, max(0.0, float(value)))
        return cls(scorer, value, value >= threshold, True, explanation, details)

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (the form stored in run records)."""
        return asdict(self)

    def _repr_html_(self) -> str:
        import html

        mark = "–" if not self.measured else ("✔" if self.passed else "✘")
        value = "unmeasured" if self.value is None else f"{self.value:.3f}"
        return f"<span>{mark} <b>{html.escape(self.scorer)}</b> {value}: {html.escape(self.explanation)}</span>"


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores one output of one sample."""

    @property
    def name(self) -> str:
        """The name scores are filed under (``Score.scorer``)."""

    def score(self, sample: Sample, output: Output) -> Score:
        """The score of ``output`` (the pipeline's answer) for ``sample``."""

    async def ascore(self, sample: Sample, output: Output) -> Score:
        """Async twin of ``score``."""


class ScorerBase(BaseModel):
    """Base of the built-in scorers: a frozen component whose dump is its config (``kind`` + parameters)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    threshold: float | None = None
    """Pass mark for ``value``; ``None`` uses the scorer's ``default_threshold``."""

    default_threshold: ClassVar[float] = 1.0
    """The pass mark when ``threshold`` is not given."""

    @property
    def name(self) -> str:
        """The scorer's ``kind``, unless a subclass names itself more precisely."""
        return self.kind

    @property
    def pass_mark(self) -> float:
        """The threshold in use: ``threshold``, else ``default_threshold``."""
        return self.default_threshold if self.threshold is None else self.threshold

    def score(self, sample: Sample, output: Output) -> Score:  # pragma: no cover - abstract
        """The score of ``output`` for ``sample``; every built-in scorer implements it."""
        raise NotImplementedError

    async def ascore(self, sample: Sample, output: Output) -> Score:
        """Async twin of ``score`` (deterministic scorers simply call it)."""
        return self.score(sample, output)

    def dump(self) -> dict[str, Any]:
        """The config that rebuilds this scorer with ``scorer_from_spec``."""
        return self.model_dump(mode="json", exclude_defaults=True) | {"kind": self.kind}


SCORER_KINDS: dict[str, str] = {
    "json_valid": ".checks:JsonValid", "required_fields": ".checks:RequiredFields", "numeric": ".checks:Numeric",
    "length": ".checks:Length", "regex": ".checks:Regex", "contains_any": ".checks:ContainsAny",
    "exact_match": ".checks:ExactMatch", "token_f1": ".checks:TokenF1", "refusal": ".checks:Refusal",
    "llm_judge": ".judge:LLMJudge", "ragas": ".ragas_adapter:RagasScorer",
}
"""Scorer kind -> ``module:class`` (relative to ``workbench.scoring``); classes are imported on first use."""


def scorer_class(kind: str) -> type[ScorerBase]:
    """The class of a scorer kind; ``ConfigError`` naming the known kinds for an unknown one."""
    target = SCORER_KINDS.get(kind)
    if target is None:
        raise ConfigError(f"unknown scorer {kind!r}", hint=f"known scorers: {', '.join(SCORER_KINDS)}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module, __package__), cls)


def scorer_from_spec(spec: Criterion | dict[str, Any] | Scorer) -> Scorer:
    """Build a scorer from a criterion (``{"scorer": "token_f1", "threshold": 0.5, ...params}``) or a dump."""
    if isinstance(spec, BaseModel) and hasattr(spec, "score"):
        return spec  # already a scorer
    raw = spec.model_dump(exclude_none=True) if isinstance(spec, BaseModel) else dict(spec)
    kind = raw.pop("scorer", None) or raw.get("kind")
    raw.pop("kind", None)
    if not isinstance(kind, str):
        raise ConfigError(f"a criterion needs a 'scorer' name, got {spec!r}",
                          hint=f"known scorers: {', '.join(SCORER_KINDS)}")
    cls = scorer_class(kind)
    try:
        return cls(**raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'params'}: {err['msg']}" for err in e.errors())
        allowed = ", ".join(n for n in cls.model_fields if n != "kind")
        raise ConfigError(f"scorer {kind!r}: {problems}", hint=f"parameters of {kind}: {allowed}") from None


def score_all(sample: Sample, output: Output, scorers: Iterable[Scorer | Criterion | dict]) -> list[Score]:
    """Every scorer's score of one output, in order (criteria and dicts are built with ``scorer_from_spec``)."""
    return [scorer_from_spec(s).score(sample, output) for s in scorers]


async def ascore_all(sample: Sample, output: Output, scorers: Iterable[Scorer | Criterion | dict]) -> list[Score]:
    """Async twin of ``score_all`` (scorers run concurrently)."""
    import asyncio

    return list(await asyncio.gather(*(scorer_from_spec(s).ascore(sample, output) for s in scorers)))


def _stats(scores: list[Score]) -> dict[str, Any]:
    measured = [s for s in scores if s.measured]
    judged = [s for s in measured if s.passed is not None]
    return {"n": len(scores), "measured": len(measured), "unmeasured": len(scores) - len(measured),
            "mean": sum(s.value for s in measured) / len(measured) if measured else None,
            "pass_rate": sum(bool(s.passed) for s in judged) / len(judged) if judged else None}


def summarise(scores: Iterable[Score]) -> dict[str, Any]:
    """Mean value and pass rate over *measured* scores only, the unmeasured count, and the same per scorer.

    ``mean``/``pass_rate`` are ``None`` (not 0, not NaN) when nothing was measured.
    """
    scores = list(scores)
    names = list(dict.fromkeys(s.scorer for s in scores))
    return {**_stats(scores), "by_scorer": {n: _stats([s for s in scores if s.scorer == n]) for n in names}}
