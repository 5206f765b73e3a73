"""Hardening of config loading against an adversarial file: an alias bomb under the alias limit (bounded by its
expanded size), a recursive alias, a non-ASCII signature (a typed refusal, not a traceback), and credentials in
tier params however their field is spelt or whatever it is called (found by the value's shape)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from test_queue import make_config

from workbench._util.yamlfiles import MAX_ALIASES, safe_yaml
from workbench.config import load_production_config
from workbench.errors import ConfigError, ConfigTamperedError
from workbench.hashing import content_hash
from workbench.models import load_tiers

ROOT = Path(__file__).resolve().parent.parent
LEVELS = 31
DOUBLING = "\n".join(["d0: &d0 [x]"] + [f"d{k}: &d{k} [*d{k - 1}, *d{k - 1}]" for k in range(1, LEVELS + 1)])
"""62 aliases (under ``MAX_ALIASES``) expanding to 2**31 leaves: a few KB the secrets check used to walk for ever."""
SECRET = "sk-live-DO-NOT-LEAK-1234567890"


def cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "WORKBENCH_OFFLINE": "1", **(env or {})}, timeout=timeout)


def rehashed(data: dict) -> dict:
    """``data`` with its ``config_hash`` recomputed (what an attacker can do without the signing key)."""
    body = {k: v for k, v in data.items() if k not in ("config_hash", "signature")}
    return {**body, "config_hash": content_hash(body)}


def config_with_params(tmp_path: Path, **params: object) -> Path:
    """An exported config whose tier ``medium`` has ``params`` added, re-hashed so only the content matters."""
    data = yaml.safe_load(make_config().to_yaml())
    next(iter(data["variants"].values()))["tiers"]["medium"]["params"].update(params)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(rehashed(data), sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


# ---------------------------------------------------------------- alias bombs


def test_a_doubling_alias_bomb_under_the_alias_limit_is_refused_in_milliseconds():
    assert DOUBLING.count("*") < MAX_ALIASES
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases .* expand to more than") as e:
        safe_yaml(DOUBLING, "bomb.yaml")
    assert time.perf_counter() - start < 0.5
    assert e.value.exit_code == 2
    # aliases that expand a little are still fine: anchors, merge keys, a shared list
    ok = "base: &b {x: [1, 2]}\nother: {<<: *b, y: 3}\ncopy: *b\n" + "\n".join(
        ["e0: &e0 [x]"] + [f"e{k}: &e{k} [*e{k - 1}, *e{k - 1}]" for k in range(1, 12)])
    loaded = safe_yaml(ok, "ok.yaml")
    assert loaded["other"] == {"x": [1, 2], "y": 3} and loaded["copy"] == {"x": [1, 2]}


def test_a_recursive_alias_is_refused():
    for text in ("a: &a [*a]\n", "a: &a {b: [1, {c: *a}]}\n"):
        with pytest.raises(ConfigError, match="refers to the node that contains it"):
            safe_yaml(text, "loop.yaml")


def test_a_doubling_alias_bomb_in_an_exported_config_is_an_exit_2(tmp_path):
    config = make_config().to_yaml()
    marker = "        params:\n"
    assert marker in config
    bomb = "".join(f"          {line}\n" for line in DOUBLING.splitlines())
    path = tmp_path / "bomb.yaml"
    path.write_text(config.replace(marker, marker + bomb, 1), encoding="utf-8")
    start = time.perf_counter()
    r = cli("run", "--config", str(path), "--input", "-", "--out", str(tmp_path / "o.jsonl"), timeout=30)
    assert r.returncode == 2 and "aliases" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]
    assert time.perf_counter() - start < 30


# ---------------------------------------------------------------- signatures


def non_ascii_signed(tmp_path: Path) -> Path:
    cfg = make_config()
    data = yaml.safe_load(cfg.to_yaml())
    data["signature"] = "hmac-sha256:é" + cfg.signature[len("hmac-sha256:") + 1:]
    path = tmp_path / "nonascii.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_a_non_ascii_signature_is_a_tampered_config(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_SIGNING_KEY", "team-secret")
    path = non_ascii_signed(tmp_path)
    with pytest.raises(ConfigTamperedError, match="signature does not match"):
        load_production_config(path)
    good = tmp_path / "good.yaml"
    good.write_text(make_config().to_yaml(), encoding="utf-8")
    assert load_production_config(good).signature


@pytest.mark.parametrize("command", ["run", "gate"])
def test_a_non_ascii_signature_is_an_exit_2_not_a_traceback(tmp_path, monkeypatch, command):
    monkeypatch.setenv("WORKBENCH_SIGNING_KEY", "team-secret")
    path = non_ascii_signed(tmp_path)
    extra = {"run": ["--input", "-", "--out", str(tmp_path / "o.jsonl")],
             "gate": ["--evalset", str(ROOT / "evalsets/northwind_qa.jsonl")]}
    r = cli(command, "--config", str(path), *extra[command], env={"WORKBENCH_SIGNING_KEY": "team-secret"})
    assert r.returncode == 2 and "config_tampered" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]


# ---------------------------------------------------------------- credentials


@pytest.mark.parametrize(("field", "value", "variable"), [
    ("api-key", SECRET, "OPENAI_API_KEY"),
    ("apiKey", SECRET, "OPENAI_API_KEY"),
    ("key", SECRET, "OPENAI_API_KEY"),                                   # by the value's shape
    ("model_hint", "AKIAQWERTYUIOPASDFGH", "AWS_ACCESS_KEY_ID"),         # by the value's shape
    ("headers", {"Authorization": f"Bearer {SECRET}"}, "OPENAI_API_KEY"),
    ("extra_headers", {"x-api-key": "abc123-DO-NOT-LEAK"}, "OPENAI_API_KEY"),
    ("api_base", "https://user:DO-NOT-LEAK@llm.example.com/v1", "OPENAI_API_KEY"),
    ("aws_access_key_id", "AKIAQWERTYUIOPASDFGH", "AWS_ACCESS_KEY_ID"),
    ("note", "gh" + "p_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "OPENAI_API_KEY"),
    ("stop", ["Bearer abc123def456ghi789"], "OPENAI_API_KEY"),
    ("note", "sk_" + "live_a1B2c3D4e5F6g7H8", "OPENAI_API_KEY"),             # a Stripe key, by its shape
    ("model_hint", "keyAKIAQWERTYUIOPASDFGH", "AWS_ACCESS_KEY_ID"),      # glued to a word
])
def test_a_credential_in_tier_params_is_refused_whatever_its_field(tmp_path, field, value, variable):
    with pytest.raises(ConfigError, match="credential") as e:
        load_production_config(config_with_params(tmp_path, **{field: value}))
    said = f"{e.value.message} {e.value.hint}"
    assert e.value.exit_code == 2 and field in e.value.message and variable in (e.value.hint or "")
    assert "DO-NOT-LEAK" not in said and "AKIAQWERTY" not in said and "abc123" not in said and "a1B2c3" not in said
    # legitimate neighbours still load: an endpoint with a port, an ordinary header, the usual parameters
    fine = config_with_params(tmp_path, api_base="http://localhost:8000/v1", temperature=0.2, max_tokens=300,
                              extra_headers={"X-Request-Source": "workbench"}, stop=["\n\n"])
    assert load_production_config(fine).variants


def test_a_credential_in_tiers_yaml_is_refused_whatever_its_spelling(tmp_path):
    for params in ("{apiKey: abc}", "{extra_headers: {x-api-key: abc}}", f"{{key: {SECRET}}}"):
        path = tmp_path / "tiers.yaml"
        path.write_text(f"tiers:\n  t:\n    model: openai/gpt-4o-mini\n    params: {params}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="credential"):
            load_tiers(path)


def test_a_price_per_token_is_not_a_credential():
    """litellm takes custom prices as ``input_cost_per_token``: the name ends in "token", the value is a number."""
    from workbench._util.secrets import find_secret

    assert find_secret({"params": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}) is None
    assert find_secret({"params": {"access_token": "abc"}}) == ("params.access_token", "credential")
