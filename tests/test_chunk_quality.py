"""Each chunk-quality metric's definition, on small hand-made cases."""
from __future__ import annotations

from workbench.chunking.base import Chunk
from workbench.chunking.quality import QualityReport, chunk_quality


def at(text: str, piece: str, tokens: int = 20, start: int | None = None, source: str | None = "d.md") -> Chunk:
    """The chunk holding ``piece``, located in ``text``."""
    i = text.index(piece) if start is None else start
    return Chunk(piece, i, i + len(piece), tokens, (), source)


def score(text: str, *chunks: Chunk, limit: int = 100) -> QualityReport:
    return chunk_quality([(text, list(chunks))], limit)


def test_mid_sentence_cut_followed_by_more_text_is_bad():
    text = "The first sentence ends here. The second one\ncontinues on the next line.\n"
    assert score(text, at(text, "The first sentence ends here. The second one")).bad_cut_pct == 100
    assert score(text, at(text, "The first sentence ends here.")).bad_cut_pct == 0


def test_cut_before_blank_line_or_block_start_is_not_bad():
    text = "A paragraph without a full stop\n\nNext paragraph\n- item one\n- item two\n"
    assert score(text, at(text, "A paragraph without a full stop")).bad_cut_pct == 0
    assert score(text, at(text, "A paragraph without a full stop\n\n")).bad_cut_pct == 0  # trailing blanks ignored
    assert score(text, at(text, "Next paragraph")).bad_cut_pct == 0  # a list item follows
    assert score(text, at(text, "- item two\n")).bad_cut_pct == 0  # the document ends


def test_sentence_end_with_closing_quote_or_bracket():
    text = 'He said "stop." (Really!) and more words\nhere\n'
    assert score(text, at(text, 'He said "stop."')).bad_cut_pct == 0
    assert score(text, at(text, 'He said "stop." (Really!)')).bad_cut_pct == 0
    assert score(text, at(text, 'He said "stop." (Really!) and')).bad_cut_pct == 100


def test_rst_blocks_count_as_block_starts():
    text = "Some text without end\n.. note:: hi\n\nMore text\n:field: value\n"
    assert score(text, at(text, "Some text without end", source="d.rst")).bad_cut_pct == 0
    assert score(text, at(text, "More text", source="d.rst")).bad_cut_pct == 0


def test_heading_inside_chunk_is_partial_unless_it_spans_whole_sections():
    text = "# A\n\nAlpha text.\n\n## B\n\nBeta text.\n\nMore beta.\n\n# C\n\nGamma.\n"
    whole = at(text, "# A\n\nAlpha text.\n\n## B\n\nBeta text.\n\nMore beta.\n\n")
    assert score(text, whole).partial_section_pct == 0
    ends_mid = at(text, "# A\n\nAlpha text.\n\n## B\n\nBeta text.")
    assert score(text, ends_mid).partial_section_pct == 100
    starts_mid = at(text, "Alpha text.\n\n## B\n\nBeta text.\n\nMore beta.")
    assert score(text, starts_mid).partial_section_pct == 100
    heading_at_start = at(text, "## B\n\nBeta text.")
    assert score(text, heading_at_start).partial_section_pct == 0
    assert score(text, at(text, text)).partial_section_pct == 0  # the whole document


def test_rst_headings_are_found_for_partial_section():
    text = "Intro line.\n\nTitle\n=====\n\nBody text.\n"
    assert score(text, at(text, "Intro line.\n\nTitle\n=====\n\nBody", source="x.rst")).partial_section_pct == 100
    assert score(text, at(text, text, source="x.rst")).partial_section_pct == 0  # starts at the document start


def test_tiny_and_over_limit_thresholds():
    text = "One. Two. Three. Four.\n"
    chunks = [at(text, "One.", tokens=12), at(text, "Two.", tokens=13), at(text, "Three.", tokens=100),
              at(text, "Four.", tokens=101)]
    report = score(text, *chunks, limit=100)
    assert report.tiny_pct == 25  # 12 < 100/8 = 12.5; 13 is not tiny
    assert report.over_limit_pct == 25  # only 101 > 100
    assert report.max_chunk_tokens == 101 and report.p95_tokens == 101 and report.mean_tokens == 56.5


def test_non_verbatim_and_unlocated_chunks():
    text = "Alpha beta gamma.\n"
    normalised = Chunk("Alpha  beta gamma.", 0, 17, 5)
    unlocated = Chunk("missing text", -1, -1, 3)
    report = score(text, at(text, "Alpha beta gamma."), normalised, unlocated)
    assert round(report.verbatim_pct, 2) == 33.33 and report.unlocated == 1
    assert report.bad_cut_pct == 0  # judged on the two located chunks


def test_report_fields_dict_html_and_speed():
    text = "x" * 1_000_000
    report = chunk_quality([(text, [Chunk(text, 0, len(text), 10)])], 100, seconds=0.5)
    assert report.mb_per_s == 2.0 and report.documents == 1 and report.chunks == 1
    assert chunk_quality([(text, [])], 100).mb_per_s is None
    assert set(report.to_dict()) >= {"chunks", "documents", "over_limit_pct", "tiny_pct", "bad_cut_pct",
                                     "partial_section_pct", "verbatim_pct", "mb_per_s", "mean_tokens", "p95_tokens"}
    assert "<table" in report._repr_html_()
