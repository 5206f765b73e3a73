"""Deterministic scorers: edge cases, any-of references, normalisation, the unanswerable refusal rule, configs."""
import math

import pytest

from workbench.errors import ConfigError
from workbench.evalsets import Sample
from workbench.models.offline import REFUSAL
from workbench.scoring import SCORER_KINDS, Score, Scorer, score_all, scorer_from_spec, summarise
from workbench.scoring.text import is_refusal, normalize_answer, token_f1


def sample(expected=("30 days",), category="normal", question="How long is the refund window?"):
    return Sample(id="s1", inputs={"question": question, "documents": [{"id": "d", "text": "Refunds: 30 days."}]},
                  expected=list(expected), category=category)


ANSWERABLE, UNANSWERABLE = sample(), sample(expected=(), category="unanswerable")
DETERMINISTIC = ["contains_any", "exact_match", "token_f1", "refusal", "numeric"]


# ------------------------------------------------------------------ the contract every scorer keeps

@pytest.mark.parametrize("kind", [k for k in SCORER_KINDS if k not in ("llm_judge", "ragas")])
def test_contract_none_output_is_unmeasured_and_dump_round_trips(kind):
    params = {"required_fields": {"fields": ["a"]}, "length": {"max": 10}, "regex": {"pattern": "x"}}.get(kind, {})
    scorer = scorer_from_spec({"scorer": kind, **params})
    assert isinstance(scorer, Scorer) and scorer.name == kind
    s = scorer.score(ANSWERABLE, None)
    assert s.measured is False and s.value is None and s.passed is None and s.explanation
    assert scorer_from_spec(scorer.dump()) == scorer
    assert scorer.model_dump()["kind"] == kind


@pytest.mark.parametrize("kind", DETERMINISTIC)
@pytest.mark.parametrize("output", ["", "   \n", 42, ["30 days"], {"text": "30 days"}])
def test_empty_and_non_string_outputs_are_unmeasured_with_a_reason(kind, output):
    s = scorer_from_spec({"scorer": kind}).score(ANSWERABLE, output)
    assert not s.measured and s.value is None and s.explanation


@pytest.mark.parametrize("kind", ["contains_any", "exact_match", "token_f1"])
def test_dict_output_with_answer_field_is_read(kind):
    assert scorer_from_spec({"scorer": kind}).score(ANSWERABLE, {"answer": "30 days"}).value == 1.0


@pytest.mark.parametrize("kind", ["contains_any", "exact_match", "token_f1", "numeric"])
def test_answerable_sample_without_expected_is_unmeasured(kind):
    no_refs = Sample(id="x", inputs={"question": "q"}, expected=[], category="adversarial")
    s = scorer_from_spec({"scorer": kind}).score(no_refs, "30 days")
    assert not s.measured and "expected" in s.explanation


# ------------------------------------------------------------------ answer checks

def test_squad_normalisation_and_token_f1():
    assert normalize_answer("The  Account-Owner!") == "accountowner"
    assert normalize_answer("An apple, a pear") == "apple pear"
    assert token_f1("the 30 days", "30 days.") == 1.0
    assert token_f1("within 30 days", "30 days") == pytest.approx(0.8)
    assert token_f1("nothing", "30 days") == 0.0


def test_any_of_references_take_the_best():
    s = sample(expected=["the account Owner", "Owner of the account"])
    f1 = scorer_from_spec({"scorer": "token_f1"}).score(s, "only the owner of the account")
    assert f1.value == pytest.approx(6 / 7) and f1.details["matched"] == "Owner of the account"
    assert scorer_from_spec({"scorer": "exact_match"}).score(s, "The Owner of the account.").value == 1.0
    assert scorer_from_spec({"scorer": "contains_any"}).score(s, "Only THE ACCOUNT\n  owner can.").passed


def test_token_f1_threshold_param():
    out = "customers have 30 days within the charge window to ask"
    assert not scorer_from_spec({"scorer": "token_f1"}).score(ANSWERABLE, out).passed
    low = scorer_from_spec({"scorer": "token_f1", "threshold": 0.2}).score(ANSWERABLE, out)
    assert low.passed and 0.2 <= low.value < 0.5


def test_contains_any_normalises_case_whitespace_and_quotes():
    s = sample(expected=["48 hours' notice"])
    assert scorer_from_spec({"scorer": "contains_any"}).score(s, "At least 48   HOURS\u2019 notice.").passed
    assert not scorer_from_spec({"scorer": "contains_any"}).score(s, "two days").passed


