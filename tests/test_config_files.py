"""Config files are read within limits and verified: size and YAML aliases before parsing, UTF-8, no secrets,
optional HMAC signing (WORKBENCH_SIGNING_KEY). Each bad file is a clear exit 2, never a traceback."""
from __future__ import annotations

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
BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x, x]"]
                 + [f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)])


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "WORKBENCH_OFFLINE": "1", **(env or {})}, timeout=120)


def test_an_alias_bomb_is_refused_in_milliseconds():
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases"):
        safe_yaml(BOMB, "bomb.yaml")
    assert time.perf_counter() - start < 0.5
    assert safe_yaml("a: &a 1\nb: *a\n", "ok.yaml") == {"a": 1, "b": 1}  # a few aliases are fine
    assert MAX_ALIASES >= 8


def test_an_alias_bomb_inside_an_exported_config_is_refused_by_the_runner(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB + "\n" + make_config().to_yaml(), encoding="utf-8")  # 10^9 x's once expanded
    start = time.perf_counter()
    r = cli("run", "--config", str(path), "--input", "-", "--out", str(tmp_path / "o.jsonl"))
    assert r.returncode == 2 and "aliases" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]
    assert time.perf_counter() - start < 30


@pytest.mark.parametrize("command", ["run", "gate", "serve", "worker"])
def test_non_utf8_bytes_in_a_config_are_a_clear_exit_2(tmp_path, command):
    path = tmp_path / "bad.yaml"
    path.write_bytes(make_config().to_yaml().encode("utf-8").replace(b"name: qa", b"name: q\xffa", 1))
    extra = {"run": ["--input", "-", "--out", str(tmp_path / "o.jsonl")],
             "gate": ["--evalset", str(ROOT / "evalsets/northwind_qa.jsonl")],
             "serve": ["--port", "0"], "worker": ["--until-empty", "--queue", f"sqlite:///{tmp_path / 'q.db'}"]}
    r = cli(command, "--config", str(path), *extra[command])
    assert r.returncode == 2 and "not valid UTF-8" in r.stderr and "Traceback" not in r.stderr, r.stderr[-800:]


@pytest.mark.parametrize("what", ["policy", "prompt", "tiers"])
def test_non_utf8_policies_prompts_and_tiers_are_config_errors(tmp_path, what):
    bad = tmp_path / "x.yaml"
    bad.write_bytes(b"description: caf\xe9\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        if what == "policy":
            from workbench.inputs import InputPolicy

            InputPolicy.from_yaml(bad)
        elif what == "prompt":
            from workbench.prompts import load_prompt_file

            load_prompt_file(bad)
        else:
            load_tiers(bad)


def test_oversized_and_deeply_nested_yaml_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="over the limit"):
        safe_yaml("a: 1\n" * 10, "big.yaml", max_bytes=20)
    with pytest.raises(ConfigError, match="nested too deeply"):
        safe_yaml("a: " + "[" * 50_000 + "]" * 50_000, "deep.yaml")


def test_a_credential_in_a_loaded_config_is_refused_without_echoing_it(tmp_path):
    data = yaml.safe_load(make_config().to_yaml())
    next(iter(data["variants"].values()))["tiers"]["medium"]["params"]["api_key"] = "sk-live-DO-NOT-LEAK"
    path = tmp_path / "secret.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="credential") as e:
        load_production_config(path)
    assert "DO-NOT-LEAK" not in str(e.value)


def test_a_credential_in_tiers_yaml_is_refused(tmp_path):
    path = tmp_path / "tiers.yaml"
    path.write_text("tiers:\n  t:\n    model: openai/gpt-4o-mini\n    params: {api_key: sk-abc}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="credential"):
        load_tiers(path)


def test_signing_refuses_unsigned_rehashed_and_foreign_configs(tmp_path, monkeypatch):
    unsigned = tmp_path / "unsigned.yaml"
    unsigned.write_text(make_config().to_yaml(), encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_SIGNING_KEY", "team-secret")
    signed = tmp_path / "signed.yaml"
    cfg = make_config()
    assert cfg.signature and cfg.signature.startswith("hmac-sha256:")
    signed.write_text(cfg.to_yaml(), encoding="utf-8")
    assert load_production_config(signed).config_hash == cfg.config_hash
    with pytest.raises(ConfigTamperedError, match="not signed"):
        load_production_config(unsigned)
    # an attacker edits the file and re-hashes it with the public content hash: the checksum passes, not the HMAC
    data = yaml.safe_load(signed.read_text(encoding="utf-8"))
    data["degradation"]["offline_fallback"] = not data["degradation"]["offline_fallback"]
    data["config_hash"] = content_hash({k: v for k, v in data.items() if k not in ("config_hash", "signature")})
    rehashed = tmp_path / "rehashed.yaml"
    rehashed.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ConfigTamperedError, match="signature does not match"):
        load_production_config(rehashed)
    monkeypatch.setenv("WORKBENCH_SIGNING_KEY", "another-key")
    with pytest.raises(ConfigTamperedError, match="signature does not match"):
        load_production_config(signed)
    monkeypatch.delenv("WORKBENCH_SIGNING_KEY")
    assert load_production_config(rehashed).config_hash == data["config_hash"]  # without a key: a checksum only


def test_the_runner_cli_refuses_an_unsigned_config_when_a_key_is_set(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(make_config().to_yaml(), encoding="utf-8")
    r = cli("run", "--config", str(path), "--input", "-", "--out", str(tmp_path / "o.jsonl"),
            env={"WORKBENCH_SIGNING_KEY": "k"})
    assert r.returncode == 2 and "not signed" in r.stderr and "Traceback" not in r.stderr


def test_names_the_log_store_keeps_must_fit_its_columns():
    """A variant, tier or model name longer than its log-store column was accepted; on Postgres every request row of
    that config then failed to insert and was lost (counted). Such a config is refused when it is built or loaded."""
    from pydantic import ValidationError

    from workbench.models.tiers import Tier

    with pytest.raises(ValidationError, match="variant names must be 1 to 128 characters"):
        make_config(variant="v" * 129)
    assert make_config(variant="v" * 128).variants
    with pytest.raises(ValidationError, match="at most 64 characters"):
        Tier(name="t" * 65, model="local/extractive")
    with pytest.raises(ValidationError, match="at most 256 characters"):
        Tier(name="t", model="openai/" + "m" * 250)
