"""Judge calibration: kappa on textbook cases, confusion matrices, the gate, the shipped labels, PandaLM kappas."""
import json
import math
from collections import Counter
from pathlib import Path

import pytest

from workbench.errors import CalibrationError, UsageError, WorkbenchError
from workbench.scoring import (
    Calibration,
    LLMJudge,
    Score,
    calibrate,
    calibrate_judge,
    cohen_kappa,
    confusion_matrix,
    kappa_interval,
    load_judge_labels,
    pairwise_kappas,
    require_calibrated,
)

LABELS = Path(__file__).resolve().parents[1] / "evalsets" / "judge" / "judge_labels.jsonl"


def expand(table):
    """Two label lists from ``{(a, b): count}``."""
    pairs = [p for p, n in table.items() for _ in range(n)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def test_kappa_textbook_example():
    # Wikipedia "Cohen's kappa", first example: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> p_o 0.7, kappa 0.4
    a, b = expand({("yes", "yes"): 20, ("yes", "no"): 5, ("no", "yes"): 10, ("no", "no"): 15})
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_second_textbook_example():
    # Wikipedia: 45/15/25/15 -> kappa 0.1304; 25/35/5/35 -> kappa 0.2593
    assert cohen_kappa(*expand({(1, 1): 45, (1, 0): 15, (0, 1): 25, (0, 0): 15})) == pytest.approx(0.1304, abs=1e-4)
    assert cohen_kappa(*expand({(1, 1): 25, (1, 0): 35, (0, 1): 5, (0, 0): 35})) == pytest.approx(0.2593, abs=1e-4)


def test_kappa_matches_scipy_free_reference_implementation():
    a = ["pass", "fail", "pass", "pass", "fail", "fail", "pass", "fail", "pass", "pass"]
    b = ["pass", "fail", "fail", "pass", "fail", "pass", "pass", "fail", "pass", "fail"]
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pe = sum((a.count(k) / n) * (b.count(k) / n) for k in ("pass", "fail"))
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe))


def test_perfect_chance_and_worse_than_chance():
    a = ["p", "f"] * 10
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, ["p", "p", "f", "f"] * 5) == pytest.approx(0.0)  # independent halves: chance level
    assert cohen_kappa(a, ["f", "p"] * 10) == pytest.approx(-1.0)
    assert math.isnan(cohen_kappa(["p"] * 5, ["p"] * 5))  # undefined: one label for everything


def test_kappa_input_errors():
    with pytest.raises(UsageError):
        cohen_kappa([1, 2], [1])
    with pytest.raises(UsageError):
        cohen_kappa([], [])
    with pytest.raises(UsageError):
        cohen_kappa([1, 3], [1, 1], labels=[1, 2])


def test_confusion_matrix_rows_first_rater():
    m = confusion_matrix(["pass", "pass", "fail"], ["pass", "fail", "fail"], ["pass", "fail"])
    assert m == {"pass": {"pass": 1, "fail": 1}, "fail": {"pass": 0, "fail": 1}}
    assert confusion_matrix([2, 1], [1, 1]) == {1: {1: 1, 2: 0}, 2: {1: 1, 2: 0}}


def test_calibrate_excludes_unmeasured_and_reads_scores():
    human = ["pass", "fail", "pass", "fail", "pass"]
    verdicts = [Score("j", 0.9, True), Score("j", 0.1, False), Score.unmeasured("j", "timeout"), True, "fail"]
    cal = calibrate(verdicts, human, ids=list("abcde"))
    assert cal.n == 4 and cal.n_unmeasured == 1 and cal.accuracy == 0.5 and cal.kappa == 0.0
    assert cal.confusion == {"pass": {"pass": 1, "fail": 1}, "fail": {"pass": 1, "fail": 1}}
    assert cal.disagreements == [{"id": "d", "human": "fail", "judge": "pass"},
                                 {"id": "e", "human": "pass", "judge": "fail"}]
    frame = cal.to_pandas()
    assert frame.loc["pass", "fail"] == 1 and frame.index.name == "human" and frame.columns.name == "judge"
    assert "kappa" in cal._repr_html_() and "NOT usable" in cal._repr_html_()
    with pytest.raises(UsageError, match="measured none"):
        calibrate([None, None], ["pass", "fail"])


