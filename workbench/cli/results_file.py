"""The output file of ``workbench run``: each result written as it completes, flushed in small batches and
fsynced at the end, so a crash or a kill loses at most the last moments; a write failure (a full disk, a
read-only path) stops the run with exit 2, saying how many results are safely written and how to resume.
``--resume`` appends to an existing file and skips the ids already in it."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError

FLUSH_LINES = 32
"""Flush after this many unflushed lines..."""
FLUSH_SECONDS = 0.5
"""... or this long after the first unflushed one."""


class ResultsFile:
    """One JSON line per result, to a path or ``-`` (stdout)."""

    def __init__(self, path: str, *, resume: bool = False):
        self.path, self.safe, self._pending, self._since, self._closed = path, 0, 0, 0.0, False
        self.done_ids: set[str] = _resume_from(path) if resume and path != "-" else set()
        if path == "-":
            self._f: Any = sys.stdout
            return
        try:
            self._f = open(path, "a" if resume else "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror}", hint="choose a writable --out path") from None

    def skip(self, item_id: Any) -> bool:
        """True when ``--resume`` found this id in the file already."""
        return item_id is not None and json.dumps(item_id) in self.done_ids

    def write(self, line: dict[str, Any]) -> None:
        """Write one result line (flushed in batches)."""
        try:
            self._f.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._pending += 1
            now = time.monotonic()
            if self._pending == 1:
                self._since = now
            first = self.safe == 0  # the first line is flushed at once: a full disk stops the run early
            if first or self._pending >= FLUSH_LINES or now - self._since >= FLUSH_SECONDS:
                self._flush()
        except OSError as e:
            self._failed(e)

    def close(self) -> None:
        """Flush and fsync (a file), then close; a failure is ``_failed``."""
        if self._closed:
            return
        try:
            self._flush()
            if self._f is not sys.stdout:
                os.fsync(self._f.fileno())
        except OSError as e:
            self._failed(e)
        finally:
            self._close_quietly()

    def _flush(self) -> None:
        self._f.flush()
        self.safe += self._pending
        self._pending = 0

    def _close_quietly(self) -> None:
        self._closed = True
        if self._f is not sys.stdout:
            with contextlib.suppress(OSError):  # the data it held is already counted as lost
                self._f.close()

    def _failed(self, error: OSError) -> None:
        self._close_quietly()
        kept = self.safe + len(self.done_ids)
        raise UsageError(
            f"cannot write {self.path}: {error.strerror or error}; {kept} result(s) are safely in it, the rest of "
            f"this run is stopped (the log store has every result answered so far)",
            hint=f"free space or fix the path, then run the same command with --resume: the ids already in "
                 f"{self.path} are skipped") from None


def _resume_from(path: str) -> set[str]:
    """The ids (as JSON text) of the complete result lines already in ``path``, in one pass; a last line without
    its newline (a run killed mid-write) is cut off, so its id runs again."""
    p = Path(path)
    if not p.exists():
        return set()
    ids, complete = set(), 0
    with p.open("rb+") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                f.truncate(complete)
                break
            complete += len(raw)
            try:
                ident = json.loads(raw).get("id")
            except (ValueError, AttributeError):
                continue
            if ident is not None:
                ids.add(json.dumps(ident))
    return ids
