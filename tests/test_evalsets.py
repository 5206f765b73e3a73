"""Eval sets: loading errors name file/line/field and never half-load; round trips keep the hash; the shipped set."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from workbench.errors import DataError
from workbench.evalsets.evalset import CATEGORIES, EvalSet, Sample, card_path, load_evalset

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "evalsets" / "northwind_qa.jsonl"


def record(i: int, category: str = "normal", expected: list[str] | None = None) -> dict:
    return {"id": f"s{i}", "inputs": {"question": f"q{i}?", "documents": [{"id": "d", "text": "The answer is 42."}]},
            "expected": ["42"] if expected is None else expected, "category": category, "tags": ["t"],
            "criteria": [{"scorer": "contains_any"}, {"scorer": "token_f1", "threshold": 0.5}], "metadata": {}}


def write(tmp_path: Path, lines: list[str | dict], name: str = "es.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines), encoding="utf-8")
    return path


def mixed(n_per_category: int = 10) -> EvalSet:
    records = [record(len(CATEGORIES) * i + k, c, None if c in ("normal", "edge") else [])
               for i in range(n_per_category) for k, c in enumerate(CATEGORIES)]
    return EvalSet.from_records(records, name="mixed")


# ---------------------------------------------------------------- loading errors

@pytest.mark.parametrize("bad, line, field, words", [
    ('{"id": "s2", "inputs": ', 2, None, "not valid JSON"),
    (json.dumps({**record(2), "colour": "red"}), 2, "colour", "Extra inputs"),
    (json.dumps({**record(2), "tags": "not-a-list"}), 2, "tags", "valid list"),
    (json.dumps({**record(2), "inputs": {"question": 7}}), 2, "inputs.question", "valid string"),
    (json.dumps(record(2, "normal", expected=[])), 2, None, "expected answer"),
    (json.dumps({**record(2), "category": "weird"}), 2, "category", "normal"),
    ("[1, 2]", 2, None, "JSON object"),
])
def test_a_bad_line_is_a_data_error_naming_file_line_and_field(tmp_path, bad, line, field, words):
    path = write(tmp_path, [record(1), bad, record(3)])
    with pytest.raises(DataError) as info:
        load_evalset(path)
    err = info.value
    assert err.line == line and err.field == field and str(path) in str(err) and words in str(err)


def test_duplicate_ids_name_both_lines(tmp_path):
    path = write(tmp_path, [record(1), record(2), record(1)])
    with pytest.raises(DataError, match="duplicate id 's1' .first on line 1.") as info:
        load_evalset(path)
    assert info.value.line == 3 and info.value.field == "id"


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "es.jsonl"
    path.write_bytes((json.dumps(record(1)) + "\n").encode() + b'{"id": "caf\xe9"}\n')
    with pytest.raises(DataError, match="not valid UTF-8") as info:
        load_evalset(path)
    assert info.value.line == 2


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        load_evalset(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("card, field", [
    ({"name": "es", "version": 0}, "version"),
    ({"name": "es", "owner": "me"}, "owner"),
    ({"version": 2}, "name"),
    (["not", "a", "mapping"], None),
])
def test_a_bad_card_is_a_data_error_naming_the_card_and_field(tmp_path, card, field):
    path = write(tmp_path, [record(1)])
    card_path(path).write_text(yaml.safe_dump(card), encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_evalset(path)
    assert info.value.path == card_path(path) and info.value.field == field


def test_a_broken_file_never_half_loads(tmp_path):
    path = write(tmp_path, [record(i) for i in range(1, 50)] + ["{oops"])
    loaded = None
    with pytest.raises(DataError):
        loaded = load_evalset(path)
    assert loaded is None


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path):
    path = write(tmp_path, [record(1), "", "  ", '{"id": ""}'])
    with pytest.raises(DataError) as info:
        load_evalset(path)
    assert info.value.line == 4


# ---------------------------------------------------------------- round trips, split, views

def test_save_load_round_trip_keeps_the_hash_and_card(tmp_path):
    es = EvalSet(mixed().samples, name="mixed", version=3, description="d", changelog=["v3: x"])
    path = es.save(tmp_path / "sub" / "mixed.jsonl")
    back = load_evalset(path)
    assert back.hash == es.hash and back.version == 3 and back.changelog == ["v3: x"]
    card = yaml.safe_load(card_path(path).read_text(encoding="utf-8"))
    assert card["content_hash"] == es.hash and card["total"] == len(es) and card["categories"] == es.by_category()


def test_hash_depends_on_content_and_order():
    es = mixed(2)
    assert EvalSet(list(reversed(es.samples))).hash != es.hash
    assert EvalSet(list(es.samples), name="other").hash == es.hash  # the name is not content


def test_stratified_split_keeps_category_shares_and_is_deterministic():
    es = mixed(10)
    train, test = es.split(0.2, seed=0)
    assert test.by_category() == {c: 2 for c in CATEGORIES}
    assert train.by_category() == {c: 8 for c in CATEGORIES}
    assert {s.id for s in train} | {s.id for s in test} == {s.id for s in es}
    assert not {s.id for s in train} & {s.id for s in test}
    again = es.split(0.2, seed=0)
    assert [s.id for s in again[1]] == [s.id for s in test]
    assert [s.id for s in es.split(0.2, seed=1)[1]] != [s.id for s in test]


def test_new_version_appends_and_logs():
    es = EvalSet(mixed(1).samples, name="m", version=2, changelog=["v2: a"])
    extra = Sample(**record(99))
    v3 = es.new_version([extra], "one more")
    assert v3.version == 3 and len(v3) == len(es) + 1 and v3.changelog[-1] == "v3: one more"
    assert len(es) == len(mixed(1))  # the original is untouched
    with pytest.raises(DataError, match="duplicate"):
        v3.new_version([extra], "again")


def test_pandas_view():
    df = mixed(3).to_pandas()
    assert len(df) == 12 and list(df.columns) == ["id", "question", "n_documents", "expected", "category", "tags"]
    assert df.category.value_counts().to_dict() == {c: 3 for c in CATEGORIES}


def test_hf_datasets_round_trip_offline():
    es = mixed(3)
    ds = es.to_hf()
    assert ds.num_rows == len(es) and set(ds.column_names) == {"id", "sample", "category"}
    back = EvalSet.from_hf(ds, name="mixed")
    assert back.hash == es.hash


# ---------------------------------------------------------------- the shipped eval set

@pytest.fixture(scope="module")
def shipped() -> EvalSet:
    return load_evalset(SHIPPED)


def test_shipped_set_has_every_category(shipped):
    counts = shipped.by_category()
    assert len(shipped) >= 150 and counts["normal"] >= 150
    assert all(counts[c] >= 20 for c in ("edge", "unanswerable", "adversarial")), counts
    assert shipped.version >= 2 and shipped.card.content_hash == shipped.hash


def test_shipped_card_matches_the_file(shipped):
    card = yaml.safe_load(card_path(SHIPPED).read_text(encoding="utf-8"))
    assert card["content_hash"] == shipped.hash and card["categories"] == shipped.by_category()


def _source_text(sample: Sample) -> str:
    source = sample.metadata["source_doc"]
    return next(d.text for d in sample.inputs.documents if d.id == source)


def test_shipped_answerable_samples_carry_their_answer(shipped):
    for s in shipped:
        if s.expected:
            text = _source_text(s)
            assert all(e in text for e in s.expected), s.id


def test_shipped_adversarial_expected_answers_are_in_their_source_docs(shipped):
    corpus = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.md")}
    adversarial = [s for s in shipped if s.category == "adversarial"]
    assert any("injection:document" in s.tags for s in adversarial)
    assert any("injection:question" in s.tags for s in adversarial)
    for s in adversarial:
        assert any(t.startswith("attack:") for t in s.tags), s.id
        if s.expected:
            assert all(e in _source_text(s) and e in corpus[s.metadata["source_doc"]] for e in s.expected), s.id
        else:
            assert {"scorer": "refusal"} in [c.model_dump(exclude_none=True) for c in s.criteria], s.id


def test_shipped_unanswerable_samples_expect_a_refusal_without_the_answer(shipped):
    for s in shipped:
        if s.category != "unanswerable":
            continue
        assert s.expected == [] and any(c.scorer == "refusal" for c in s.criteria), s.id
        if "answer_lives_in" in s.metadata:
            assert s.metadata["answer_lives_in"] not in [d.id for d in s.inputs.documents]


def test_normal_ids_are_stable(shipped):
    normal = [s.id for s in shipped if s.category == "normal"]
    assert normal[:158] == [f"nwqa-{i:04d}" for i in range(1, 159)]
