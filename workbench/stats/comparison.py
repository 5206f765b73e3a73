"""``paired_comparison``: is B really better than A on the same samples? One record with every figure."""
from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..errors import UsageError
from ._data import pair, require_pairs, resolve_kind
from .inference import bootstrap_ci, mcnemar_exact, wilcoxon_test

_TEST_LABEL = {"mcnemar_exact": "McNemar", "mcnemar_midp": "McNemar mid-p", "wilcoxon_pratt": "Wilcoxon",
               "wilcoxon_exact": "exact Wilcoxon"}


@dataclass(frozen=True)
class ComparisonOptions:
    """How a paired comparison is tested and its interval drawn, e.g. ``ComparisonOptions(alpha=0.01)``."""

    alpha: float = 0.05
    """Significance level: ``significant`` when the p-value (the adjusted one, when corrected) is below it."""
    min_pairs: int = 10
    """Fewer pairs than this raise ``StatsError`` (``insufficient_data``) instead of giving a p-value."""
    mid_p: bool = False
    """Pass/fail data: McNemar's mid-p instead of the exact test (less conservative)."""
    n_boot: int = 10_000
    """Bootstrap resamples for the interval of the mean difference."""
    ci: float = 0.95
    """Confidence level of that interval."""
    seed: int | None = 0
    """Seed of the bootstrap (None: a different draw each time)."""
    equivalence_margin: float = 0.05
    """The largest difference that counts as *no meaningful difference* (0.05: 5 points on a pass rate): a
    non-significant result reads "equivalent" only when the equivalence test (TOST) shows it is within this."""


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of variant B against variant A (difference = B − A; higher scores are better)."""

    name_a: str
    """The reference variant (the baseline in ``compare_many``)."""
    name_b: str
    """The variant compared against it."""
    kind: str
    """``binary`` (pass/fail) or ``continuous`` (graded scores)."""
    test: str
    """``mcnemar_exact``, ``mcnemar_midp``, ``wilcoxon_exact`` (up to 25 non-zero differences) or
    ``wilcoxon_pratt``."""
    n_pairs: int
    """Samples with a measured value in both variants: everything below is computed on these."""
    n_unpaired_a: int
    """Sample ids only A has (not compared)."""
    n_unpaired_b: int
    """Sample ids only B has (not compared)."""
    n_missing_a: int
    """Paired ids dropped because A's value is None/NaN."""
    n_missing_b: int
    """Paired ids dropped because B's value is None/NaN."""
    n_dropped: int
    """Paired ids dropped for a missing value on either side (never counted as 0)."""
    mean_a: float
    """A's mean over the pairs (its pass rate when binary)."""
    mean_b: float
    """B's mean over the pairs."""
    difference: float
    """mean_b − mean_a: the effect size on the score's own scale."""
    ci_low: float
    """Lower end of the paired percentile-bootstrap interval for ``difference``."""
    ci_high: float
    """Upper end of that interval."""
    ci: float
    """The interval's confidence level (0.95)."""
    sd_diff: float
    """SD of the per-sample differences (ddof=1): the planner's ``sd_diff`` for the next experiment."""
    p_value: float
    """The test's two-sided p-value, before any multiple-comparison correction."""
    alpha: float
    """Significance threshold."""
    statistic: float | None = None
    """Wilcoxon's statistic (continuous); None for McNemar."""
    b01: int | None = None
    """Binary: pairs where A failed and B passed."""
    b10: int | None = None
    """Binary: pairs where A passed and B failed."""
    odds_ratio: float | None = None
    """Binary: b01 / b10, the odds a discordant pair goes B's way (inf when b10 = 0, nan when none)."""
    odds_ratio_low: float | None = None
    """Binary: lower end of the exact (Clopper–Pearson) interval for the odds ratio."""
    odds_ratio_high: float | None = None
    """Binary: upper end of that interval."""
    p_adjusted: float | None = None
    """The p-value corrected for multiple comparisons (``compare_many``: Holm); None when uncorrected."""
    correction: str | None = None
    """How ``p_adjusted`` was corrected, e.g. ``"holm (3 comparisons)"``."""
    n_boot: int = 10_000
    """Bootstrap resamples."""
    seed: int | None = 0
    """Bootstrap seed."""
    points: bool = True
    """Every value is in [0, 1], so the verdict states differences in percentage points (×100)."""
    note: str = ""
    """Anything unusual about the test (e.g. all differences zero)."""
    equivalence_margin: float = 0.05
    """The declared margin of ``equivalent`` (``ComparisonOptions.equivalence_margin``)."""
    tost_low: float = float("nan")
    """Lower end of the (1 − 2·alpha) paired bootstrap interval: two one-sided tests (TOST) at ``alpha``."""
    tost_high: float = float("nan")
    """Upper end of that interval."""

    @property
    def equivalent(self) -> bool:
        """Not significant, and the TOST interval lies within ±``equivalence_margin``: no meaningful difference."""
        return (not self.significant and -self.equivalence_margin < self.tost_low
                and self.tost_high < self.equivalence_margin)

    @property
    def more_items_needed(self) -> int | None:
        """Neither significant nor equivalent: about how many more paired items would decide either way, if the
        observed difference and spread held (binary: McNemar's exact test on the discordant pairs scaled up;
        continuous: a normal approximation with ``sd_diff``). None when decided."""
        if self.significant or self.equivalent:
            return None
        return _more_items_needed(self)

    @property
    def p(self) -> float:
        """The p-value the decision uses: the adjusted one when corrected, else the raw one."""
        return self.p_value if self.p_adjusted is None else self.p_adjusted

    @property
    def significant(self) -> bool:
        """``p < alpha`` (on the adjusted p-value when corrected)."""
        return self.p < self.alpha

    @property
    def discordance(self) -> float | None:
        """Binary: share of pairs where A and B disagree, (b01 + b10) / n — the planner's ``discordance``."""
        return None if self.b01 is None else (self.b01 + self.b10) / self.n_pairs

    @property
    def verdict(self) -> str:
        """One plain-English sentence: direction, size, interval, test, pairs and the decision."""
        return _verdict(self)

    def to_dict(self) -> dict[str, Any]:
        """Every field plus ``significant``, ``discordance``, ``verdict``; JSON-safe (inf/nan → None)."""
        out = {k: _json_safe(v) for k, v in asdict(self).items()}
        out.update(significant=self.significant, discordance=self.discordance, verdict=self.verdict,
                   equivalent=self.equivalent, more_items_needed=self.more_items_needed)
        return out

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.significant else "#6e7781"
        pairs = (f"{self.n_pairs} ({self.n_dropped} dropped for missing, "
                 f"{self.n_unpaired_a}/{self.n_unpaired_b} unpaired in {self.name_a}/{self.name_b})")
        rows = [("pairs", pairs),
                (f"mean {self.name_a} / {self.name_b}", f"{self.mean_a:.4f} / {self.mean_b:.4f}"),
                ("difference (B − A)", f"{self.difference:+.4f} [{self.ci_low:+.4f}, {self.ci_high:+.4f}]"),
                (self.test, _fmt_p(self.p_value) + ("" if self.p_adjusted is None
                                                     else f"; {self.correction}: {_fmt_p(self.p_adjusted)}"))]
        if self.b01 is not None:
            odds = (f"{self.b01} / {self.b10}; odds ratio {self.odds_ratio:.3g} "
                    f"[{self.odds_ratio_low:.3g}, {self.odds_ratio_high:.3g}]")
            rows.append(("discordant b01 / b10", odds))
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        return (f"<div><p style='color:{colour}'><b>{html.escape(self.verdict)}</b></p>"
                f"<table>{body}</table></div>")


