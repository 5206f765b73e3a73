"""``workbench chunk``: split files into verbatim, token-bounded chunks, one JSON line per chunk.

Files are read as bytes and decoded strictly as UTF-8 with no newline translation (a BOM stays a character), so
``start``/``end`` index the text exactly as ``Path(source).read_bytes().decode("utf-8")`` gives it. A file that
cannot be read, is binary or not UTF-8, or that the chunker rejects, costs one ``error: PATH: reason`` line on
stderr; the others are still chunked, and the exit code is 1 at the end.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIXES = (".md", ".markdown", ".rst", ".txt")
"""The documents taken from a folder (recursively); ``.jsonl`` too with ``--strategy conversation`` (chat logs).
Other files in a folder (an answer key such as ``corpus/FACTS.jsonl``, images) are skipped, and the count of
skipped files is said on stderr. A file named on the command line is always chunked."""
CONVERSATION_SUFFIXES = (".jsonl",)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chunk", help="split documents into chunks (JSONL) with a chunking strategy")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help=f"files, or folders searched for documents ({' '.join(SUFFIXES)}; .jsonl chat logs with "
                        "--strategy conversation); other files in a folder are skipped and counted")
    p.add_argument("--strategy", default="recursive",
                   help="token, recursive, sentence, structure, semantic or conversation (default: recursive)")
    p.add_argument("--max-tokens", type=int, help="token limit of a chunk (default: the strategy's, 512)")
    p.add_argument("--overlap", type=int, help="overlap (tokens, sentences or turns, per strategy)")
    p.add_argument("--model", help="model whose tokenizer counts tokens (default: cl100k_base)")
    p.add_argument("--out", required=True, help="output JSONL file ('-' for stdout)")
    p.add_argument("--report", action="store_true", help="print a chunk quality report as JSON on stdout")
    p.set_defaults(run=run)


def iter_files(paths: list[str], suffixes: tuple[str, ...] = SUFFIXES,
               skipped: list[str] | None = None) -> Iterator[tuple[str, str | None]]:
    """``(path, problem)`` for each input file, folders expanded (sorted) to the files with ``suffixes`` (the
    others are appended to ``skipped``); ``problem`` when it cannot be used."""
    for given in paths:
        p = Path(given)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in
                                                                                f.relative_to(p).parts))
            if skipped is not None:
                skipped += [str(f) for f in files if f.suffix.lower() not in suffixes]
            yield from ((str(f), None) for f in files if f.suffix.lower() in suffixes)
        elif p.exists():
            yield given, None
        else:
            yield given, "no such file or directory"


def read_text(path: str) -> str:
    """The file as strict UTF-8 text; ``ValueError`` says why it is not usable (binary, not UTF-8)."""
    data = Path(path).read_bytes()
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def _chunk_file(chunker: Any, path: str, out: Any) -> tuple[str, list, float]:
    """Chunk one file and write its lines; returns the text, its chunks and the seconds spent chunking."""
    text = read_text(path)
    t0 = time.perf_counter()
    chunks = chunker.chunk(text, source=path)
    seconds = time.perf_counter() - t0
    for c in chunks:
        out.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
    return text, chunks, seconds


def _reason(e: Exception, path: str) -> str:
    from ..errors import DataError

    if isinstance(e, DataError):  # its message names the line (and the file, which we print already)
        return e.message.removeprefix(f"{path}:").lstrip(": ")
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e) or type(e).__name__


def run(args: argparse.Namespace) -> int:
    from ..chunking import make_chunker
    from .outputs import refuse_an_input_as_output

    refuse_an_input_as_output(args.out, args.paths)
    given = {"max_tokens": args.max_tokens, "overlap": args.overlap, "model": args.model}
    chunker = make_chunker(args.strategy, **{k: v for k, v in given.items() if v is not None})
    docs: list[tuple[str, list]] = []
    seconds, failed = 0.0, 0
    with contextlib.ExitStack() as stack:
        out = sys.stdout if args.out == "-" else stack.enter_context(
            open(args.out, "w", encoding="utf-8", newline="\n"))
        suffixes = SUFFIXES + (CONVERSATION_SUFFIXES if args.strategy == "conversation" else ())
        skipped: list[str] = []
        for path, problem in iter_files(args.paths, suffixes, skipped):
            try:
                if problem:
                    raise ValueError(problem)
                text, chunks, spent = _chunk_file(chunker, path, out)
            except Exception as e:  # noqa: BLE001 - one bad file (or chunker bug) must not stop the others
                print(f"error: {path}: {_reason(e, path)}", file=sys.stderr)
                failed += 1
                continue
            seconds += spent
            if args.report:
                docs.append((text, chunks))
    if skipped:
        names = ", ".join(Path(s).name for s in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        print(f"skipped {len(skipped)} file(s) in the folder(s) that are not documents ({names}); name a file "
              "to chunk it anyway", file=sys.stderr)
    if args.report:
        print(json.dumps(_quality(docs, chunker.max_tokens, seconds), indent=2, ensure_ascii=False))
    return 1 if failed else 0


def _quality(docs: list[tuple[str, list]], max_tokens: int, seconds: float) -> dict[str, Any]:
    """The quality report of ``workbench.chunking.quality`` as a dict."""
    try:
        from ..chunking.quality import chunk_quality
    except ImportError as e:
        from ..errors import UsageError

        raise UsageError(f"--report needs workbench.chunking.quality, which is not available ({e})",
                         hint="run without --report") from None
    return chunk_quality(docs, max_tokens, seconds=seconds).to_dict()
