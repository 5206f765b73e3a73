"""Where working files go: one workspace folder, whatever the current directory.

The workspace is ``$WORKBENCH_HOME`` when set, else the project root's ``build/`` (or the folder its
``[tool.workbench] workspace`` names), else ``build/`` in the current directory. The project root is the nearest folder at or above the current directory whose ``pyproject.toml`` has a
``[tool.workbench]`` table, so a notebook started in ``notebooks/``, the CLI, papermill and queue workers all use
the same folder. Notebooks, commands and tests write only here: running them never changes tracked files.
"""
from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

MARKER_TABLE = "workbench"
"""The ``[tool.<name>]`` table of ``pyproject.toml`` that marks a workbench project's root."""


def workspace(*parts: str, create: bool = True) -> Path:
    """The workspace folder (or a path inside it), created on demand."""
    home = os.environ.get("WORKBENCH_HOME")
    if home:
        root = Path(home).expanduser().resolve()
    else:
        project = project_root()
        root = project / _settings(project).get("workspace", "build") if project else Path.cwd().resolve() / "build"
    path = root.joinpath(*parts)
    if create:
        folder = path if not path.suffix else path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            from ..errors import ConfigError

            raise ConfigError(f"cannot use the workspace folder {folder}: {e.strerror or e}",
                              hint="set WORKBENCH_HOME to a writable folder (working files: caches, runs, logs)"
                              ) from None
    return path


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) whose ``pyproject.toml`` has a ``[tool.workbench]``
    table; None outside a workbench project."""
    return _root_of(str((start or Path.cwd()).resolve()))


@functools.lru_cache(maxsize=64)
def _root_of(here: str) -> Path | None:
    folder = Path(here)
    for candidate in (folder, *folder.parents):
        if _is_marked(candidate / "pyproject.toml"):
            return candidate
    return None


def _is_marked(pyproject: Path) -> bool:
    return _table(pyproject) is not None


def _settings(root: Path) -> dict:
    return _table(root / "pyproject.toml") or {}


def _table(pyproject: Path) -> dict | None:
    """The ``[tool.workbench]`` table of a ``pyproject.toml``, or None."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get(MARKER_TABLE)
    return table if isinstance(table, dict) else None
