"""The structure chunker: sections, blocks kept whole, packing, hostile text, exact counts, quality on real docs."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from workbench.chunking import make_chunker
from workbench.chunking.base import Chunk
from workbench.chunking.markup import parse
from workbench.chunking.quality import chunk_quality
from workbench.chunking.structure import StructureChunker, _one_pack, sections

ROOT = Path(__file__).resolve().parent.parent
FILLER = "This sentence is about invoices and their totals. " * 12


def check(text: str, chunks: list[Chunk], limit: int) -> None:
    """The contract: verbatim, in order, tiling the text, non-blank, within the limit, exact counts."""
    tok = StructureChunker().tokenizer
    pos = 0
    for c in chunks:
        assert c.start == pos and text[c.start:c.end] == c.text and c.text.strip()
        assert c.tokens == tok.count(c.text) and 0 < c.tokens <= limit
        pos = c.end
    assert pos == len(text) or not text[pos:].strip()


def run(text: str, limit: int = 512, source: str | None = None, **kw) -> list[Chunk]:
    chunks = StructureChunker(max_tokens=limit, **kw).chunk(text, source=source)
    check(text, chunks, limit)
    return chunks


def test_markdown_atx_and_setext_section_paths():
    text = (f"# Guide\n\nIntro. {FILLER}\n\n## Install\n\n{FILLER}\n\nSetup\n-----\n\n{FILLER}\n\n"
            f"### Linux\n\n{FILLER}\n\nOther\n=====\n\n{FILLER}\n")
    chunks = run(text, 200, format="markdown")
    sections = [c.section for c in chunks]
    assert sections[0] == ("Guide",)
    assert ("Guide", "Install") in sections and ("Guide", "Setup") in sections
    assert ("Guide", "Setup", "Linux") in sections and sections[-1] == ("Other",)
    for c in chunks:
        assert c.text.lstrip().splitlines()[0].strip() in {"# Guide", "## Install", "Setup", "### Linux", "Other"} \
            or c.section  # every chunk that starts a section starts at its heading


def test_rst_adornment_hierarchy_learnt_in_order():
    text = (f"=====\nTitle\n=====\n\n{FILLER}\n\nPart\n====\n\n{FILLER}\n\nSub\n---\n\n{FILLER}\n\n"
            f"Other part\n==========\n\n{FILLER}\n")
    chunks = run(text, 200, source="doc.rst")
    paths = [c.section for c in chunks]
    assert paths[0] == ("Title",)
    assert ("Title", "Part", "Sub") in paths and paths[-1] == ("Title", "Other part")


def test_format_auto_sniffs_rst_and_markdown():
    rst = "Heading\n=======\n\nText.\n\n.. note::\n\n   A note.\n"
    assert run(rst, 64)[0].section == ("Heading",)
    assert run("# Heading\n\nText.\n", 64)[0].section == ("Heading",)


def test_code_fence_kept_whole_when_it_fits():
    code = "```python\n" + "\n".join(f"x_{i} = {i}  # a line of code" for i in range(30)) + "\n```\n"
    text = f"# Code\n\n{FILLER}\n\n{code}\n{FILLER}\n"
    chunks = run(text, 400)
    assert any(code.strip() in c.text for c in chunks)


def test_long_code_split_at_lines_and_hash_lines_are_not_headings():
    code = "```\n" + "\n".join(f"# not a heading {i}\nvalue = {i}" for i in range(200)) + "\n```\n"
    chunks = run(f"# Real\n\n{code}", 128)
    assert len(chunks) > 3 and all(c.section == ("Real",) for c in chunks)
    assert all(c.text.endswith("\n") for c in chunks[:-1])  # cut at line boundaries


def test_unterminated_fence_runs_to_the_end():
    text = "# A\n\nText.\n\n```\ncode\n# B\n\nmore code\n"
    chunks = run(text, 64)
    assert [c.section for c in chunks] == [("A",)]


def test_tables_and_lists_are_boundaries():
    table = "| a | b |\n|---|---|\n" + "".join(f"| row {i} | value {i} |\n" for i in range(60))
    items = "".join(f"- item {i} about invoices and payments\n" for i in range(60))
    chunks = run(f"# T\n\n{table}\n{items}", 128)
    for c in chunks:
        last = c.text.rstrip().splitlines()[-1]
        assert last.startswith(("|", "- "))  # never inside a row or an item


def test_grid_and_simple_tables_stay_whole():
    grid = "+-----+-----+\n| a   | b   |\n+=====+=====+\n| 1   | 2   |\n+-----+-----+\n"
    simple = "=====  =====\nA      B\n=====  =====\n1      2\n=====  =====\n"
    text = f"Title\n=====\n\n{FILLER}\n\n{grid}\n{FILLER}\n\n{simple}\n{FILLER}\n"
    chunks = run(text, 160, source="t.rst")
    assert any(grid.strip() in c.text for c in chunks) and any(simple.strip() in c.text for c in chunks)


def test_rst_literal_and_code_block_kept_whole():
    body = "\n".join(f"    line_{i} = call({i})" for i in range(20))
    text = f"Title\n=====\n\n{FILLER}\n\nExample::\n\n{body}\n\n.. code-block:: python\n\n{body}\n\n{FILLER}\n"
    chunks = run(text, 300, source="x.rst")
    assert sum(body.strip() in c.text for c in chunks) >= 1
    assert all(c.text.count("line_0 ") in (0, 1, 2) for c in chunks)
    for c in chunks:
        n = c.text.count("line_")
        assert n % 20 == 0  # both blocks whole


def test_small_sibling_sections_packed_under_common_parent():
    text = "# Parent\n\nIntro.\n\n## A\n\nAlpha text.\n\n## B\n\nBeta text.\n\n## C\n\nGamma text.\n"
    chunks = run(text, 512)
    assert len(chunks) == 1 and chunks[0].section == ("Parent",)
    text2 = "# P\n\n" + "".join(f"## S{i}\n\n{FILLER}\n\n" for i in range(6))
    chunks2 = run(text2, 320)
    assert any(c.text.count("## S") >= 2 and c.section == ("P",) for c in chunks2)


def test_heading_only_file():
    assert [c.text for c in run("# Only a heading\n", 64)] == ["# Only a heading\n"]
    assert StructureChunker().chunk("  \n\n ") == []


def test_huge_single_line():
    text = "word " * 40_000  # 200 kB, one line
    chunks = run(text, 512)
    assert len(chunks) >= 40_000 // 512
    base64ish = "QUJD" * 50_000  # 200 kB without spaces: token-boundary cuts, recounted
    run(base64ish, 512)


@pytest.mark.parametrize("unit", ["👩‍👩‍👧‍👦 ", "🏳️‍🌈", "שלום עולם. ", "漢字かな交じり文。", "e\u0301\u0302\u0303", "👍🏽"])
def test_hostile_strings(unit):
    text = f"# Title {unit}\n\n" + unit * 3000 + "\n\n## Next\n\n" + unit * 50
    chunks = run(text, 64)
    for c in chunks[1:]:
        first = c.text[0]
        assert first not in "\u200d\u0301\u0302\u0303\ufe0f" and not 0x1F3FB <= ord(first) <= 0x1F3FF


def test_crlf_offsets_on_raw_text_and_bom():
    text = "\ufeff# Title\r\n\r\nSome text here.\r\n\r\n## Sub\r\n\r\n" + FILLER.replace(". ", ".\r\n") * 4
    chunks = run(text, 128)
    assert chunks[0].start == 0 and chunks[0].text.startswith("\ufeff")
    assert {c.section for c in chunks} >= {("Title", "Sub")}


def test_registered_and_serialisable():
    chunker = make_chunker("structure", max_tokens=256, format="rst")
    assert isinstance(chunker, StructureChunker) and chunker.model_dump()["strategy"] == "structure"


def _real_docs(shared: Path | None) -> list[tuple[str, str]]:
    paths = sorted((ROOT / "corpus").glob("*.md"))
    if shared is not None:
        paths += sorted((shared / "docs-peps" / "peps").glob("*.rst"))
        paths += sorted((shared / "docs-rust-book" / "src").glob("*.md"))
    return [(str(p), p.read_text(encoding="utf-8")) for p in paths]


@pytest.fixture(scope="module")
def real_docs() -> list[tuple[str, str]]:
    """corpus/*.md, plus every PEP and Rust-book file when ../shared/external is present."""
    shared = ROOT.parent / "shared" / "external"
    return _real_docs(shared if shared.is_dir() else None)


@pytest.mark.slow
@pytest.mark.parametrize("limit", [128, 256, 512])
def test_exact_counts_on_real_docs(real_docs, limit):
    chunker = StructureChunker(max_tokens=limit)
    for path, text in real_docs:
        check(text, chunker.chunk(text, source=path), limit)


@pytest.mark.slow
def test_quality_targets_on_real_docs(real_docs):
    chunker = StructureChunker(max_tokens=512)
    report = chunk_quality([(t, chunker.chunk(t, source=p)) for p, t in real_docs], 512)
    assert report.over_limit_pct == 0 and report.verbatim_pct == 100
    assert report.bad_cut_pct <= 2 and report.partial_section_pct <= 1 and report.tiny_pct <= 5


def test_shared_external_present(shared_external):
    """The real-docs tests above include the PEPs and the Rust book whenever this one runs (not skipped)."""
    assert (shared_external / "docs-peps" / "peps").is_dir()


_LINES = st.sampled_from([
    "# Top", "## Sub", "### Deeper", "  ## Indented", "/ slash line", "Title\n=====", "Sub\n---", "Rst\n***",
    "plain words here.", "/ Slash title\n=============", "  indented text", "\ttab text", "- item",
    "```\ncode\n```", "| a | b |", "", "", "\r", "café ünïcode 漢字", "👩‍👩‍👧‍👦 emoji", "<|endoftext|>", ".", "/",
    "Some words.", "More words follow here, a few of them."])


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(_LINES, min_size=1, max_size=14), limit=st.sampled_from([8, 12, 16, 32, 64, 512]),
       fmt=st.sampled_from(["markdown", "rst"]), trailing=st.sampled_from(["", "\n", "\n\n"]),
       model=st.sampled_from([None, "gpt-4o", "text-davinci-003"]))
@example(lines=["## Sub", "Some words.", "# Top", "Some words."], limit=16, fmt="markdown", trailing="\n",
         model=None)  # a shallower section after a pack of at least limit / 8 tokens starts a chunk of its own
@example(lines=["Some words.", "/ Slash title\n=============", "Some words."], limit=64, fmt="markdown", trailing="",
         model="gpt-4o")  # o200k: ".\n\n/" is one pre-token, so no token ends where the heading's line starts
def test_a_document_that_fits_is_chunked_as_the_token_map_would(lines, limit, fmt, trailing, model):
    """The shortcut for a document within the limit (one chunk, no token map) gives what the general path gives."""
    text = "\n\n".join(lines) + trailing
    if not text.strip():
        return
    chunker = StructureChunker(max_tokens=limit, format=fmt, model=model)
    markup = parse(text, fmt)
    expected = chunker._chunks_by_map(text, markup, sections(markup), chunker.tokenizer.encode(text), "doc.md")
    assert chunker.chunk(text, source="doc.md") == expected


def test_the_shortcut_is_taken_only_where_it_is_one_pack():
    def one_pack(text: str) -> bool:
        markup = parse(text, "markdown")
        return _one_pack(text, markup, sections(markup))

    assert one_pack("# Refunds\n\nWithin 30 days.\n\n## Credit\n\nExpires in 12 months.\n")
    assert not one_pack("## Sub first\n\nText.\n\n# Then a top heading\n\nText.\n")  # a shallower section
    assert not one_pack("# A\n\nText.\n\n   ## Indented heading\n\nText.\n")  # after spaces: no token end