def test_gate_refuses_a_judge_under_min_kappa():
    weak = calibrate(["pass", "pass", "fail", "pass"], ["pass", "fail", "fail", "fail"])
    assert not weak.usable_in_gate(0.6)
    with pytest.raises(CalibrationError) as e:
        require_calibrated(weak, min_kappa=0.6)
    assert isinstance(e.value, WorkbenchError) and e.value.code == "judge_not_calibrated" and e.value.hint
    strong = calibrate(["pass", "fail"] * 10, ["pass", "fail"] * 10)
    assert strong.usable_in_gate() and require_calibrated(strong) is strong
    nan = calibrate(["pass"] * 4, ["pass"] * 4)
    assert math.isnan(nan.kappa) and not nan.usable_in_gate()


def test_pairwise_kappas_names():
    ks = pairwise_kappas({"ann": [1, 0, 1, 0], "bob": [1, 0, 1, 0], "cy": [0, 1, 0, 1]})
    assert ks == {("ann", "bob"): 1.0, ("ann", "cy"): -1.0, ("bob", "cy"): -1.0}
    assert set(pairwise_kappas([[1, 0], [1, 0], [0, 1]])) == {("a1", "a2"), ("a1", "a3"), ("a2", "a3")}


def test_shipped_judge_labels():
    rows = load_judge_labels(LABELS)
    assert len(rows) >= 60
    counts = Counter(r["human"] for r in rows)
    assert counts["pass"] >= 20 and counts["fail"] >= 20
    assert len({r["id"] for r in rows}) == len(rows)
    assert all(r["note"].strip() and r["answer"].strip() and r["context"].strip() for r in rows)
    assert any(not r["reference"] for r in rows)  # unanswerable questions are included


def test_offline_judge_calibration_is_reported_and_gated():
    cal = calibrate_judge(LLMJudge(), LABELS)
    assert isinstance(cal, Calibration) and cal.n + cal.n_unmeasured == len(load_judge_labels(LABELS))
    assert cal.n_unmeasured == 0 and "local/judge" in cal.judge
    # measured when this test was written: accuracy 0.727, kappa 0.455 -> a lexical heuristic, not gate-worthy
    assert cal.accuracy == pytest.approx(0.727, abs=0.03) and cal.kappa == pytest.approx(0.455, abs=0.06)
    assert not cal.usable_in_gate(0.6)
    with pytest.raises(CalibrationError):
        require_calibrated(cal)


def test_pandalm_inter_annotator_kappas(shared_external):
    path = shared_external / "judge-agreement" / "pandalm_human_vs_llm_judge.jsonl"
    if not path.exists():
        pytest.skip("judge-agreement data is not present")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 999
    annotators = [[r["human_labels"][i] for r in rows] for i in range(3)]
    kappas = {k: round(v, 3) for k, v in pairwise_kappas(annotators).items()}
    assert kappas == {("a1", "a2"): 0.852, ("a1", "a3"): 0.879, ("a2", "a3"): 0.862}
    majority = [r["human_majority"] for r in rows]
    assert round(cohen_kappa(majority, [r["judge_pandalm7b"] for r in rows]), 3) == 0.435
    assert Counter(majority) == {0: 105, 1: 422, 2: 472}


def test_the_gate_needs_kappas_lower_bound_not_its_point_estimate():
    humans = ["pass"] * 44 + ["fail"] * 44
    judge = ["pass"] * 37 + ["fail"] * 7 + ["fail"] * 37 + ["pass"] * 7  # 74/88 agree: kappa 0.68
    cal = calibrate(judge, humans)
    assert cal.kappa == pytest.approx(0.682, abs=1e-3) and cal.kappa_low < 0.6 < cal.kappa < cal.kappa_high
    assert not cal.usable_in_gate(0.6)  # the point estimate clears 0.6, its 95% interval does not
    with pytest.raises(CalibrationError, match=r"95% CI 0\.\d+ to 0\.\d+.*lower bound is below"):
        require_calibrated(cal, 0.6)
    lo, hi = kappa_interval(humans, judge)
    assert (lo, hi) == (cal.kappa_low, cal.kappa_high) and hi - lo == pytest.approx(0.3, abs=0.08)
