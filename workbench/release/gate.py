"""The CI gate: run an eval set through an exported config's pipeline(s) and compare with its thresholds.

    from workbench.release.gate import run_gate
    report = run_gate("configs/pipeline.yaml", "evalsets/northwind_qa.jsonl")
    report.passed, print(report.to_text()), report.to_dict()

or ``workbench gate --config configs/pipeline.yaml --evalset evalsets/northwind_qa.jsonl`` (exit 0 pass, 1 below
a threshold, 2 a usage error: unreadable or tampered config, bad eval set, an uncalibrated judge).

* **Which pipelines.** Every variant in the config is gated (the main one and any A/B candidate: each of them
  serves traffic, so each must meet the thresholds); the gate passes when all of them do.
* **Same path, same rules.** Each variant runs through the experiments engine — the same ``Pipeline`` the runner
  ships — and every sample is scored by its own criteria (``score_all``). A cell's pass/fail is
  ``workbench.experiments.results._cell_value``: errors count as fails, a sample whose
  ``metadata.expected_status`` is ``rejected`` passes when its input is rejected, unmeasured cells are counted
  apart. The *error rate* is the share of cells whose status is neither ``ok`` nor the expected one.
* **Fast reruns.** Model calls go through the workspace response cache, so a second gate run on the same config
  makes no model calls; the cells themselves are always recomputed and re-scored.
* **Judges must be calibrated.** When a criterion is an LLM judge, the judge is first calibrated on the human
  labels (``evalsets/judge/judge_labels.jsonl``); below the minimum kappa (``gate.judge_min_kappa`` when the config
  has it, else ``DEFAULT_JUDGE_MIN_KAPPA``) the gate refuses to run (exit 2): a judge that disagrees with humans
  cannot decide a release.

Notebook-free: no pandas or scipy here, so a CI image needs the core install plus the scorers' own dependencies.
"""
from __future__ import annotations

import html
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import UsageError

if TYPE_CHECKING:
    from ..experiments.engine import RunOptions

DEFAULT_JUDGE_MIN_KAPPA = 0.6
"""Minimum Cohen's kappa against human labels for an LLM judge to decide a gate."""

DEFAULT_JUDGE_LABELS = Path("evalsets") / "judge" / "judge_labels.jsonl"


@dataclass(frozen=True)
class Check:
    """One threshold: what was measured, the bar, and by how much it was missed."""

    criterion: str
    """``pass_rate``, ``pass_rate[<category>]``, ``error_rate`` or ``cost_per_item_usd``."""
    measured: float | None
    """None when it could not be measured (no samples, an unpriced model)."""
    threshold: float
    direction: Literal["min", "max"]
    """``min``: measured must be ≥ threshold; ``max``: ≤."""
    n: int | None = None
    """The cells a rate was measured on (pass rates), else None."""
    low: float | None = None
    """Lower end of the rate's 95 % Wilson interval (pass rates), else None."""
    high: float | None = None
    """Upper end of that interval."""
    bound: Literal["point", "lower", "upper"] = "point"
    """What must clear the bar: the point estimate, the interval's lower end (``GateThresholds.pass_rate_bound``),
    or its upper end (a ``--limit`` smoke check: it fails only when the sample shows the rate is surely below)."""

    @property
    def checked(self) -> float | None:
        """The value compared with the threshold: ``low`` or ``high`` per ``bound``, else ``measured``."""
        if self.measured is None or self.bound == "point":
            return self.measured
        return self.low if self.bound == "lower" else self.high

    @property
    def passed(self) -> bool:
        """The checked value meets the threshold; an unmeasured check fails."""
        value = self.checked
        if value is None:
            return False
        return value >= self.threshold if self.direction == "min" else value <= self.threshold

    @property
    def gap(self) -> float | None:
        """How far short of the threshold (positive = missed by that much, ≤ 0 = met)."""
        value = self.checked
        if value is None:
            return None
        return self.threshold - value if self.direction == "min" else value - self.threshold

    def describe(self) -> str:
        """One line: the criterion, measured value (with n and interval for rates), the bar, and ``ok`` or by how
        much it was missed."""
        op = "≥" if self.direction == "min" else "≤"
        if self.measured is None:
            return f"{self.criterion}: not measurable (need {op} {_fmt(self.criterion, self.threshold)})"
        verdict = "ok" if self.passed else f"FAIL, missed by {_fmt(self.criterion, self.gap, delta=True)}"
        value = _fmt(self.criterion, self.measured)
        if self.n is not None and self.low is not None:
            value += f" (n {self.n}, 95% CI {self.low:.3f} to {self.high:.3f})"
        what = {"lower": "lower bound ", "upper": "upper bound "}.get(self.bound, "")
        return f"{self.criterion}: {value}; {what}need {op} {_fmt(self.criterion, self.threshold)}: {verdict}"

    def to_dict(self) -> dict[str, Any]:
        """The fields plus ``passed`` and ``gap``, JSON-ready."""
        return {**asdict(self), "passed": self.passed, "gap": self.gap}


