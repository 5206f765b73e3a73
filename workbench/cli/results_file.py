"""The output file of ``workbench run``: each result written as it completes, flushed in small batches and
fsynced at the end, so a crash or a kill loses at most the last moments; a write failure (a full disk, a
read-only path) stops the run with exit 2, saying how many results are safely written and how to resume.
``--resume`` appends to an existing file and skips the inputs already answered in it, counting: an id written twice
skips two input lines with that id, not every one (inputs may repeat an id); a line refused with no readable id
(not JSON, too deep to parse...) is matched by its error code. So resuming over the same input adds exactly the
missing lines, and a second resume adds none."""
from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections import Counter
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
        self.done: Counter[str] = _resume_from(path) if resume and path != "-" else Counter()
        self.resumed = self.done.total()
        self._start = Path(path).stat().st_size if resume and path != "-" and Path(path).exists() else 0
        """Where this run's lines begin in the file."""
        if path == "-":
            self._f: Any = sys.stdout
            return
        try:
            self._f = open(path, "a" if resume else "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror}", hint="choose a writable --out path") from None

    def skip(self, item_id: Any, error_code: str | None = None) -> bool:
        """True when ``--resume`` found this input's result in the file (and counts it as taken): an input with an
        id by that id, one without by the ``error_code`` of its rejection."""
        key = _key(item_id, error_code)
        if self.done[key] <= 0:
            return False
        self.done[key] -= 1
        return True

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
        kept = self._complete_lines() + self.resumed
        raise UsageError(
            f"cannot write {self.path}: {error.strerror or error}; {kept} result(s) are safely in it, the rest of "
            f"this run is stopped (the log store has every result answered so far)",
            hint=f"free space or fix the path, then run the same command with --resume: the inputs already in "
                 f"{self.path} are skipped") from None


    def _complete_lines(self) -> int:
        """The complete lines this run put in the file: a flush that fails on a full disk may have written part of
        its buffer (97 counted, 113 there), and ``--resume`` skips every complete one."""
        if self._f is sys.stdout or not os.path.isfile(self.path):  # /dev/full reads as endless zeros
            return self.safe
        try:
            with open(self.path, "rb") as f:
                f.seek(self._start)
                return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
        except OSError:  # unreadable now: what was flushed without an error
            return self.safe


def _key(item_id: Any, error_code: str | None) -> str:
    return f"id {json.dumps(item_id)}" if item_id is not None else f"no id, {error_code}"


def _resume_from(path: str) -> Counter[str]:
    """How many complete result lines ``path`` holds per key (``_key``: the id, else the error code), in one pass;
    a last line without its newline (a run killed mid-write) is cut off, so its input runs again."""
    p = Path(path)
    done: Counter[str] = Counter()
    if not p.exists():
        return done
    complete = 0
    with p.open("rb+") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                f.truncate(complete)
                break
            complete += len(raw)
            try:
                line = json.loads(raw)
                done[_key(line.get("id"), (line.get("error") or {}).get("code"))] += 1
            except (ValueError, AttributeError, TypeError):
                continue
    return done
