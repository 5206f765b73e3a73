"""Chunking speed and boundary quality: our strategies vs the peers, on real Markdown and reST documents.

Corpus: the 100 PEPs (``../shared/external/docs-peps/peps/*.rst``), the Rust book
(``../shared/external/docs-rust-book/src/*.md``) and ``corpus/*.md``; ``corpus/`` alone when ``../shared/external``
is absent (with a note). One tokenizer for all (cl100k_base, via ``tokenizer_for("local/x")``), 512 tokens, no
overlap, one process pinned to one core (``RAYON_NUM_THREADS=1``), medians of ``--runs``; each timed run of a
chunker follows its own encode pass, and its ratio is the median of those paired ratios.

Ours: ``structure`` and every other registered strategy that imports. Peers (each skipped with a note when it
does not install or import): langchain-text-splitters ``RecursiveCharacterTextSplitter.from_tiktoken_encoder``
with its default separators and with the Markdown/reST separators of the document's format; semchunk
``chunkerify`` (a fresh one per document, so its memo of token counts does not carry over between runs); chonkie ``RecursiveChunker`` (its markdown recipe downloads from the Hugging Face Hub, so it is
skipped offline); semantic-text-splitter ``MarkdownSplitter`` (Markdown) / ``TextSplitter`` (reST) from the
tiktoken model ``gpt-4`` (cl100k_base). The baseline is one plain ``encode`` pass over the same documents.

Peers return strings, not offsets: each chunk is mapped back by ``text.find(chunk, pos)`` from the end of the
previous one; failing that, by a regex of its words joined by ``\\s+`` (a whitespace-normalised chunk: located,
but non-verbatim); failing that, it is unlocated (non-verbatim, left out of the boundary metrics). Peer chunks
are counted with the same tokenizer; mapping and counting are not timed. Metrics: ``workbench.chunking.quality``.

    python benchmarks/chunking.py --quick
    python benchmarks/chunking.py --json results/chunking.json
"""
from __future__ import annotations

import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workbench.chunking.base import Chunk  # noqa: E402
from workbench.chunking.quality import QualityReport, chunk_quality  # noqa: E402
from workbench.models.tokens import tokenizer_for  # noqa: E402

LIMIT = 512
TARGETS = {"speed_ratio": (">=", 0.6), "bad_cut_pct": ("<=", 2.0), "partial_section_pct": ("<=", 1.0),
           "tiny_pct": ("<=", 5.0), "over_limit_pct": ("<=", 0.0), "verbatim_pct": (">=", 100.0)}
Doc = tuple[str, str]  # (path, text)
Split = Callable[[str, str], list[Any]]  # (path, text) -> chunks (ours) or strings / peer chunk objects


def load_corpus(quick: bool) -> tuple[list[Doc], list[str]]:
    """The documents, and notes about what is missing."""
    shared, notes = ROOT.parent / "shared" / "external", []
    paths = sorted((ROOT / "corpus").glob("*.md"))
    if shared.is_dir():
        paths = sorted((shared / "docs-peps" / "peps").glob("*.rst")) + \
            sorted((shared / "docs-rust-book" / "src").glob("*.md")) + paths
    else:
        notes.append("../shared/external is absent: corpus/*.md only")
    if quick:
        paths = paths[::8]
    return [(str(p), p.read_text(encoding="utf-8")) for p in paths], notes


def ours(notes: list[str]) -> dict[str, Split]:
    """Every registered strategy that imports and builds at the limit."""
    from workbench.chunking import registry

    classes = dict(registry())
    out: dict[str, Split] = {}
    for kind in sorted(classes, key=lambda k: k != "structure"):
        try:
            chunker = classes[kind](max_tokens=LIMIT)
        except Exception as err:  # noqa: BLE001
            notes.append(f"ours/{kind}: cannot build ({err})")
            continue
        out[f"ours/{kind}"] = lambda path, text, c=chunker: c.chunk(text, source=path)
    return out