def paired_comparison(a: Any, b: Any, *, name_a: str = "A", name_b: str = "B", kind: str = "auto",
                      options: ComparisonOptions | None = None) -> Comparison:
    """Compare B with A on the samples both measured: mean difference, paired bootstrap interval, a test.

    ``a`` and ``b`` are ``{sample_id: value}`` dicts or pandas Series indexed by id; values are bools or
    scores, None/NaN for unmeasured (dropped pairwise and counted). ``kind="auto"`` is binary when every
    value is 0/1. Binary data get McNemar's exact test (or its mid-p), continuous data Wilcoxon signed-rank
    with Pratt's zero handling. ``options``: alpha, minimum pairs, mid-p and the bootstrap
    (``ComparisonOptions()``).
    Raises ``StatsError`` (``insufficient_data``) when fewer than ``options.min_pairs`` pairs remain."""
    o = options or ComparisonOptions()
    if not 0 < o.alpha < 1:
        raise UsageError("alpha must be in (0, 1)")
    paired = pair(a, b, name_a=name_a, name_b=name_b)
    require_pairs(paired, o.min_pairs, name_a, name_b)
    resolved = resolve_kind(kind, paired.a, paired.b)
    d = paired.b - paired.a
    lo, hi = bootstrap_ci(d, n_boot=o.n_boot, ci=o.ci, seed=o.seed)
    tost_lo, tost_hi = bootstrap_ci(d, n_boot=o.n_boot, ci=1 - 2 * o.alpha, seed=o.seed)
    test = _binary_test(paired.a, paired.b, o.mid_p, o.ci) if resolved == "binary" else _continuous_test(d)
    both = np.concatenate([paired.a, paired.b])
    return Comparison(
        name_a=name_a, name_b=name_b, kind=resolved, n_pairs=len(d), n_unpaired_a=paired.n_unpaired_a,
        n_unpaired_b=paired.n_unpaired_b, n_missing_a=paired.n_missing_a, n_missing_b=paired.n_missing_b,
        n_dropped=paired.n_dropped, mean_a=float(paired.a.mean()), mean_b=float(paired.b.mean()),
        difference=float(d.mean()), ci_low=lo, ci_high=hi, ci=o.ci, alpha=o.alpha, n_boot=o.n_boot,
        seed=o.seed, equivalence_margin=o.equivalence_margin, tost_low=tost_lo, tost_high=tost_hi,
        sd_diff=float(d.std(ddof=1)) if len(d) > 1 else 0.0, points=bool(np.all((both >= 0) & (both <= 1))),
        **test)


