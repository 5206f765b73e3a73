"""Where working files go: one workspace folder, ``$WORKBENCH_HOME`` or ``build/`` under the current directory.

Notebooks, commands and tests write only here, so running them never changes tracked files.
"""
from __future__ import annotations

import os
from pathlib import Path


def workspace(*parts: str, create: bool = True) -> Path:
    """The workspace folder (or a path inside it), created on demand."""
    root = Path(os.environ.get("WORKBENCH_HOME") or "build").expanduser().resolve()
    path = root.joinpath(*parts)
    if create:
        (path if not path.suffix else path.parent).mkdir(parents=True, exist_ok=True)
    return path


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) holding ``configs/`` and ``pyproject.toml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "configs").is_dir() and (folder / "pyproject.toml").exists():
            return folder
    return None
