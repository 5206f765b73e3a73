"""Rollout and rollback: exported configs kept by ``config_hash``, and one *active* pointer that workers follow.

A store is a folder (``$WORKBENCH_HOME/configs`` or ``--store DIR``)::

    <hex>.yaml        an exported ProductionConfig, verified, named by its config_hash (without ``sha256:``)
    <hex>.json        what we know about it: source file, when added, its evidence (both parts for a split)
    ACTIVE            the pointer: {"active": <hash>, "history": [<previous hashes>, ...]}, replaced atomically

``promote`` moves the pointer (the previous one goes on the history), ``rollback`` pops it back, ``split`` writes a
new config whose traffic split spans the variants of two stored configs. Running workers and servers re-read the
pointer between items (``ConfigSource``) and switch configs without dropping in-flight items.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .._util.paths import workspace
from ..config.production import ProductionConfig, TrafficSplit, load_production_config
from ..errors import ConfigError, UsageError

POINTER = "ACTIVE"


def _hex(config_hash: str) -> str:
    return config_hash.split(":", 1)[-1]


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new content, never a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ConfigStore:
    """Configs by hash in one folder, plus the active pointer."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else workspace("configs")
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def pointer(self) -> Path:
        """The ``ACTIVE`` file: the active config's hash and the history of previous ones (JSON)."""
        return self.root / POINTER

    def path(self, config_hash: str) -> Path:
        """Where the config with this hash is stored: ``<hex>.yaml``."""
        return self.root / f"{_hex(config_hash)}.yaml"

    def add(self, source: str | Path | ProductionConfig, meta: dict[str, Any] | None = None) -> ProductionConfig:
        """Verify a config (schema and hash) and keep it as ``<hash>.yaml`` with its evidence. Idempotent."""
        config = source if isinstance(source, ProductionConfig) else load_production_config(source)
        if config.config_hash != config.computed_hash():
            raise ConfigError("config_hash does not match the content", hint="use ProductionConfig.with_hash()")
        target = self.path(config.config_hash)
        if not target.exists():
            atomic_write(target, config.to_yaml())
        info = {"config_hash": config.config_hash, "name": config.name, "variants": sorted(config.variants),
                "weights": config.split.weights, "added": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "source": None if isinstance(source, ProductionConfig) else str(source),
                "evidence": [config.evidence.model_dump(mode="json")], **(meta or {})}
        meta_path = target.with_suffix(".json")
        if not meta_path.exists():
            atomic_write(meta_path, json.dumps(info, indent=2, ensure_ascii=False))
        return config

    def resolve(self, ref: str) -> str:
        """The full hash for a hash or a unique prefix of it (with or without ``sha256:``)."""
        want = _hex(ref.strip())
        found = [p.stem for p in self.root.glob("*.yaml") if p.stem.startswith(want)]
        if len(found) != 1:
            known = ", ".join(sorted(s[:12] for s in (p.stem for p in self.root.glob("*.yaml")))) or "none"
            what = "matches no" if not found else "is ambiguous among"
            raise UsageError(f"{ref!r} {what} stored config", hint=f"stored in {self.root}: {known}; "
                             "add one with `workbench rollout add C.yaml`")
        return f"sha256:{found[0]}"

    def load(self, ref: str) -> ProductionConfig:
        """The stored config for a hash or unique prefix, verified as it loads."""
        return load_production_config(self.path(self.resolve(ref)))

    def meta(self, config_hash: str) -> dict[str, Any]:
        """What was recorded when the config was added (name, weights, source, evidence); {} when nothing was."""
        path = self.path(config_hash).with_suffix(".json")
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def list(self) -> list[dict[str, Any]]:
        """Stored configs, oldest first, with ``active`` marked."""
        active = self.active_hash()
        rows = []
        for p in sorted(self.root.glob("*.yaml"), key=lambda p: p.stat().st_mtime):
            meta = self.meta(p.stem)
            rows.append({"config_hash": f"sha256:{p.stem}", "name": meta.get("name"),
                         "weights": meta.get("weights"), "added": meta.get("added"),
                         "kind": meta.get("kind", "export"), "active": f"sha256:{p.stem}" == active})
        return rows

    def _read_pointer(self) -> dict[str, Any]:
        try:
            return json.loads(self.pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"active": None, "history": []}

    def active_hash(self) -> str | None:
        """The active config's hash; None before the first promote."""
        return self._read_pointer().get("active")

    def promote(self, ref: str) -> str:
        """Make a stored config the active one; the previous active config goes on the history."""
        new = self.resolve(ref)
        state = self._read_pointer()
        if state.get("active") == new:
            return new
        history = list(state.get("history") or [])
        if state.get("active"):
            history.append(state["active"])
        atomic_write(self.pointer, json.dumps({"active": new, "history": history,
                                               "changed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        return new

    def rollback(self) -> str:
        """Back to the previously active config."""
        state = self._read_pointer()
        history = list(state.get("history") or [])
        if not history:
            raise UsageError("nothing to roll back to: no previous active config",
                             hint="`workbench rollout list` shows the stored configs; promote one")
        previous = history.pop()
        atomic_write(self.pointer, json.dumps({"active": previous, "history": history,
                                               "changed": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
        return previous

    def split(self, weights: dict[str, float]) -> ProductionConfig:
        """A config whose split spans the variants of several stored configs, stored (not promoted).

        Each part's variants keep their names (suffixed ``@<hash8>`` on a clash) and share the part's weight in
        their original proportions. Cache, degradation, escalation, gate, logging and evidence come from the
        heaviest part; the evidence of every part is recorded in the store's ``<hash>.json``."""
        if len(weights) < 2 or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise UsageError("a split needs two or more configs with non-negative weights, e.g. A=0.9 B=0.1")
        parts = [(self.load(ref), w) for ref, w in weights.items()]
        variants: dict[str, Any] = {}
        split: dict[str, float] = {}
        for config, weight in parts:
            total = sum(config.split.weights.values())
            for name, share in config.split.weights.items():
                key = name if name not in variants else f"{name}@{_hex(config.config_hash)[:8]}"
                variants[key] = config.variants[name]
                split[key] = round(weight * share / total, 6)
        base = max(parts, key=lambda p: p[1])[0]
        merged = base.model_copy(update={
            "variants": variants, "split": TrafficSplit(weights=split, sticky_key=base.split.sticky_key),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "config_hash": ""})
        merged = ProductionConfig(**merged.model_dump(mode="json")).with_hash()
        meta = {"kind": "split", "parts": [{"config_hash": c.config_hash, "weight": w} for c, w in parts],
                "evidence": [c.evidence.model_dump(mode="json") for c, _ in parts]}
        return self.add(merged, meta=meta)