def _fmt(criterion: str, x: float | None, delta: bool = False) -> str:
    if x is None:
        return "n/a"
    if criterion.startswith("cost"):
        return f"${x:.6f}"
    return f"{x * 100:.1f} points" if delta else f"{x:.3f}"


def _rate_check(criterion: str, rate: float | None, n: int | None, threshold: float, bound: str) -> Check:
    from ..stats.rates import wilson_interval

    if rate is None or not n:  # no count to put an interval on: the point estimate is all there is
        return Check(criterion, rate, threshold, "min", n=n)
    low, high = wilson_interval(round(rate * n), n)
    return Check(criterion, rate, threshold, "min", n=n, low=low, high=high, bound=bound)  # type: ignore[arg-type]


def check_thresholds(gate: Any, measured: dict[str, Any], *, bound: str | None = None) -> list[Check]:
    """Compare measured figures (``pass_rate``, ``by_category`` with ``n_measured`` and ``n_by_category``,
    ``error_rate``, ``unmeasured``, ``cost_per_item_usd``) with a ``GateThresholds``: pass rates on the lower end
    of their 95 % Wilson interval unless ``pass_rate_bound`` is ``point``. The same function decides the gate and
    the export refusal. ``bound`` overrides the bars' bound (``upper`` for a smoke check)."""
    bound = bound or gate.pass_rate_bound
    n_total = measured.get("n")
    n_measured = measured.get("n_measured", (n_total or 0) - (measured.get("unmeasured") or 0))
    checks = [_rate_check("pass_rate", measured.get("pass_rate"), n_measured, gate.min_pass_rate, bound)]
    by_cat, n_cat = measured.get("by_category") or {}, measured.get("n_by_category") or {}
    checks += [_rate_check(f"pass_rate[{c}]", by_cat.get(c), n_cat.get(c), t, bound)
               for c, t in sorted(gate.min_pass_rate_by_category.items())]
    checks.append(Check("error_rate", measured.get("error_rate"), gate.max_error_rate, "max"))
    if n_total:
        checks.append(Check("unmeasured_share", (measured.get("unmeasured") or 0) / n_total,
                            gate.max_unmeasured_share, "max"))
    if gate.max_cost_per_item_usd is not None:
        checks.append(Check("cost_per_item_usd", measured.get("cost_per_item_usd"), gate.max_cost_per_item_usd,
                            "max"))
    return checks


def measure(records: list[Any]) -> dict[str, Any]:
    """Pass rate (overall and per category), error rate and cost per item of a list of ``RunRecord``s."""
    from ..experiments.results import OVERALL, _cell_value

    passed: list[bool] = []
    by_cat: dict[str, list[bool]] = {}
    unmeasured = errors = 0
    costs = [r.answer_cost_usd for r in records]
    for r in records:
        ok = _cell_value(r, OVERALL)[1]
        if r.status not in ("ok", r.expected_status):
            errors += 1
        if ok is None:
            unmeasured += 1
            continue
        passed.append(bool(ok))
        by_cat.setdefault(r.category, []).append(bool(ok))
    n = len(records)
    return {
        "n": n, "unmeasured": unmeasured, "n_measured": len(passed),
        "pass_rate": sum(passed) / len(passed) if passed else None,
        "by_category": {c: sum(v) / len(v) for c, v in by_cat.items()},
        "n_by_category": {c: len(v) for c, v in by_cat.items()},
        "error_rate": errors / n if n else None,
        "cost_per_item_usd": (sum(costs) / n) if n and all(c is not None for c in costs) else None,
    }


@dataclass(frozen=True)
class VariantReport:
    """The gate's measurement of one variant."""

    variant: str
    config_hash: str
    measured: dict[str, Any]
    checks: list[Check]

    @property
    def passed(self) -> bool:
        """Every check of this variant passed."""
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        """The checks this variant missed."""
        return [c for c in self.checks if not c.passed]