def _binary_test(a: np.ndarray, b: np.ndarray, mid_p: bool, ci: float) -> dict[str, Any]:
    m = mcnemar_exact(a, b, mid_p=mid_p, ci=ci)
    note = "" if m.b01 + m.b10 else ("no discordant pairs: A and B passed and failed the same samples, "
                                     "so there is no evidence of a difference")
    return {"test": "mcnemar_midp" if mid_p else "mcnemar_exact", "p_value": m.p_value, "b01": m.b01,
            "b10": m.b10, "odds_ratio": m.odds_ratio, "odds_ratio_low": m.odds_ratio_ci[0],
            "odds_ratio_high": m.odds_ratio_ci[1], "note": note}


def _continuous_test(d: np.ndarray) -> dict[str, Any]:
    w = wilcoxon_test(d)
    return {"test": f"wilcoxon_{w.method}", "p_value": w.p_value, "statistic": w.statistic,
            "note": w.note}


def _verdict(c: Comparison) -> str:
    """E.g. "B is better than A by 6.0 points (95% CI 2.1 to 9.8; McNemar p = 0.004, 150 paired samples): …"
    """
    unit = " points" if c.points else ""
    size = _num(abs(c.difference), c.points)
    same = not c.significant and float(size) == 0
    if c.significant:
        better, worse = (c.name_b, c.name_a) if c.difference > 0 else (c.name_a, c.name_b)
        head = f"{better} is better than {worse} by {size}{unit}"
    elif same:
        head = f"{c.name_b} scores the same as {c.name_a}"
    else:
        direction = "higher" if c.difference > 0 else "lower"
        head = f"{c.name_b} scores {size}{unit} {direction} than {c.name_a}"
    low, high = (c.ci_low, c.ci_high) if not c.significant or c.difference > 0 else (-c.ci_high, -c.ci_low)
    interval = f"{round(c.ci * 100, 1):g}% CI {_num(low, c.points)} to {_num(high, c.points)}"  # of the stated gap
    detail = (f"{'difference 0; ' if same else ''}{interval}; "
              f"{_TEST_LABEL.get(c.test, c.test)} {_fmt_adjusted(c)}, {c.n_pairs} paired samples")
    margin = _num(c.equivalence_margin, c.points) + unit
    if c.significant:
        tail = "the difference is significant."
    elif c.equivalent:
        tail = (f"no meaningful difference: the equivalence test (TOST, {round((1 - 2 * c.alpha) * 100, 1):g}% "
                f"interval {_num(c.tost_low, c.points)} to {_num(c.tost_high, c.points)}) keeps it within "
                f"±{margin}, the declared margin.")
    else:
        tail = (f"inconclusive: about {c.more_items_needed} more items needed to tell a difference from none "
                f"(within ±{margin}); not significant does not mean equivalent.")
    unpaired = c.n_unpaired_a + c.n_unpaired_b
    extra = (f" Not compared: {_count(c.n_dropped, 'pair')} with a missing value, "
             f"{_count(unpaired, 'unpaired id')}." if c.n_dropped or unpaired else "")
    return f"{head} ({detail}): {tail}{extra}"


def _more_items_needed(c: Comparison) -> int:
    """See ``Comparison.more_items_needed``: the smallest total that would make the observed effect significant,
    or show equivalence, whichever comes first; minus the pairs already compared (at least 1)."""
    from scipy import stats as sps

    n, d = c.n_pairs, abs(c.difference)
    targets = []
    if c.b01 is not None:  # binary: the same discordant split, scaled to n + m pairs (all totals at once)
        totals = np.arange(n + 1, 100 * n + 2)
        k = np.rint((c.b01 + c.b10) * totals / n)
        low = np.rint(min(c.b01, c.b10) * totals / n)
        first = np.flatnonzero((k > 0) & (2 * sps.binom.cdf(low, np.maximum(k, 1), 0.5) < c.alpha))
        if first.size:
            targets.append(int(totals[first[0]]))
    elif d > 0 and c.sd_diff > 0:
        targets.append((sps.norm.ppf(1 - c.alpha / 2) * c.sd_diff / d) ** 2)
    if d < c.equivalence_margin and c.sd_diff > 0:
        targets.append((sps.norm.ppf(1 - c.alpha) * c.sd_diff / (c.equivalence_margin - d)) ** 2)
    if not targets:
        return 100 * n
    return max(1, math.ceil(min(targets) - n))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _num(x: float, points: bool) -> str:
    """A difference as percentage points with one decimal, or on its own scale with 3 significant digits."""
    text = f"{x * 100:.1f}" if points else f"{x:.3g}"
    return "0.0" if text in ("-0.0", "-0") else text


def _fmt_adjusted(c: Comparison) -> str:
    if c.p_adjusted is None:
        return _fmt_p(c.p_value)
    how = "Holm-adjusted" if (c.correction or "").startswith("holm") else "adjusted"
    return f"{how} {_fmt_p(c.p_adjusted)}"


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _json_safe(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v