@pytest.mark.parametrize("kind", ["contains_any", "exact_match", "token_f1"])
def test_unanswerable_samples_score_by_the_refusal_rule(kind):
    scorer = scorer_from_spec({"scorer": kind})
    assert scorer.score(UNANSWERABLE, REFUSAL).value == 1.0
    assert scorer.score(UNANSWERABLE, "I don't know.").passed
    wrong = scorer.score(UNANSWERABLE, "30 days")
    assert wrong.measured and wrong.value == 0.0 and "refus" in wrong.explanation


@pytest.mark.parametrize("text", [REFUSAL, "That is not in the context.", "I cannot find this in the documents.",
                                  "I don\u2019t know.", "There is no information about fees.",
                                  "The documents do not mention it."])
def test_refusal_phrasings(text):
    assert is_refusal(text)


def test_refusal_scorer_both_ways():
    refusal = scorer_from_spec({"scorer": "refusal"})
    assert refusal.score(UNANSWERABLE, REFUSAL).passed
    assert not refusal.score(UNANSWERABLE, "Refunds take 30 days.").passed
    assert refusal.score(ANSWERABLE, "Refunds take 30 days.").passed
    assert not refusal.score(ANSWERABLE, "I cannot find the answer.").passed


# ------------------------------------------------------------------ format checks

def test_json_valid_str_dict_and_schema_errors_name_the_path():
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}}},
        "required": ["items"]}
    plain = scorer_from_spec({"scorer": "json_valid"})
    assert plain.score(ANSWERABLE, '{"a": 1}').passed and plain.score(ANSWERABLE, {"a": 1}).passed
    bad = plain.score(ANSWERABLE, "{'a': 1}")
    assert bad.measured and not bad.passed and "line 1 column" in bad.explanation
    checked = scorer_from_spec({"scorer": "json_valid", "schema": schema})
    assert checked.score(ANSWERABLE, {"items": [{"price": 3}]}).passed
    s = checked.score(ANSWERABLE, '{"items": [{"price": 3}, {"price": "x"}]}')
    assert not s.passed and "$.items[1].price" in s.explanation
    assert checked.dump()["json_schema"] == schema and scorer_from_spec(checked.dump()) == checked


def test_json_valid_rejects_an_invalid_schema_at_build_time():
    with pytest.raises(ConfigError, match="invalid JSON Schema"):
        scorer_from_spec({"scorer": "json_valid", "schema": {"type": "nonsense"}})


def test_required_fields_share_and_dotted_paths():
    scorer = scorer_from_spec({"scorer": "required_fields", "fields": ["answer", "meta.source", "score"]})
    s = scorer.score(ANSWERABLE, {"answer": "x", "meta": {"source": "a.md"}, "score": None})
    assert s.value == pytest.approx(2 / 3) and not s.passed and s.details["missing"] == ["score"]
    assert scorer.score(ANSWERABLE, '{"answer": 1, "meta": {"source": 0}, "score": 0}').passed
    assert scorer.score(ANSWERABLE, "not json").value == 0.0
    with pytest.raises(ConfigError):
        scorer_from_spec({"scorer": "required_fields", "fields": []})


def test_numeric_text_field_and_tolerance():
    s = sample(expected=["1,200 requests per minute"])
    exact = scorer_from_spec({"scorer": "numeric"})
    assert exact.score(s, "Up to 1,200 per minute.").passed
    assert not exact.score(s, "1,150").passed
    assert scorer_from_spec({"scorer": "numeric", "tolerance": 60}).score(s, "1150").passed
    rel = scorer_from_spec({"scorer": "numeric", "tolerance": 0.05, "relative": True})
    assert rel.score(s, "1150").passed and not rel.score(s, "1000").passed
    field = scorer_from_spec({"scorer": "numeric", "field": "limit", "expected": 1200})
    assert field.score(ANSWERABLE, {"limit": 1200}).passed
    assert field.score(ANSWERABLE, '{"limit": "1,200 rpm"}').passed
    missing = field.score(ANSWERABLE, {"other": 1})
    assert missing.measured and not missing.passed and "limit" in missing.explanation
    assert exact.score(s, "no digits here").explanation == "no number in the output"
    assert scorer_from_spec({"scorer": "numeric", "expected": -3.5}).score(ANSWERABLE, "it fell \u22123.5").passed


