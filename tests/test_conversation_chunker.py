"""The conversation chunker: both transcript formats, whole turns, overlap, oversized turns, bad JSONL."""
from __future__ import annotations

import itertools
import json

import pytest
from test_chunkers import check_chunks

from workbench.chunking import make_chunker
from workbench.chunking.conversation import parse_text_turns
from workbench.errors import DataError
from workbench.models.tokens import tokenizer_for

TURNS = [("Alice", "Hi, I was charged twice for invoice INV-1042."),
         ("Bob", "Sorry about that. Let me check the payment records."),
         ("Alice", "Thanks. It happened on March 3rd."),
         ("Bob", "I see two captures. I will refund the second one today."),
         ("Alice", "Great, how long does the refund take?"),
         ("Bob", "Usually five to seven business days.")] * 4


def _text_transcript() -> str:
    return "".join(f"{s}: {t}\n" for s, t in TURNS)


def _jsonl_transcript() -> str:
    return "".join(json.dumps({"speaker": s, "text": t}) + "\n" for s, t in TURNS)


def _turn_lines(text: str) -> set[str]:
    return {line for line in text.splitlines() if line.strip()}


@pytest.mark.parametrize("make_text", [_text_transcript, _jsonl_transcript])
def test_windows_hold_whole_turns(make_text) -> None:
    text = make_text()
    chunker = make_chunker("conversation", max_tokens=60)
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    lines = _turn_lines(text)
    assert len(chunks) > 2
    for c in chunks:
        assert all(line in lines for line in c.text.splitlines()), "a turn was split"
        assert c.meta["speakers"] and set(c.meta["speakers"]) <= {"Alice", "Bob"}


def test_text_format_continuation_lines_stay_with_their_turn() -> None:
    text = "Alice: first line\nsecond line of Alice\n\nBob: reply\n  indented more\nAlice: bye"
    turns = parse_text_turns(text)
    assert [t.speaker for t in turns] == ["Alice", "Bob", "Alice"]
    assert text[turns[0].start:turns[0].end] == "Alice: first line\nsecond line of Alice\n"
    chunks = make_chunker("conversation", max_tokens=12).chunk(text)
    assert chunks[0].text == "Alice: first line\nsecond line of Alice"
    assert chunks[0].meta["speakers"] == ["Alice"]


def test_overlap_carries_previous_turns() -> None:
    text = _text_transcript()
    chunker = make_chunker("conversation", max_tokens=80, overlap=1)
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    for a, b in itertools.pairwise(chunks):
        last_turn = a.text.splitlines()[-1]
        assert b.text.startswith(last_turn), "the previous window's last turn should open the next one"
        assert b.start > a.start and b.end > a.end


def test_window_always_advances_when_overlap_cannot_fit() -> None:
    turns = [("A", "word " * 20), ("B", "word " * 20), ("C", "word " * 20)] * 3
    text = "".join(f"{s}: {t.strip()}\n" for s, t in turns)
    chunker = make_chunker("conversation", max_tokens=30, overlap=5)  # one turn per window: nothing fits beside it
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    assert len(chunks) == len(turns)
    assert [c.start for c in chunks] == sorted({c.start for c in chunks})


def test_a_turn_over_the_limit_is_split_at_sentence_ends() -> None:
    long = " ".join(f"Sentence number {i} talks about refunds." for i in range(30))
    text = f"Alice: Hello.\nBob: {long}\nAlice: Thanks."
    tok = tokenizer_for("local/extractive")
    chunker = make_chunker("conversation", max_tokens=40)
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    bob = [c for c in chunks if c.meta["speakers"] == ["Bob"]]
    assert len(bob) > 2 and tok.count(f"Bob: {long}") > 40
    assert all(c.text.endswith(".") for c in bob), "split parts should end at sentence ends"


def test_jsonl_turn_over_the_limit_is_split_too() -> None:
    text = json.dumps({"speaker": "Bob", "text": "Refunds take days. " * 40}) + "\n"
    chunker = make_chunker("conversation", max_tokens=32)
    check_chunks(chunker, text, chunker.chunk(text))


@pytest.mark.parametrize("bad, line", [
    ('{"speaker": "A", "text": "hi"}\n{"speaker": "B", "text": \n', 2),
    ('{"speaker": "A", "text": "hi"}\n\n["not", "an", "object"]\n', 3),
    ('{"speaker": "A", "text": "hi"}\n{"speaker": "B"}\n', 2),
    ('{"speaker": 3, "text": "hi"}\n', 1),
])
def test_malformed_jsonl_is_a_data_error_naming_the_line(bad: str, line: int) -> None:
    with pytest.raises(DataError) as info:
        make_chunker("conversation", max_tokens=64).chunk(bad, source="t.jsonl")
    assert info.value.line == line and f"t.jsonl:{line}" in str(info.value)


def test_crlf_transcript() -> None:
    text = _text_transcript().replace("\n", "\r\n")
    chunker = make_chunker("conversation", max_tokens=50, overlap=2)
    chunks = chunker.chunk(text)
    check_chunks(chunker, text, chunks)
    assert all(c.meta["speakers"] for c in chunks)