def _langchain(enc: Any, markup: bool) -> Split:
    from langchain_text_splitters import Language
    from langchain_text_splitters import RecursiveCharacterTextSplitter as R

    kw: dict[str, Any] = {"encoding_name": "cl100k_base", "chunk_size": LIMIT, "chunk_overlap": 0,
                          "disallowed_special": ()}
    plain = R.from_tiktoken_encoder(**kw)
    if not markup:
        return lambda path, text: plain.split_text(text)
    md, rst = (R.from_tiktoken_encoder(separators=R.get_separators_for_language(lang), is_separator_regex=True,
                                       **kw) for lang in (Language.MARKDOWN, Language.RST))
    return lambda path, text: (rst if path.endswith(".rst") else md).split_text(text)


def _semchunk(enc: Any) -> Split:
    import semchunk

    # a fresh chunker per document: its memo of token counts must not carry over between timed runs
    return lambda path, text: semchunk.chunkerify(enc, LIMIT)(text)


def _chonkie(enc: Any, recipe: bool) -> Split:
    from chonkie import RecursiveChunker

    chunker = RecursiveChunker.from_recipe("markdown", lang="en", tokenizer=enc, chunk_size=LIMIT) if recipe \
        else RecursiveChunker(tokenizer=enc, chunk_size=LIMIT)
    return lambda path, text: [c.text for c in chunker.chunk(text)]


def _text_splitter(enc: Any) -> Split:
    from semantic_text_splitter import MarkdownSplitter, TextSplitter

    md, plain = MarkdownSplitter.from_tiktoken_model("gpt-4", LIMIT), TextSplitter.from_tiktoken_model("gpt-4", LIMIT)
    return lambda path, text: (plain if path.endswith(".rst") else md).chunks(text)


PEERS: dict[str, Callable[[Any], Split]] = {
    "langchain/recursive": lambda enc: _langchain(enc, False),
    "langchain/markdown+rst": lambda enc: _langchain(enc, True),
    "semchunk": _semchunk,
    "chonkie/recursive": lambda enc: _chonkie(enc, False),
    "chonkie/markdown-recipe": lambda enc: _chonkie(enc, True),
    "semantic-text-splitter": _text_splitter,
}


def peers(notes: list[str]) -> dict[str, Split]:
    """The peer splitters that import, configured for cl100k_base and the limit (a missing one is a note)."""
    enc = tokenizer_for("local/x")._encoding  # loads cl100k_base offline; tiktoken.get_encoding then reuses it
    out: dict[str, Split] = {}
    for name, build in PEERS.items():
        try:
            out[name] = build(enc)
        except Exception as err:  # noqa: BLE001
            notes.append(f"{name}: skipped ({type(err).__name__}: {str(err)[:120]})")
    return out


def locate(text: str, pieces: list[str], path: str, count: Callable[[str], int]) -> list[Chunk]:
    """Map peer chunk strings back to offsets (see the module docstring)."""
    out, pos = [], 0
    for piece in pieces:
        start = text.find(piece, pos) if piece else -1
        end = start + len(piece) if start >= 0 else -1
        if start < 0 and piece.split():
            m = re.compile(r"\s+".join(map(re.escape, piece.split()))).search(text, pos)
            start, end = (m.start(), m.end()) if m else (-1, -1)
        if start >= 0:
            pos = end
        out.append(Chunk(piece, start, end, count(piece), (), path))
    return out


def timed(split: Split, docs: list[Doc]) -> tuple[float, list[list[Any]]]:
    t0 = time.perf_counter()
    results = [split(path, text) for path, text in docs]
    return time.perf_counter() - t0, results


