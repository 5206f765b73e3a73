"""Where a worker or server gets its runner: a fixed config file, or a config store's active pointer, followed
between items so a promoted config is picked up without dropping in-flight items."""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.production import ProductionConfig, load_production_config
from ..errors import UsageError
from ..release.rollout import ConfigStore


def build_runner(config: ProductionConfig, *, db_url: str | None = None, allow_stand_in_evidence: bool = False) -> Any:
    """The runner for a config. No environment variable can swap it: production imports only this package's code
    (tests replace this function in-process)."""
    from .runner import Runner

    return Runner.from_config(config, db_url=db_url, allow_stand_in_evidence=allow_stand_in_evidence)


@dataclass
class ConfigSource:
    """Where a worker or server gets its config: a fixed file, or a store's active pointer (followed).

    ``current()`` is cheap (one small file read when following) and returns the runner for the config in force
    now, building a new one when the pointer moved; call it between items."""

    path: str | Path | None = None
    store: ConfigStore | None = None
    db_url: str | None = None
    allow_stand_in_evidence: bool = False
    """Run configs whose evidence offline stand-ins measured with real models anyway (recorded)."""
    _hash: str | None = field(default=None, init=False)
    _runner: Any = field(default=None, init=False)
    _config: ProductionConfig | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_args(cls, config: str | None, store: str | None, db_url: str | None,
                  allow_stand_in_evidence: bool = False) -> ConfigSource:
        """``--config C`` (a file), or ``--config active`` / no ``--config``: follow the store's pointer."""
        if config and config != "active":
            return cls(path=config, db_url=db_url, allow_stand_in_evidence=allow_stand_in_evidence)
        return cls(store=ConfigStore(store), db_url=db_url, allow_stand_in_evidence=allow_stand_in_evidence)

    def close(self) -> None:
        """Close the current runner (its pending log rows and cache entries written)."""
        with self._lock:
            if self._runner is not None and hasattr(self._runner, "close"):
                self._runner.close()
            self._runner, self._hash = None, None

    @property
    def following(self) -> bool:
        """True when the config comes from a store's active pointer, not a fixed file."""
        return self.store is not None

    def current(self) -> tuple[ProductionConfig, Any]:
        """The config in force and its runner (rebuilt when the pointer moved); ``UsageError`` when the store has no
        active config."""
        with self._lock:
            return self._current()

    def _current(self) -> tuple[ProductionConfig, Any]:
        if self.store is None:
            if self._runner is None:
                self._config = load_production_config(self.path)  # type: ignore[arg-type]
                self._runner = build_runner(self._config, db_url=self.db_url,
                                            allow_stand_in_evidence=self.allow_stand_in_evidence)
            return self._config, self._runner  # type: ignore[return-value]
        active = self.store.active_hash()
        if active is None:
            raise UsageError(f"no active config in {self.store.root}",
                             hint="`workbench rollout add C.yaml` then `workbench rollout promote HASH`, "
                                  "or pass --config C.yaml")
        if active != self._hash:
            config = load_production_config(self.store.path(active))
            replaced, self._runner = self._runner, build_runner(config, db_url=self.db_url,
                                                                allow_stand_in_evidence=self.allow_stand_in_evidence)
            self._config, self._hash = config, active
            if replaced is not None and hasattr(replaced, "close"):
                retire(replaced)
        return self._config, self._runner  # type: ignore[return-value]


def retire(runner: Any) -> None:
    """Close a runner the pointer moved away from, in a background thread (not a daemon: the process waits for its
    pending log rows): it writes what it holds and releases its log store's connections. An item still running on
    it logs through it all the same (its writer restarts on demand), so nothing is lost; a long-running server no
    longer keeps one open runner per rollout."""
    def close() -> None:
        try:
            runner.close()
        except Exception as e:  # noqa: BLE001 - a failing close must not take the server down; it is reported
            print(f"workbench: closing the replaced runner failed: {type(e).__name__}: {e}", file=sys.stderr)

    threading.Thread(target=close, name="workbench-retire-runner").start()