def test_length_chars_and_words():
    words = scorer_from_spec({"scorer": "length", "min": 2, "max": 4, "unit": "words"})
    assert words.score(ANSWERABLE, "one two three").passed
    assert not words.score(ANSWERABLE, "one").passed
    assert not scorer_from_spec({"scorer": "length", "min": 1}).score(ANSWERABLE, "").passed  # measured
    with pytest.raises(ConfigError):
        scorer_from_spec({"scorer": "length"})
    with pytest.raises(ConfigError):
        scorer_from_spec({"scorer": "length", "min": 5, "max": 1})


def test_regex_match_no_match_and_guards():
    must = scorer_from_spec({"scorer": "regex", "pattern": r"NL-\d{4}"})
    assert must.score(ANSWERABLE, "error NL-4031").passed and not must.score(ANSWERABLE, "none").passed
    never = scorer_from_spec({"scorer": "regex", "pattern": "(?i)password", "must_match": False})
    assert never.score(ANSWERABLE, "fine").passed and not never.score(ANSWERABLE, "PASSWORD: x").passed
    capped = scorer_from_spec({"scorer": "regex", "pattern": r"(a+)+$", "max_chars": 100})
    s = capped.score(ANSWERABLE, "a" * 5000 + "b")  # would backtrack for ages without the cap
    assert not s.measured and "max_chars" in s.explanation


def test_bad_regex_is_a_config_error_at_build_time():
    with pytest.raises(ConfigError, match="does not compile"):
        scorer_from_spec({"scorer": "regex", "pattern": "(unclosed"})


# ------------------------------------------------------------------ building, Score, summaries

def test_unknown_scorer_and_unknown_params_are_config_errors_naming_them():
    with pytest.raises(ConfigError, match="'bleurt'") as e:
        scorer_from_spec({"scorer": "bleurt"})
    assert "token_f1" in e.value.hint
    with pytest.raises(ConfigError, match="token_f1.*treshold"):
        scorer_from_spec({"scorer": "token_f1", "treshold": 0.5})
    with pytest.raises(ConfigError):
        scorer_from_spec({"threshold": 0.5})


def test_from_criterion_and_evalset_criteria():
    from workbench.prompts import Criterion

    scorer = scorer_from_spec(Criterion(scorer="token_f1", threshold=0.7))
    assert scorer.pass_mark == 0.7
    assert scorer_from_spec(Criterion(scorer="contains_any", threshold=None)).pass_mark == 1.0
    scores = score_all(ANSWERABLE, "30 days", [Criterion(scorer="contains_any"), {"scorer": "token_f1"}, scorer])
    assert [s.scorer for s in scores] == ["contains_any", "token_f1", "token_f1"] and all(s.passed for s in scores)


def test_score_record_rejects_nan_and_out_of_range():
    with pytest.raises(ValueError):
        Score("x", math.nan, False)
    with pytest.raises(ValueError):
        Score("x", 1.5, True)
    with pytest.raises(ValueError):
        Score("x", 0.5, True, measured=False)
    assert Score.unmeasured("x", "why").to_dict()["measured"] is False


def test_summarise_averages_measured_only():
    scores = [Score("a", 1.0, True), Score("a", 0.0, False), Score.unmeasured("a", "timeout"),
              Score("b", 0.5, True)]
    s = summarise(scores)
    assert s["n"] == 4 and s["measured"] == 3 and s["unmeasured"] == 1
    assert s["mean"] == pytest.approx(0.5) and s["pass_rate"] == pytest.approx(2 / 3)
    assert s["by_scorer"]["a"] == {"n": 3, "measured": 2, "unmeasured": 1, "mean": 0.5, "pass_rate": 0.5}
    nothing = summarise([Score.unmeasured("a", "x")])
    assert nothing["mean"] is None and nothing["pass_rate"] is None and nothing["unmeasured"] == 1


def test_async_scoring_matches_sync():
    import asyncio

    from workbench.scoring import ascore_all

    specs = [{"scorer": k} for k in DETERMINISTIC]
    assert asyncio.run(ascore_all(ANSWERABLE, "30 days", specs)) == score_all(ANSWERABLE, "30 days", specs)


def test_importing_scoring_is_light():
    import subprocess
    import sys

    code = ("import sys, workbench.scoring as s; s.scorer_from_spec({'scorer': 'token_f1'}); "
            "heavy = [m for m in ('litellm', 'ragas', 'pandas', 'jsonschema', 'jinja2') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
