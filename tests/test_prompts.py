import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import ConfigError, DataError, PromptVariableError
from workbench.prompts import diff, list_prompts, load_prompt, load_prompt_file, versions

GOOD = """id: demo
version: 1
description: a demo prompt
variables:
  question: {type: string}
  n: {type: integer, required: false}
sections:
  system: Be brief.
  user: "Q: {{ question }} ({{ n or 1 }})"
"""


def write(tmp_path, text, pid="demo", version=1) -> Path:
    p = tmp_path / pid / f"{version}.yaml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_shipped_prompts_load_and_latest_is_default():
    assert {"grounded_qa", "judge_correctness", "draft_questions"} <= set(list_prompts())
    assert versions("grounded_qa") == [1, 2, 3]
    assert load_prompt("grounded_qa").version == 3
    assert load_prompt("grounded_qa", 1).version == 1


def test_hash_is_stable_and_changes_with_content():
    a, b = load_prompt("grounded_qa", 2), load_prompt("grounded_qa", 2)
    assert a.hash == b.hash and a.hash.startswith("sha256:")
    assert a.hash != load_prompt("grounded_qa", 3).hash


def test_render_messages_and_variant_for_model():
    p = load_prompt("grounded_qa", 2)
    msgs = p.render({"question": "Q?", "context": "C."})
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[1]["content"] == "Context:\nC.\n\nQuestion: Q?"
    nano = p.render({"question": "Q?", "context": "C."}, model="openai/gpt-4.1-nano")
    assert nano[0]["content"] != msgs[0]["content"] and "The answer is not in the context." in nano[0]["content"]


@pytest.mark.parametrize("payload", ["{{ 7*7 }}", "{% if 1 %}X{% endif %}", "{{ ''.__class__.__mro__ }}",
                                     "{% for x in range(10**9) %}{% endfor %}", "{# comment #}"])
def test_template_syntax_in_variables_is_data(payload):
    msgs = load_prompt("grounded_qa").render({"question": payload, "context": payload})
    assert payload in msgs[1]["content"]
    assert "49" not in msgs[1]["content"]


@settings(max_examples=60, deadline=None)
@given(st.text())
def test_any_text_renders_verbatim(value):
    msgs = load_prompt("grounded_qa").render({"question": value, "context": "c"})
    assert value.strip() in msgs[1]["content"]


def test_missing_undeclared_and_mistyped_variables_fail_before_any_call(tmp_path):
    p = load_prompt_file(write(tmp_path, GOOD))
    with pytest.raises(PromptVariableError, match="missing variable 'question'"):
        p.render({})
    with pytest.raises(PromptVariableError, match="undeclared variable 'extra'"):
        p.render({"question": "x", "extra": 1})
    with pytest.raises(PromptVariableError, match="'n' should be integer"):
        p.render({"question": "x", "n": "3"})
    with pytest.raises(PromptVariableError, match="'n' should be integer"):
        p.render({"question": "x", "n": True})
    assert p.render({"question": "x"})[1]["content"] == "Q: x (1)"


@pytest.mark.parametrize("text, field", [
    (GOOD.replace("description: a demo prompt\n", ""), "description"),
    (GOOD + "colour: blue\n", "colour"),
    (GOOD.replace("version: 1", "version: one"), "version"),
    (GOOD.replace("{{ question }}", "{{ questoin }}"), "sections.user"),
    (GOOD.replace("{{ question }}", "{{ question "), "sections.user"),
    (GOOD.replace("type: string", "type: text"), "variables.question.type"),
])
def test_bad_files_name_the_file_and_field(tmp_path, text, field):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as info:
        load_prompt_file(path)
    assert str(path) in str(info.value) and repr(field) in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path):
    path = write(tmp_path, "id: demo\nversion: 1\nsections: [unclosed\n")
    with pytest.raises(ConfigError, match=r"1\.yaml:\d"):
        load_prompt_file(path)


def test_file_name_must_match_id_and_version(tmp_path):
    with pytest.raises(DataError, match="file name says"):
        load_prompt_file(write(tmp_path, GOOD, version=2))


def test_unknown_prompt_or_version(tmp_path):
    with pytest.raises(ConfigError, match="known prompts"):
        load_prompt("nope", root=tmp_path)
    write(tmp_path, GOOD)
    with pytest.raises(ConfigError, match="versions: 1"):
        load_prompt("demo", 7, root=tmp_path)


def test_diff_between_versions():
    d = diff(load_prompt("grounded_qa", 2), load_prompt("grounded_qa", 3))
    assert d.startswith("--- grounded_qa@v2\n+++ grounded_qa@v3") and "-version: 2" in d and "+version: 3" in d


def test_token_count_and_cost_per_tier():
    p = load_prompt("grounded_qa", 2)
    rows = p.costs({"question": "How long is the refund window?", "context": "Refunds within 30 days."})
    by_tier = {r["tier"]: r for r in rows}
    assert by_tier["small"]["input_tokens"] > 20
    assert by_tier["large"]["input_cost_usd"] > by_tier["small"]["input_cost_usd"] > 0
    shorter = load_prompt("grounded_qa", 3).count_tokens({"question": "q", "context": "c"}, "openai/gpt-4o-mini")
    assert shorter < p.count_tokens({"question": "q", "context": "c"}, "openai/gpt-4o-mini")


def cli(*args):
    return subprocess.run([sys.executable, "-m", "workbench", "prompt", *args], capture_output=True, text=True)


def test_cli_render_prints_messages_as_json():
    r = cli("render", "grounded_qa", "--vars", json.dumps({"question": "{{ 7*7 }}", "context": "c"}))
    assert r.returncode == 0, r.stderr
    msgs = json.loads(r.stdout)
    assert all(set(m) == {"role", "content"} for m in msgs) and "{{ 7*7 }}" in r.stdout


def test_cli_render_missing_variable_exits_1_naming_it():
    r = cli("render", "grounded_qa", "--vars", "{}")
    assert r.returncode == 1 and "question" in r.stderr and "Traceback" not in r.stderr
    assert cli("render", "grounded_qa", "--vars", "[1]").returncode == 2


def test_plain_templates_render_exactly_as_jinja_does():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from jinja2 import TemplateError

    from workbench import prompts

    piece = st.one_of(st.sampled_from(["{{ a }}", "{{b}}", "{{  a  }}", "{{ a|upper }}", "{% if a %}x{% endif %}",
                                       "{# c #}", "{", "}", "\r\n", "\n", " ", "Question: ", "{{ 1 }}"]),
                      st.text(max_size=6))
    value = st.one_of(st.text(max_size=8), st.integers(), st.none(), st.just("{{ a }}"))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(piece, max_size=8).map("".join), value, value)
    def check(source, a, b):
        data = {"a": a, "b": b}
        try:
            expected = prompts._compile(source).render(**data).strip()
        except TemplateError:  # not a valid template: the same error either way, never a plain substitution
            with pytest.raises(prompts.PromptVariableError):
                prompts._render(source, data)
            return
        assert prompts._render(source, data) == expected

    check()