@dataclass(frozen=True)
class GateReport:
    """The outcome of a gate run: one ``VariantReport`` per gated variant; passes when all pass."""

    config: str
    config_hash: str
    evalset: str
    evalset_hash: str
    samples: int
    variants: list[VariantReport]
    judge: dict[str, Any] | None = None
    """The judge calibration the gate relied on (None when no criterion is an LLM judge)."""
    records: str | None = None
    """The folder holding the gate's per-sample records (for inspecting failures)."""
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every gated variant passed."""
        return all(v.passed for v in self.variants)

    @property
    def exit_code(self) -> int:
        """The CLI exit code: 0 when the gate passed, 1 when it failed."""
        return 0 if self.passed else 1

    def to_dict(self) -> dict[str, Any]:
        """The ``--format json`` output: the verdict, what was gated and every check."""
        return {"passed": self.passed, "config": self.config, "config_hash": self.config_hash,
                "evalset": self.evalset, "evalset_hash": self.evalset_hash, "samples": self.samples,
                "variants": [{"variant": v.variant, "config_hash": v.config_hash, "passed": v.passed,
                              "measured": v.measured, "checks": [c.to_dict() for c in v.checks]}
                             for v in self.variants],
                "judge": self.judge, "records": self.records, "notes": self.notes}

    def to_text(self) -> str:
        """The human report: one line per check under each variant, notes, the judge's calibration and the verdict."""
        lines = [f"gate {self.config} ({self.config_hash[:19]}…) on {self.evalset} ({self.samples} samples)"]
        for v in self.variants:
            m = v.measured
            lines.append(f"variant {v.variant}: {'PASS' if v.passed else 'FAIL'} "
                         f"({m['n']} cells, {m['unmeasured']} unmeasured)")
            lines += [f"  {'✓' if c.passed else '✗'} {c.describe()}" for c in v.checks]
        lines += [f"note: {n}" for n in self.notes]
        if self.judge:
            lines.append(f"judge: {self.judge['judge']} kappa {self.judge['kappa']:.3f} (95% CI "
                         f"{self.judge['kappa_low']:.3f} to {self.judge['kappa_high']:.3f}; its lower bound must "
                         f"reach {self.judge['min_kappa']})")
        failed = [f"{v.variant}: {c.criterion}" for v in self.variants for c in v.failed]
        lines.append("gate PASSED" if self.passed else f"gate FAILED ({len(failed)} criteria): " + "; ".join(failed))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(v.variant)}</td><td>{html.escape(c.criterion)}</td>"
            f"<td>{_fmt(c.criterion, c.measured)}</td><td>{'≥' if c.direction == 'min' else '≤'} "
            f"{_fmt(c.criterion, c.threshold)}</td><td>{'✓' if c.passed else '✗ ' + _fmt(c.criterion, c.gap, True)}"
            f"</td></tr>" for v in self.variants for c in v.checks)
        return (f"<div><b>gate {'PASSED' if self.passed else 'FAILED'}</b> — {html.escape(self.config)} on "
                f"{html.escape(self.evalset)} ({self.samples} samples)<table><tr><th>variant</th><th>criterion</th>"
                f"<th>measured</th><th>threshold</th><th>result</th></tr>{rows}</table></div>")


def _judge_criteria(evalset: Any) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for s in evalset:
        for c in s.criteria:
            spec = c if isinstance(c, dict) else c.model_dump(exclude_none=True)
            if spec.get("scorer") == "llm_judge":
                seen[json.dumps(spec, sort_keys=True, default=str)] = spec
    return list(seen.values())


def require_calibrated_judges(evalset: Any, min_kappa: float, labels: str | Path | None = None
                              ) -> dict[str, Any] | None:
    """Calibrate every LLM-judge criterion of ``evalset`` on the human labels; ``UsageError`` (code
    ``judge_not_calibrated``) when one agrees with humans below ``min_kappa``. None when there is no judge."""
    from .._util.paths import project_root
    from ..errors import CalibrationError
    from ..scoring import calibrate_judge, require_calibrated, scorer_from_spec

    specs = _judge_criteria(evalset)
    if not specs:
        return None
    path = Path(labels) if labels else (project_root() or Path.cwd()) / DEFAULT_JUDGE_LABELS
    if not path.exists():
        raise UsageError(f"the eval set scores with an LLM judge but there are no human labels to calibrate it "
                         f"on ({path})", code="judge_not_calibrated",
                         hint="pass --judge-labels PATH (a judge-labels JSONL), or gate on deterministic checks")
    last = None
    for spec in specs:
        cal = calibrate_judge(scorer_from_spec(spec), path)
        try:
            require_calibrated(cal, min_kappa)
        except CalibrationError as e:
            raise UsageError(f"a judge under the configured kappa cannot be used in a gate: {e.message}",
                             code="judge_not_calibrated", hint=e.hint) from None
        last = {"judge": cal.judge, "kappa": cal.kappa, "kappa_low": cal.kappa_low, "kappa_high": cal.kappa_high,
                "accuracy": cal.accuracy, "n": cal.n,
                "min_kappa": min_kappa, "labels": str(path)}
    return last


