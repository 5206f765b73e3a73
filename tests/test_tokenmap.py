"""``TokenMap``: short documents are mapped with lists, long ones with numpy arrays; both give the same counts, and
the counts are those of encoding each piece alone where the cut is clean."""
from __future__ import annotations

import pytest

from workbench.chunking import tokenmap
from workbench.chunking.markup import parse
from workbench.chunking.structure import StructureChunker
from workbench.models.tokens import tokenizer_for

DOCS = [
    "# Refunds\n\nRefunds take 5 to 10 days.\n\n## Credit\n\nCredit expires after 12 months.\n",
    "Ünïcödé lines — with émojis 👩‍👩‍👧 and CJK 漢字\n\n  indented  line\n\tTab\n<|endoftext|> is plain text here\n",
    "x" * 5000 + "\n" + "word " * 3000,
]
"""(The chunkers never map an empty document: they return no chunk first.)"""


@pytest.mark.parametrize("doc", DOCS)
@pytest.mark.parametrize("model", ["openai/gpt-4o-mini", "local/extractive"])
def test_lists_and_arrays_give_the_same_map(monkeypatch, doc, model):
    tok = tokenizer_for(model)
    starts = parse(doc, "markdown").starts
    small = tokenmap.TokenMap(tok, doc, starts)
    monkeypatch.setattr(tokenmap, "_SMALL", -1)  # every document through the numpy path
    big = tokenmap.TokenMap(tok, doc, starts)
    assert small.cum == big.cum and small.aligned == big.aligned
    assert list(small.ends) == [int(x) for x in big.ends]
    assert list(small.byte_starts) == [int(x) for x in big.byte_starts]
    for line in range(len(starts) - 1):
        positions = list(range(starts[line], starts[line + 1]))
        assert small.at(line, positions) == big.at(line, positions)
        assert small.token_cuts(line, 0, 10**6) == big.token_cuts(line, 0, 10**6)


def test_special_token_text_is_counted_as_plain_text():
    tok = tokenizer_for("openai/gpt-4o-mini")
    doc = "before <|endoftext|> after\n"
    tmap = tokenmap.TokenMap(tok, doc, parse(doc, "markdown").starts)
    assert tmap.cum[-1] == tok.count(doc) == len(tok.encode(doc))


def test_clean_cuts_add_up_to_the_whole_on_both_paths(monkeypatch):
    doc = DOCS[0] * 40 + DOCS[1] * 10
    chunker = StructureChunker(max_tokens=64)
    small = chunker.chunk(doc)
    monkeypatch.setattr(tokenmap, "_SMALL", -1)
    assert [(c.start, c.end, c.tokens) for c in chunker.chunk(doc)] == [(c.start, c.end, c.tokens) for c in small]
    for c in small:
        assert c.tokens == chunker.tokenizer.count(c.text)