def run(docs: list[Doc], runs: int, notes: list[str]) -> tuple[list[float], dict[str, QualityReport],
                                                              dict[str, float]]:
    """Encode-pass seconds, each chunker's report (seconds = median of its runs) and its speed ratio: the
    median over runs of (encode pass just before it) / (its run), a paired ratio that a busy machine skews less."""
    tok = tokenizer_for("local/x")
    contenders = {**ours(notes), **peers(notes)}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    ratios: dict[str, list[float]] = {name: [] for name in contenders}
    encodes: list[float] = []
    outputs: dict[str, list[list[Any]]] = {}
    for name, split in list(contenders.items()):  # warm-up (caches, lazy imports) and a sanity run
        try:
            outputs[name] = timed(split, docs[:2])[1]
        except Exception as err:  # noqa: BLE001
            notes.append(f"{name}: failed on the corpus ({type(err).__name__}: {str(err)[:120]})")
            del contenders[name], times[name], ratios[name]
    for _ in range(runs):
        for name, split in contenders.items():
            encodes.append(timed(lambda p, t: tok.encode(t), docs)[0])
            seconds, outputs[name] = timed(split, docs)
            times[name].append(seconds)
            ratios[name].append(encodes[-1] / seconds)
    reports = {}
    for name, results in outputs.items():
        chunks = [c if name.startswith("ours/") else locate(text, [getattr(x, "text", x) for x in c], path, tok.count)
                  for (path, text), c in zip(docs, results, strict=True)]
        reports[name] = chunk_quality([(text, cs) for (_, text), cs in zip(docs, chunks, strict=True)], LIMIT,
                                      statistics.median(times[name]))
    return encodes, reports, {name: statistics.median(r) for name, r in ratios.items()}


def table(encodes: list[float], mb: float, reports: dict[str, QualityReport],
          ratios: dict[str, float]) -> list[dict[str, Any]]:
    rows = [{"chunker": "tiktoken encode pass", "mb_per_s": mb / statistics.median(encodes), "speed_ratio": 1.0}]
    for name, r in reports.items():
        rows.append({"chunker": name, **r.to_dict(), "speed_ratio": ratios[name]})
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    cols = [("chunker", "{}", 26), ("mb_per_s", "{:.2f}", 7), ("speed_ratio", "{:.2f}x", 8),
            ("over_limit_pct", "{:.1f}", 6), ("tiny_pct", "{:.1f}", 6), ("bad_cut_pct", "{:.1f}", 6),
            ("partial_section_pct", "{:.1f}", 8), ("verbatim_pct", "{:.1f}", 8), ("chunks", "{}", 7),
            ("mean_tokens", "{:.0f}", 6)]
    heads = ["chunker", "MB/s", "×encode", "over%", "tiny%", "bad%", "partial%", "verbat%", "chunks", "mean"]
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w)
                       for i, (h, (_, _, w)) in enumerate(zip(heads, cols, strict=True)))]
    for row in rows:
        cells = [(fmt.format(row[key]) if key in row else "") for key, fmt, _ in cols]
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, (_, _, w)) in enumerate(zip(cells, cols, strict=True))))
    return "\n".join(lines)


def verdicts(row: dict[str, Any]) -> list[str]:
    out = []
    for key, (op, target) in TARGETS.items():
        ok = row[key] >= target if op == ">=" else row[key] <= target
        out.append(f"{'PASS' if ok else 'MISS'}  {key} = {row[key]:.3f} (target {op} {target})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 8th document, one run (a smoke test)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per chunker (median reported)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    docs, notes = load_corpus(args.quick)
    mb = sum(len(t.encode("utf-8")) for _, t in docs) / 1e6
    encodes, reports, ratios = run(docs, 1 if args.quick else max(args.runs, 3), notes)
    rows = table(encodes, mb, reports, ratios)
    print(f"{len(docs)} documents, {mb:.2f} MB, limit {LIMIT} tokens (cl100k_base), one core\n")
    print(render(rows))
    structure = next((r for r in rows if r["chunker"] == "ours/structure"), None)
    if structure:
        print("\nstructure chunker vs targets:\n" + "\n".join(verdicts(structure)))
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"documents": len(docs), "mb": mb, "limit": LIMIT, "notes": notes,
                                         "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