@dataclass(frozen=True)
class GateOptions:
    """How a gate runs, e.g. ``GateOptions(limit=40)`` for a smoke check."""

    limit: int | None = None
    """Only the first N samples, stratified by category: a smoke check, without the full gate's power."""
    judge_labels: str | Path | None = None
    """Human labels an LLM-judge criterion is calibrated on (default ``evalsets/judge/judge_labels.jsonl``)."""
    run: RunOptions | None = None
    """How the eval set runs (default ``RunOptions()``: concurrency 16, the workspace's response cache)."""
    progress: bool = False
    """A progress bar on stderr."""
    allow_stand_in_evidence: bool = False
    """Gate real models against thresholds that offline stand-ins measured (refused otherwise); recorded in the
    report."""


def run_gate(config: Any, evalset: Any, *, options: GateOptions | None = None) -> GateReport:
    """Run ``evalset`` through every variant of ``config`` (a ``ProductionConfig`` or a path, verified on load)
    and check ``config.gate``. Refused (``UsageError``, exit 2) when real models would answer a config whose
    evidence offline stand-ins measured, unless the export or ``options`` accepted that."""
    from .._util.paths import workspace
    from ..config.production import ProductionConfig, load_production_config
    from ..evalsets.evalset import EvalSet, load_evalset
    from ..experiments.engine import Experiment, _first_stratified

    label = str(config) if not isinstance(config, ProductionConfig) else config.name
    config = config if isinstance(config, ProductionConfig) else load_production_config(config)
    if config.config_hash != config.computed_hash():
        from ..errors import ConfigTamperedError

        raise ConfigTamperedError(f"config {config.name}: config_hash does not match the content",
                                  hint="export it with workbench.release.export_config (it sets the hash)")
    opts = options or GateOptions()
    limit, notes = opts.limit, config.check_stand_in_evidence(opts.allow_stand_in_evidence)
    es = evalset if isinstance(evalset, EvalSet) else load_evalset(evalset)
    if limit is not None:
        if limit < 1:
            raise UsageError("--limit must be at least 1")
        es = _first_stratified(es, limit)
    min_kappa = getattr(config.gate, "judge_min_kappa", None) or DEFAULT_JUDGE_MIN_KAPPA
    judge = require_calibrated_judges(es, min_kappa, opts.judge_labels)

    out = workspace("gates", f"{config.name}-{config.config_hash.removeprefix('sha256:')[:10]}-"
                             f"{es.hash.removeprefix('sha256:')[:10]}")
    shutil.rmtree(out, ignore_errors=True)  # always re-measure; the response cache keeps reruns fast
    exp = Experiment(es, dict(config.variants), out, options=opts.run)
    exp.run(progress=opts.progress)
    from ..experiments.results import ExperimentResults

    records = ExperimentResults(out).records
    reports = []
    for name, cfg in config.variants.items():
        m = measure([r for r in records if r.variant == name])
        reports.append(VariantReport(name, cfg.hash, m,
                                     check_thresholds(config.gate, m, bound="upper" if limit else None)))
    if limit:
        notes.append(f"only the first {len(es)} samples (--limit), stratified by category: a smoke check, without the "
                     "full gate's statistical power. A pass-rate bar fails here only when the sample's upper 95% "
                     "bound is below it (surely worse); the full gate checks the lower bound")
    if not limit and config.evidence.evalset_hash and config.evidence.evalset_hash != es.hash:
        notes.append(f"the eval set ({es.hash[:19]}…) is not the one the evidence was measured on "
                     f"({config.evidence.evalset_name}, {config.evidence.evalset_hash[:19]}…): compare the numbers "
                     "with care")
    return GateReport(label, config.config_hash, f"{es.name} v{es.version}", es.hash, len(es), reports,
                      judge=judge, records=str(out), notes=notes)
