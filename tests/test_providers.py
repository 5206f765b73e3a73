"""Provider contract tests: the real path (offline mode off), against an OpenAI-compatible server on loopback.

The fault server stands in for a provider (``workbench.testing.FaultServer``): it records every request, so each
test checks what was sent (model, key, endpoint, messages) and what came back (text, tokens, cost, provenance).
Nothing here goes beyond loopback (conftest blocks every other address).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.config import PipelineConfig
from workbench.errors import MissingKeyError
from workbench.models import Endpoint, ModelOptions, RetryPolicy, build_model, complete, load_tiers
from workbench.pipeline import Pipeline
from workbench.testing import FaultServer

ROOT = Path(__file__).resolve().parent.parent
DOC = {"id": "refunds.md", "text": "# Refunds\n\nRefunds are available within 30 days of the charge."}
QUESTION = {"question": "How long is the refund window?", "documents": [DOC]}


@pytest.fixture
def real(monkeypatch):
    """Offline mode off, no provider variables from the machine: each test sets its own."""
    monkeypatch.delenv("WORKBENCH_OFFLINE", raising=False)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "WORKBENCH_TIERS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def server():
    with FaultServer() as s:
        yield s


def tiers_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "tiers.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_key_and_endpoint_from_the_environment(real, server):
    real.setenv("OPENAI_API_KEY", "sk-from-env")
    real.setenv("OPENAI_BASE_URL", server.base_url)
    c = complete("Say hi.", tier="medium", retries=0)
    sent = server.requests[-1]
    assert sent["headers"]["authorization"] == "Bearer sk-from-env"
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert c.answered_by == "openai/gpt-4o-mini" and c.cost_basis == "provider" and c.cost_usd > 0
    assert c.text.startswith("echo: ")


def test_endpoint_from_the_config_and_key_from_the_environment(real, server, tmp_path):
    real.setenv("OPENAI_API_KEY", "sk-env")
    tiers = load_tiers(tiers_file(tmp_path, f"tiers:\n  self_hosted:\n    model: openai/gpt-4o-mini\n"
                                            f"    params: {{api_base: '{server.base_url}'}}\n"))
    c = build_model("self_hosted", tiers=tiers, options=ModelOptions(retries=0)).complete(
        [{"role": "user", "content": "hi"}])
    assert server.stats["requests"] == 1 and server.requests[-1]["headers"]["authorization"] == "Bearer sk-env"
    assert c.answered_by == "openai/gpt-4o-mini"


def test_missing_key_is_an_error_naming_the_variable_and_the_offline_switch(real):
    with pytest.raises(MissingKeyError) as e:
        complete("hi", tier="medium")
    assert "OPENAI_API_KEY" in str(e.value) and "WORKBENCH_OFFLINE=1" in str(e.value)
    assert e.value.exit_code == 2


def test_a_custom_model_name_with_a_configured_price(real, server, tmp_path):
    real.setenv("OPENAI_API_KEY", "sk-env")
    real.setenv("OPENAI_BASE_URL", server.base_url)
    tiers = load_tiers(tiers_file(tmp_path, "tiers:\n  llama:\n    model: openai/my-llama-3-8b\n"
                                            "    price: {input_per_1m: 0.2, output_per_1m: 0.4}\n"
                                            "  unknown:\n    model: openai/my-mystery-model\n"))
    priced = build_model("llama", tiers=tiers, options=ModelOptions(retries=0)).complete(
        [{"role": "user", "content": "hello there"}])
    assert server.requests[-1]["body"]["model"] == "my-llama-3-8b"
    expected = priced.usage.input_tokens * 0.2e-6 + priced.usage.output_tokens * 0.4e-6
    assert priced.cost_basis == "provider" and priced.cost_usd == pytest.approx(expected)
    unpriced = build_model("unknown", tiers=tiers, options=ModelOptions(retries=0)).complete(
        [{"role": "user", "content": "hello there"}])
    assert unpriced.cost_usd is None and unpriced.cost_basis == "unpriced"  # never a silent $0


def test_streaming_is_assembled_into_one_reply(real, server):
    c = complete("Stream this reply please.", model="openai/gpt-4o-mini", retries=0,
                 endpoint=Endpoint(server.base_url, "sk-x"), stream=True, stream_options={"include_usage": True})
    assert server.requests[-1]["body"]["stream"] is True
    assert c.text == "echo: Stream this reply please." and c.usage.output_tokens > 0 and c.cost_usd > 0


def test_json_mode_parses_the_reply(real, server):
    c = complete("Answer in JSON.", model="openai/gpt-4o-mini", retries=0, endpoint=Endpoint(server.base_url, "k"),
                 response_format={"type": "json_object"})
    assert server.requests[-1]["body"]["response_format"] == {"type": "json_object"}
    assert c.data == {"answer": "echo: Answer in JSON."}


def test_tool_calls_come_back_as_records(real, server):
    tools = [{"type": "function", "function": {"name": "lookup_invoice", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}}}}]
    c = complete("Find invoice 42.", model="openai/gpt-4o-mini", retries=0, endpoint=Endpoint(server.base_url, "k"),
                 tools=tools)
    assert c.finish_reason == "tool_calls" and c.text == ""
    assert c.tool_calls[0]["name"] == "lookup_invoice"
    assert json.loads(c.tool_calls[0]["arguments"]) == {"query": "Find invoice 42."}


def test_a_reply_without_usage_is_counted_not_free(real, server):
    server.configure(omit_usage=True)
    c = complete("Count my tokens, please.", model="openai/gpt-4o-mini", retries=0,
                 endpoint=Endpoint(server.base_url, "k"))
    assert "usage" not in json.dumps(server.requests[-1]["body"])
    assert c.usage.input_tokens > 0 and c.usage.output_tokens > 0 and c.cost_usd > 0


def test_a_429_waits_out_retry_after(real, server):
    server.configure(sequence=("429",), retry_after=0.4)
    start = time.perf_counter()
    c = complete("hi", model="openai/gpt-4o-mini", retries=RetryPolicy(retries=2, base_delay=0.01),
                 endpoint=Endpoint(server.base_url, "k"))
    assert time.perf_counter() - start >= 0.4
    assert [a.error_code for a in c.attempts] == ["rate_limited", None] and server.stats["requests"] == 2


def test_when_the_primary_fails_the_fallback_gets_its_own_pinned_prompt(real, server):
    """medium (gpt-4o-mini) falls back to small (gpt-4.1-nano); grounded_qa v2 pins a shorter wording for
    gpt-4.1-nano, and the fallback's request must carry that one, not the primary's rendered prompt."""
    real.setenv("OPENAI_API_KEY", "sk-env")
    real.setenv("OPENAI_BASE_URL", server.base_url)
    server.configure(fail_models=("gpt-4o-mini",))
    cfg = PipelineConfig.build("grounded_qa", version=2, tier="medium", retries=0)
    result = Pipeline(cfg, cache=None)(QUESTION)
    by_model = {r["body"]["model"]: r["body"]["messages"] for r in server.requests}
    assert set(by_model) == {"gpt-4o-mini", "gpt-4.1-nano"}
    assert by_model["gpt-4o-mini"][0]["content"] == cfg.prompt.sections_for("openai/gpt-4o-mini").system
    assert by_model["gpt-4.1-nano"][0]["content"] == cfg.prompt.sections_for("openai/gpt-4.1-nano").system
    assert by_model["gpt-4.1-nano"][0]["content"] != by_model["gpt-4o-mini"][0]["content"]
    assert result.status == "ok" and result.answered_by == "openai/gpt-4.1-nano"


def test_the_fallback_renders_its_own_pinned_prompt_version(real, server):
    real.setenv("OPENAI_API_KEY", "sk-env")
    real.setenv("OPENAI_BASE_URL", server.base_url)
    server.configure(fail_models=("gpt-4o-mini",))
    cfg = PipelineConfig.build("grounded_qa", version=2, tier="medium", retries=0, tier_prompts={"small": 3})
    Pipeline(cfg, cache=None)(QUESTION)
    nano = next(r["body"]["messages"] for r in server.requests if r["body"]["model"] == "gpt-4.1-nano")
    assert nano[0]["content"] == cfg.prompt_for("small").sections_for("openai/gpt-4.1-nano").system
    assert cfg.prompt_for("small").version == 3


def test_switching_endpoints_through_the_environment_never_reuses_an_answer(real, tmp_path):
    from workbench.caches import ResponseCache

    real.setenv("OPENAI_API_KEY", "sk-env")
    cache = ResponseCache(tmp_path / "c.sqlite")
    with FaultServer() as first, FaultServer() as second:
        real.setenv("OPENAI_BASE_URL", first.base_url)
        complete("same question", tier="medium", retries=0, cache=cache)
        assert complete("same question", tier="medium", retries=0, cache=cache).cached
        real.setenv("OPENAI_BASE_URL", second.base_url)
        again = complete("same question", tier="medium", retries=0, cache=cache)
        assert not again.cached and second.stats["requests"] == 1


def test_workbench_run_sends_every_accepted_item_to_the_endpoint(real, server, tmp_path):
    """The contract: a key and an api_base in the environment, ``workbench run --config configs/pipeline.yaml``."""
    asks = ["How long is the refund window?", "How many days do I have for a refund?", "When do refunds close?"]
    lines = [json.dumps({"id": f"q{i}", **QUESTION, "question": q}) for i, q in enumerate(asks)]
    lines += [json.dumps({"id": "bad"}), "not json", json.dumps({"id": "again", **QUESTION})]  # the last: a cache hit
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": server.base_url,
           "WORKBENCH_HOME": str(tmp_path / "home")}
    r = subprocess.run([sys.executable, "-m", "workbench", "run", "--config", str(ROOT / "configs/pipeline.yaml"),
                        "--input", str(src), "--out", str(out)], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=300, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    accepted = [x for x in rows if x["status"] == "ok"]
    assert len(accepted) == 4 and server.stats["requests"] == 3
    assert all(x["answered_by"] == "openai/gpt-4o-mini" and x["cost_basis"] == "provider" for x in accepted)
    hit = rows[-1]
    assert hit["cache"] == "exact" and hit["cost_usd"] == 0 and hit["saved_usd"] == rows[0]["cost_usd"] > 0
    assert "answered by: openai/gpt-4o-mini 4" in r.stderr


def test_workbench_run_without_credentials_exits_2_before_any_work(real, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "q1", **QUESTION}) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_OFFLINE", "OPENAI_API_KEY")}
    r = subprocess.run([sys.executable, "-m", "workbench", "run", "--config", str(ROOT / "configs/pipeline.yaml"),
                        "--input", str(src), "--out", str(tmp_path / "out.jsonl")], capture_output=True, text=True,
                       env={**env, "WORKBENCH_HOME": str(tmp_path / "home")}, cwd=ROOT, timeout=300, check=False)
    assert r.returncode == 2 and "OPENAI_API_KEY" in r.stderr and "--offline" in r.stderr
    assert not (tmp_path / "out.jsonl").exists() or not (tmp_path / "out.jsonl").read_text()


def test_a_budget_refuses_unpriced_cells_until_a_price_or_allow_unpriced_is_given(tmp_path):
    """Offline mode (no call is needed to refuse): a self-hosted model litellm has no price for."""
    tiers = tmp_path / "tiers.yaml"
    tiers.write_text("tiers:\n  house:\n    model: hosted_vllm/house-llama\n    stand_in: local/extractive\n",
                     encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: unpriced\nevalset: {ROOT / 'evalsets/northwind_qa.jsonl'}\nlimit: 4\nbudget_usd: 1.0\n"
                    "base: {prompt: grounded_qa, version: 2, tier: house}\n", encoding="utf-8")
    env = {**os.environ, "WORKBENCH_OFFLINE": "1", "WORKBENCH_TIERS": str(tiers),
           "WORKBENCH_HOME": str(tmp_path / "home")}

    def experiment(*flags):
        return subprocess.run([sys.executable, "-m", "workbench", "experiment", str(spec), *flags],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)

    refused = experiment()
    assert refused.returncode != 0 and "4 cells are unpriced" in refused.stderr and "--allow-unpriced" in refused.stderr
    assert "Traceback" not in refused.stderr and "model calls" not in refused.stdout + refused.stderr
    allowed = experiment("--allow-unpriced")
    assert allowed.returncode == 0 and "model calls: 4" in allowed.stdout + allowed.stderr, allowed.stderr[-1500:]
    records = [json.loads(x) for p in (tmp_path / "home" / "runs").glob("*/records.jsonl")
               for x in p.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 4 and all(r["cost_usd"] is None and r["cost_basis"] == "unpriced" for r in records)
    tiers.write_text(tiers.read_text(encoding="utf-8") + "    price: {input_per_1m: 0.1, output_per_1m: 0.3}\n",
                     encoding="utf-8")
    spec.write_text(spec.read_text(encoding="utf-8").replace("name: unpriced", "name: priced"), encoding="utf-8")
    env["WORKBENCH_HOME"] = str(tmp_path / "fresh")  # a cache hit keeps the basis its answer was made with
    priced = experiment()
    assert priced.returncode == 0, priced.stderr[-1500:]
    records = [json.loads(x) for x in next((tmp_path / "fresh" / "runs").glob("priced-*/records.jsonl"))
               .read_text(encoding="utf-8").splitlines()]
    assert all(r["cost_basis"] == "simulated" and r["cost_usd"] > 0 for r in records)


def _without_the_export_override(tmp_path: Path) -> Path:
    """The shipped config as an export that did not accept its stand-in evidence (re-hashed: a real export)."""
    from workbench.config import load_production_config

    cfg = load_production_config(ROOT / "configs/pipeline.yaml")
    evidence = cfg.evidence.model_copy(update={"overridden": [], "override_reason": None})
    path = tmp_path / "strict.yaml"
    path.write_text(cfg.model_copy(update={"evidence": evidence}).with_hash().to_yaml(), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["run", "gate"])
def test_evidence_from_stand_ins_is_refused_when_real_models_answer(real, server, tmp_path, command):
    config = _without_the_export_override(tmp_path)
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "q1", **QUESTION}) + "\n", encoding="utf-8")
    args = {"run": ["--input", str(src), "--out", str(tmp_path / "out.jsonl")],
            "gate": ["--evalset", str(ROOT / "evalsets/northwind_qa.jsonl"), "--limit", "3"]}[command]
    env = {**os.environ, "OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": server.base_url,
           "WORKBENCH_HOME": str(tmp_path / "home")}

    def cli(*extra):
        return subprocess.run([sys.executable, "-m", "workbench", command, "--config", str(config), *args, *extra],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)

    refused = cli()
    assert refused.returncode == 2 and "measured on offline stand-ins" in refused.stderr, refused.stderr[-1500:]
    assert "--allow-stand-in-evidence" in refused.stderr and server.stats["requests"] == 0
    allowed = cli("--allow-stand-in-evidence")
    assert server.stats["requests"] > 0, allowed.stderr[-1500:]  # real (loopback) calls this time
    said = allowed.stdout + allowed.stderr
    assert "override (--allow-stand-in-evidence)" in said
    if command == "run":
        assert allowed.returncode == 0
        from workbench.store import LogStore

        events = LogStore(f"sqlite:///{tmp_path / 'home' / 'runner' / 'runner.sqlite'}").events()
        assert any("allow-stand-in-evidence" in str(e) for e in events)
