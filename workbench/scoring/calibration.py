"""Judge calibration: agreement of a judge's verdicts with human labels, and a gate that refuses an uncalibrated
judge.

    from workbench.scoring import LLMJudge, calibrate_judge, require_calibrated
    cal = calibrate_judge(LLMJudge(), "evalsets/judge/judge_labels.jsonl")
    cal.accuracy, cal.kappa, cal.confusion, cal.to_pandas()
    require_calibrated(cal, min_kappa=0.6)      # CalibrationError (code "judge_not_calibrated") below it

Cohen's kappa: ``(p_o - p_e) / (1 - p_e)`` where ``p_o`` is the observed agreement and ``p_e`` the agreement
expected by chance from each rater's label frequencies. It is undefined (NaN) when both raters give one and the
same label to every item (``p_e == 1``); NaN never passes a gate.
"""
from __future__ import annotations

import html
import itertools
import math
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CalibrationError, DataError, UsageError


def _pairs(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[tuple[Hashable, Hashable]]:
    if len(a) != len(b):
        raise UsageError(f"label lists differ in length ({len(a)} vs {len(b)})", hint="give one label per item")
    if not a:
        raise UsageError("no labels to compare")
    return list(zip(a, b, strict=True))


def confusion_matrix(a: Sequence[Hashable], b: Sequence[Hashable],
                     labels: Sequence[Hashable] | None = None) -> dict[Hashable, dict[Hashable, int]]:
    """Counts ``{label_a: {label_b: n}}``: rows are ``a``'s labels, columns ``b``'s (every label in both)."""
    pairs = _pairs(a, b)
    labels = list(labels) if labels is not None else sorted({x for p in pairs for x in p}, key=str)
    counts = Counter(pairs)
    unknown = {x for p in pairs for x in p} - set(labels)
    if unknown:
        raise UsageError(f"labels {sorted(map(str, unknown))} are not in labels={labels!r}")
    return {x: {y: counts.get((x, y), 0) for y in labels} for x in labels}


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable], labels: Sequence[Hashable] | None = None) -> float:
    """Cohen's kappa between two raters' labels of the same items (NaN when chance agreement is 1)."""
    matrix = confusion_matrix(a, b, labels)
    n = len(a)
    observed = sum(matrix[x][x] for x in matrix) / n
    rows = {x: sum(matrix[x].values()) / n for x in matrix}
    cols = {y: sum(matrix[x][y] for x in matrix) / n for y in matrix}
    expected = sum(rows[x] * cols[x] for x in matrix)
    if math.isclose(expected, 1.0):
        return math.nan
    return (observed - expected) / (1 - expected)


