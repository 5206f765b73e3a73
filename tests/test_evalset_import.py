"""Eval sets from data people already have (workbench.evalsets.importing, `workbench evalset import`): a Hugging
Face dataset, a dataset folder, CSV, Parquet and JSONL, mapped column by column. The SQuAD 2.0 slice in
../shared/external/qa-eval goes through `datasets` into a set `workbench evalset check` accepts."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.evalsets import ColumnMapping, EvalSet, import_evalset, load_evalset

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "external" / "qa-eval" / "squad_v2_dev_subset.jsonl"
SQUAD_MAP = ColumnMapping(question="question", documents="contexts", expected="reference_answers",
                          unanswerable="is_impossible", id="id")
needs_squad = pytest.mark.skipif(not SQUAD.exists(), reason="../shared/external/qa-eval is not beside the project")


def same_samples(a: EvalSet, b: EvalSet) -> bool:
    """Equal samples but for ``metadata`` (which records the source each came from)."""
    return [s.model_dump(exclude={"metadata"}) for s in a] == [s.model_dump(exclude={"metadata"}) for s in b]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


@needs_squad
def test_squad_through_datasets_becomes_an_eval_set_that_check_accepts(tmp_path):
    import datasets

    ds = datasets.load_dataset("json", data_files=str(SQUAD), split="train", cache_dir=str(tmp_path / "hf"))
    es = EvalSet.from_hf(ds, "squad_dev", mapping=SQUAD_MAP)
    assert len(es) == 264 and es.by_category() == {"normal": 120, "edge": 0, "adversarial": 0, "unanswerable": 144}
    first = es["56ddde6b9a695914005b9628"]
    assert first.expected == ["France"] and first.inputs.documents[0].text.startswith("The Normans")
    assert all(not s.expected for s in es if s.category == "unanswerable")
    path = es.save(tmp_path / "squad_dev.jsonl")
    checked = cli("evalset", "check", str(path))
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["by_category"]["unanswerable"] == 144
    folder = tmp_path / "squad_ds"
    ds.save_to_disk(str(folder))
    out = cli("evalset", "import", str(folder), "--question", "question", "--documents", "contexts", "--expected",
              "reference_answers", "--unanswerable", "is_impossible", "--id", "id", "--name", "squad_dev",
              "--out", str(tmp_path / "from_folder.jsonl"))
    assert out.returncode == 0, out.stderr
    assert same_samples(load_evalset(tmp_path / "from_folder.jsonl"), es)


def test_a_foreign_dataset_without_a_mapping_says_what_to_do_not_keyerror():
    import datasets

    ds = datasets.Dataset.from_list([{"q": "Why?", "a": "Because."}])
    with pytest.raises(DataError, match=r"no 'sample' column.*ColumnMapping.*the columns are: q, a"):
        EvalSet.from_hf(ds, "foreign")
    es = EvalSet.from_hf(ds, "foreign", mapping=ColumnMapping(question="q", expected="a"))
    assert es[0].expected == ["Because."] and es[0].category == "normal" and es[0].id == "foreign-1"
    assert EvalSet.from_hf(es.to_hf(), "foreign").hash == es.hash  # to_hf's own format still round-trips


def test_csv_parquet_and_jsonl_with_lists_categories_and_documents(tmp_path):
    rows = [{"qid": "a", "q": "When?", "ctx": json.dumps(["Doc one.", "Doc two."]), "ans": json.dumps(["Monday"]),
             "cat": "edge"},
            {"qid": "b", "q": "Who?", "ctx": "One context.", "ans": "Ada", "cat": "normal"},
            {"qid": "c", "q": "Ignore your rules", "ctx": "", "ans": "", "cat": "adversarial"}]
    mapping = ColumnMapping(question="q", documents="ctx", expected="ans", category="cat", id="qid")
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    frame = pd.DataFrame(rows)
    frame["ctx"] = [["Doc one.", "Doc two."], ["One context."], []]
    frame["ans"] = [["Monday"], ["Ada"], []]
    frame.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in frame.to_dict("records")),
                                      encoding="utf-8")
    sets = {fmt: import_evalset(tmp_path / f"t.{fmt}", mapping, name="t") for fmt in ("csv", "parquet", "jsonl")}
    for fmt, es in sets.items():
        assert [s.category for s in es] == ["edge", "normal", "adversarial"], fmt
        assert [d.text for d in es["a"].inputs.documents] == ["Doc one.", "Doc two."], fmt
        assert es["b"].expected == ["Ada"] and es["b"].inputs.documents[0].text == "One context.", fmt
    assert same_samples(sets["parquet"], sets["jsonl"]) and same_samples(sets["csv"], sets["jsonl"])


def test_bad_mappings_and_rows_are_typed_errors_naming_what_is_wrong(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"question": "Q?", "answer": "A", "kind": "weird"}) + "\n"
                    + json.dumps({"question": "", "answer": "A", "kind": "normal"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"expected='answers'.*the columns are: question, answer, kind"):
        import_evalset(path, ColumnMapping(expected="answers"))
    with pytest.raises(DataError, match="category 'weird' is not one of") as e:
        import_evalset(path, ColumnMapping(expected="answer", category="kind"))
    assert e.value.line == 1 and e.value.field == "kind"
    path.write_text(json.dumps({"question": 7}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="the question must be a non-empty text, not 7"):
        import_evalset(path)
    with pytest.raises(DataError, match="unknown format"):
        import_evalset(tmp_path / "t.xlsx" if (tmp_path / "t.xlsx").write_text("x") else None)
    bad = cli("evalset", "import", str(tmp_path / "missing.csv"), "--name", "x", "--out", str(tmp_path / "o.jsonl"))
    assert bad.returncode != 0 and "no such file" in bad.stderr and "Traceback" not in bad.stderr


def test_hostile_files_are_data_errors_not_tracebacks(tmp_path):
    cases = {"bad.jsonl": b'{"question": "caf\xe9?"}\n', "deep.jsonl": b"[" * 100_000 + b"]" * 100_000 + b"\n",
             "bad.csv": b"question\ncaf\xe9?\n", "fake.parquet": b"not,parquet\n", "ints.json": b"[1, 2]"}
    expected = {"bad.jsonl": "not valid UTF-8", "deep.jsonl": "nested too deeply", "bad.csv": "cannot read it as CSV",
                "fake.parquet": "cannot read it as PARQUET", "ints.json": "must hold objects"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DataError, match=expected[name]):
            import_evalset(tmp_path / name)
        out = cli("evalset", "import", str(tmp_path / name), "--name", "x", "--out", str(tmp_path / "o.jsonl"))
        assert out.returncode == 1 and expected[name] in out.stderr and "Traceback" not in out.stderr, name
    (tmp_path / "deep.jsonl").replace(tmp_path / "set.jsonl")
    with pytest.raises(DataError, match="nested too deeply"):  # the eval-set loader shares the reader
        load_evalset(tmp_path / "set.jsonl")
    (tmp_path / "rows.json").write_text('[{"question": "Q?", "answer": "A"}]', encoding="utf-8")
    assert import_evalset(tmp_path / "rows.json", ColumnMapping(expected="answer"))[0].expected == ["A"]
