"""Contract test: every registered chunker through the same checks, on the demo corpus and tricky texts.

The rules: chunks are verbatim slices (``text[start:end] == chunk.text``); ``tokens`` is the tokenizer's count of
the text and at most ``max_tokens``; chunks come in order, non-empty and not whitespace-only; every
non-whitespace character of the source is in some chunk; whitespace-only text gives no chunks; the same input
gives the same chunks.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.chunking import Chunk, make_chunker, registry
from workbench.chunking.text import exact_sums, stable_boundary
from workbench.models.tokens import tokenizer_for

CORPUS = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.md"))
STRATEGIES = sorted(registry())
LIMITS = (32, 128, 512)


def _rand(seed: int, n: int, alphabet: str) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


TRICKY = {
    "emoji-cjk-marks": ("Family: 👨\u200d👩\u200d👧\u200d👦 and flags 🇫🇷🇯🇵. 日本語の文章です。次の文！ "
                        "Cafe\u0301 na\u0308ive Z\u0351\u0352a\u0353l\u0354g\u0355o. 🏳️\u200d🌈 👍🏽\n") * 40,
    "crlf": ("# Title\r\n\r\nFirst line of a paragraph.\r\nSecond line. Third sentence!\r\n\r\n"
             "- item one\r\n- item two\r\n\r\n") * 30,
    "line-200kB-no-spaces": _rand(1, 200_000, "abcdefghijklmnopqrstuvwxyz0123456789_-.,;:/日本語é"),
    "only-whitespace": " \n\t \r\n  \u3000\n\n",
    "heading-only": "# Just a heading\n",
    "unterminated-fence": "Intro text.\n\n```python\ndef f(x):\n    return x * 2\n\n\nprint(f(3))\n" * 20,
    "huge-word": "Before the word. " + "supercalifragilistic" * 4000 + " After the word.\n",
    "cjk-no-spaces": _rand(2, 30_000, "日本語中文字漢字한국어가나다🙂"),
    "blank-lines-and-indent": "\n\n\n   indented start\n\n\n\n\t\ttabbed\n \n \n/slash line\n" * 30,
}
DOCS = {p.name: p for p in CORPUS} | TRICKY


def _text(doc: str) -> str:
    src = DOCS[doc]
    return src.read_bytes().decode("utf-8") if isinstance(src, Path) else src


def check_chunks(chunker, text: str, chunks: list[Chunk]) -> None:
    """Assert the contract for ``chunks`` of ``text``."""
    tok = chunker.tokenizer
    if not text.strip():
        assert chunks == []
        return
    assert chunks, "non-blank text gave no chunks"
    covered = np.zeros(len(text) + 1, dtype=np.int64)
    previous = None
    for c in chunks:
        assert isinstance(c, Chunk)
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text, f"not a verbatim slice at {c.start}:{c.end}"
        assert c.text.strip(), f"whitespace-only chunk at {c.start}:{c.end}"
        assert c.tokens == tok.count(c.text), f"count {c.tokens} != {tok.count(c.text)} at {c.start}:{c.end}"
        assert c.tokens <= chunker.max_tokens
        if previous is not None:
            assert (c.start, c.end) > (previous.start, previous.end), "chunks out of order or repeated"
        previous = c
        covered[c.start] += 1
        covered[c.end] -= 1
    inside = np.cumsum(covered)[:-1] > 0
    missed = [i for i in np.nonzero(~inside)[0] if not text[i].isspace()]
    assert not missed, f"{len(missed)} non-whitespace characters in no chunk, first at {missed[0]}"


@pytest.mark.parametrize("doc", sorted(DOCS))
@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_contract(strategy: str, limit: int, doc: str) -> None:
    chunker = make_chunker(strategy, max_tokens=limit)
    text = _text(doc)
    chunks = chunker.chunk(text, source=doc)
    check_chunks(chunker, text, chunks)
    assert all(c.source == doc for c in chunks)
    assert chunker.chunk(text, source=doc) == chunks, "not deterministic"


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("doc", ["api-errors.md", "crlf", "emoji-cjk-marks", "huge-word"])
def test_contract_with_overlap(strategy: str, doc: str) -> None:
    if doc.endswith(".md") and doc not in DOCS:
        pytest.skip("corpus file missing")
    chunker = make_chunker(strategy, max_tokens=64, overlap=3)
    text = _text(doc)
    check_chunks(chunker, text, chunker.chunk(text))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_empty_and_whitespace(strategy: str) -> None:
    chunker = make_chunker(strategy, max_tokens=32)
    for text in ("", " ", "\n\n", "\t \r\n"):
        assert chunker.chunk(text) == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_config_round_trip(strategy: str) -> None:
    chunker = make_chunker(strategy, max_tokens=100, overlap=2)
    assert make_chunker(**chunker.model_dump()) == chunker
    assert chunker.model_dump()["strategy"] == strategy


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_megabytes_on_one_line_are_linear(strategy: str) -> None:
    words = " ".join(_rand(i, 7, "abcdefghijklmnop") for i in range(150_000))  # ~1.2 MB, no sentence ends
    text = words + " " + _rand(9, 1_000_000, "abcdefghijklmnopqrstuvwxyz0123456789")  # + 1 MB without spaces
    chunker = make_chunker(strategy, max_tokens=256)
    t0 = time.perf_counter()
    chunks = chunker.chunk(text)
    assert time.perf_counter() - t0 < 60
    check_chunks(chunker, text, chunks)


_LINEAR = [s for s in ("token", "recursive", "sentence") if s in STRATEGIES]


@pytest.mark.parametrize("strategy", _LINEAR)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(min_size=0, max_size=400), limit=st.integers(8, 40))
def test_property_any_text(strategy: str, text: str, limit: int) -> None:
    chunker = make_chunker(strategy, max_tokens=limit)
    check_chunks(chunker, text, chunker.chunk(text))


@settings(max_examples=300, deadline=None)
@given(left=st.text(max_size=30), right=st.text(max_size=30))
def test_stable_boundaries_add_up(left: str, right: str) -> None:
    """Where ``stable_boundary`` says so, token counts of the two sides add up to the whole."""
    tok = tokenizer_for("local/x")
    assert exact_sums(tok)
    for text, pos in ((left + "\n" + right, len(left) + 1), (left + " " + right, len(left))):
        if stable_boundary(text, pos):
            assert tok.count(text) == tok.count(text[:pos]) + tok.count(text[pos:]), (text, pos)


def test_token_chunker_never_cuts_inside_a_character() -> None:
    text = _rand(3, 5_000, "日本語🙂é\u0301a")
    chunker = make_chunker("token", max_tokens=9, overlap=2)
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    assert all("\ufffd" not in c.text for c in chunks)


@pytest.mark.parametrize("model", ["openai/gpt-4o", "openai/text-davinci-003"])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_contract_other_encodings(strategy: str, model: str, request) -> None:
    """o200k_base, and p50k_base whose pre-tokenizer does not keep counts additive across line starts."""
    for doc in ("api-errors.md", "crlf", "emoji-cjk-marks", "blank-lines-and-indent", "huge-word"):
        chunker = make_chunker(strategy, max_tokens=48, overlap=2, model=model)
        text = _text(doc)
        check_chunks(chunker, text, chunker.chunk(text))
