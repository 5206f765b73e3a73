"""Output paths of the commands that read files and write one: never the file being read."""
from __future__ import annotations

import os
from collections.abc import Iterable

from ..errors import UsageError


def refuse_an_input_as_output(out: str, inputs: Iterable[str], flag: str = "--out") -> None:
    """``UsageError`` (exit 2) when ``out`` is one of ``inputs`` (symbolic and hard links included): opening it for
    writing would empty it before it is read, as ``workbench run --input a.jsonl --out a.jsonl`` did. ``-`` is
    stdin or stdout, never a file here."""
    if out == "-":
        return
    for given in inputs:
        if given == "-":
            continue
        try:
            same = os.path.samefile(given, out)
        except OSError:  # one of them does not exist (yet): not the same file
            continue
        if same:
            raise UsageError(f"{flag} {out} is the input file {given}: writing it would empty it before it is read",
                             hint=f"choose another {flag} path")