def kappa_interval(a: Sequence[Hashable], b: Sequence[Hashable], labels: Sequence[Hashable] | None = None, *,
                   ci: float = 0.95, n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """A percentile bootstrap interval of Cohen's kappa, resampling whole items (seeded; resamples whose kappa is
    undefined are skipped). ``(nan, nan)`` with fewer than 2 items."""
    import random

    n = len(a)
    if n < 2:
        return math.nan, math.nan
    rng = random.Random(seed)
    pairs = list(zip(a, b, strict=True))
    draws = []
    for _ in range(n_boot):
        sample = rng.choices(pairs, k=n)
        k = cohen_kappa([x for x, _ in sample], [y for _, y in sample], labels)
        if not math.isnan(k):
            draws.append(k)
    if not draws:
        return math.nan, math.nan
    draws.sort()
    lo = draws[max(0, math.floor((1 - ci) / 2 * len(draws)))]
    hi = draws[min(len(draws) - 1, math.ceil((1 + ci) / 2 * len(draws)) - 1)]
    return lo, hi


def pairwise_kappas(label_lists: Mapping[str, Sequence[Hashable]] | Sequence[Sequence[Hashable]],
                    labels: Sequence[Hashable] | None = None) -> dict[tuple[str, str], float]:
    """Cohen's kappa for every pair of annotators (``{("a1", "a2"): kappa, ...}``); lists are named a1, a2, ..."""
    named = dict(label_lists) if isinstance(label_lists, Mapping) else \
        {f"a{i}": list(v) for i, v in enumerate(label_lists, 1)}
    return {(x, y): cohen_kappa(named[x], named[y], labels) for x, y in itertools.combinations(named, 2)}


@dataclass(frozen=True)
class Calibration:
    """How well a judge's verdicts agree with human labels on the items the judge could measure."""

    accuracy: float
    """Share of measured items where the judge's verdict equals the human label."""
    kappa: float
    """Cohen's kappa between human labels and judge verdicts (chance-corrected agreement)."""
    confusion: dict[str, dict[str, int]]
    """``{human_label: {judge_verdict: count}}`` over measured items."""
    n: int
    """Items the judge measured (the ones compared)."""
    n_unmeasured: int
    """Items the judge could not measure (unparseable, timed out, failed): excluded, and shown here."""
    labels: tuple[str, ...] = ("pass", "fail")
    """The label set, in display order."""
    judge: str = ""
    """What was calibrated (e.g. the judge's model and prompt)."""
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    """Items where judge and human differ (``id``, ``human``, ``judge``), for inspection."""
    kappa_low: float = math.nan
    """Lower end of the 95 % bootstrap interval of ``kappa`` (``kappa_interval``): what the gate checks."""
    kappa_high: float = math.nan
    """Upper end of that interval."""

    def usable_in_gate(self, min_kappa: float = 0.6) -> bool:
        """Whether the judge agrees with humans well enough *for sure*: the lower end of kappa's 95 % interval
        reaches ``min_kappa`` (on 88 labels kappa's standard error is ~0.085; NaN never does)."""
        return not math.isnan(self.kappa_low) and self.kappa_low >= min_kappa

    def to_pandas(self):
        """The confusion matrix as a DataFrame (rows: human label, columns: judge verdict)."""
        import pandas as pd

        frame = pd.DataFrame(self.confusion).T.loc[list(self.labels), list(self.labels)]
        frame.index.name, frame.columns.name = "human", "judge"
        return frame

    def to_dict(self) -> dict[str, Any]:
        """Accuracy, kappa, confusion matrix, counts and the judge's name, JSON-ready (disagreements left out)."""
        return {"accuracy": self.accuracy, "kappa": self.kappa, "confusion": self.confusion, "n": self.n,
                "n_unmeasured": self.n_unmeasured, "judge": self.judge}

    def _repr_html_(self) -> str:
        head = "".join(f"<th>judge {html.escape(str(y))}</th>" for y in self.labels)
        body = "".join(f"<tr><th>human {html.escape(str(x))}</th>"
                       + "".join(f"<td>{self.confusion[x][y]}</td>" for y in self.labels) + "</tr>"
                       for x in self.labels)
        gate = "usable in a gate" if self.usable_in_gate() else "NOT usable in a gate (kappa < 0.6)"
        return (f"<div><b>Judge calibration</b> {html.escape(self.judge)}: accuracy {self.accuracy:.3f}, "
                f"kappa {self.kappa:.3f}, n {self.n} ({self.n_unmeasured} unmeasured) — {gate}"
                f"<table><tr><th></th>{head}</tr>{body}</table></div>")


def _verdict(v: Any) -> str | None:
    """A verdict from a label, a bool or a ``Score`` (unmeasured → None)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "pass" if v else "fail"
    if hasattr(v, "measured"):
        return None if not v.measured else ("pass" if v.passed else "fail")
    raise UsageError(f"cannot read a verdict from {v!r}", hint="give 'pass'/'fail', a bool, None or a Score")


def calibrate(judge_verdicts: Sequence[Any], human_labels: Sequence[str], *, ids: Sequence[str] | None = None,
              labels: Sequence[str] = ("pass", "fail"), judge: str = "") -> Calibration:
    """Compare judge verdicts (labels, bools or ``Score``s; ``None`` = unmeasured) with human labels."""
    verdicts = [_verdict(v) for v in judge_verdicts]
    _pairs(verdicts, list(human_labels))
    ids = list(ids) if ids is not None else [str(i) for i in range(len(verdicts))]
    if len(ids) != len(verdicts):
        raise UsageError(f"{len(ids)} ids for {len(verdicts)} verdicts", hint="give one id per item, in order")
    kept = [(i, h, v) for i, h, v in zip(ids, human_labels, verdicts, strict=True) if v is not None]
    if not kept:
        raise UsageError("the judge measured none of the items: nothing to calibrate")
    humans, judged = [h for _, h, _ in kept], [v for _, _, v in kept]
    low, high = kappa_interval(humans, judged, labels)
    return Calibration(
        accuracy=sum(h == v for h, v in zip(humans, judged, strict=True)) / len(kept),
        kappa=cohen_kappa(humans, judged, labels), kappa_low=low, kappa_high=high,
        confusion=confusion_matrix(humans, judged, labels),
        n=len(kept), n_unmeasured=len(verdicts) - len(kept), labels=tuple(labels), judge=judge,
        disagreements=[{"id": i, "human": h, "judge": v} for i, h, v in kept if h != v])


def require_calibrated(calibration: Calibration, min_kappa: float = 0.6) -> Calibration:
    """Return ``calibration`` if the judge may be used in a gate; raise ``CalibrationError`` otherwise."""
    if not calibration.usable_in_gate(min_kappa):
        raise CalibrationError(
            f"judge {calibration.judge or ''} agrees with human labels at kappa {calibration.kappa:.3f} (95% CI "
            f"{calibration.kappa_low:.3f} to {calibration.kappa_high:.3f}; accuracy {calibration.accuracy:.3f}, "
            f"n {calibration.n}): the lower bound is below the minimum {min_kappa}",
            hint="improve the rubric or use a stronger judge model, recalibrate, or gate on deterministic checks")
    return calibration


def load_judge_labels(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a judge-labels JSONL (``id, question, reference, context, answer, human, note``)."""
    from .._util.jsonlines import json_objects

    path, rows = Path(path), []
    for n, row in json_objects(path, "label"):
        missing = [k for k in ("id", "question", "reference", "answer", "human") if k not in row]
        if missing or row["human"] not in ("pass", "fail"):
            raise DataError(f"needs id, question, reference, answer and human in pass|fail "
                            f"(missing: {missing or 'none'})", path=path, line=n)
        rows.append(row)
    return rows


def label_sample(row: Mapping[str, Any]):
    """The ``Sample`` a labelled row describes (no reference → an unanswerable sample)."""
    from ..evalsets.evalset import Sample

    refs = [r for r in row["reference"] if r.strip()]
    docs = [{"id": "context", "text": row["context"]}] if row.get("context") else []
    return Sample(id=row["id"], inputs={"question": row["question"], "documents": docs}, expected=refs,
                  category="normal" if refs else "unanswerable")


def calibrate_judge(judge: Any, path: str | Path, *, min_rows: int = 1) -> Calibration:
    """Run ``judge`` (any scorer) over a judge-labels file and compare its verdicts with the human labels."""
    rows = load_judge_labels(path)
    if len(rows) < min_rows:
        raise DataError(f"only {len(rows)} labelled rows, need {min_rows}", path=path)
    scores = [judge.score(label_sample(r), r["answer"]) for r in rows]
    name = getattr(judge, "name", type(judge).__name__)
    model = next((s.details.get("judge_model") for s in scores if s.details.get("judge_model")), None)
    return calibrate(scores, [r["human"] for r in rows], ids=[r["id"] for r in rows],
                     judge=f"{name} ({model})" if model else name)
