import pytest

from workbench.chunking.base import Chunk
from workbench.chunking.retrieval import Query, relevant, retrieval_quality
from workbench.models.embedders import HashingEmbedder

DOCS = {
    "refunds.md": "Refunds are available within 30 days of the charge. Credit expires after 12 months.",
    "api.md": "The API allows 600 requests per minute per key. Pagination uses cursors.",
    "sso.md": "SSO supports SAML 2.0 and OIDC on the Scale plan and above.",
}


def chunks_of(size: int) -> list[Chunk]:
    out = []
    for source, text in DOCS.items():
        for start in range(0, len(text), size):
            piece = text[start:start + size]
            out.append(Chunk(piece, start, start + len(piece), len(piece.split()), (), source))
    return out


QUERIES = [Query("How many days do customers have to get a refund?", "refunds.md", "30 days"),
           Query("What is the API rate limit per key?", "api.md", "600 requests per minute"),
           Query("Which SSO protocols are supported?", "sso.md", "SAML 2.0 and OIDC")]


@pytest.mark.parametrize("method", ["bm25", "embedding"])
def test_whole_document_chunks_are_found(method):
    chunks = [Chunk(t, 0, len(t), 10, (), s) for s, t in DOCS.items()]
    report = retrieval_quality(chunks, DOCS, QUERIES, ks=(1, 3), method=method, embedder=HashingEmbedder())
    assert report.recall[3] == 1.0 and report.recall[1] >= 2 / 3
    assert 0 < report.mrr <= 1 and report.unanswerable == 0
    assert set(report.to_dict()) >= {"recall@1", "recall@3", "mrr"}


def test_a_chunking_that_cuts_the_answer_makes_it_unanswerable():
    tiny = chunks_of(5)
    assert not relevant(tiny, DOCS, QUERIES[0])
    report = retrieval_quality(tiny, DOCS, QUERIES, method="bm25")
    assert report.unanswerable == 3 and report.mrr == 0.0 and report.recall[5] == 0.0


def test_relevance_uses_offsets_and_source():
    chunks = [Chunk(DOCS["api.md"], 0, len(DOCS["api.md"]), 1, (), "other.md")]
    assert relevant(chunks, DOCS, QUERIES[1]) == set()


def test_empty_inputs():
    assert retrieval_quality([], DOCS, QUERIES).mrr == 0.0


def test_select_context_keeps_document_order_and_ranks_only_when_something_must_go():
    from workbench.chunking.select import select_context

    texts = ["Opening hours are nine to five.", "Refunds take 5 to 10 business days.", "Refunds need a receipt."]
    chunks = [Chunk(t, 0, len(t), 10, (), "d.md") for t in texts]
    assert select_context("How long do refunds take?", chunks, max_tokens=30, top_k=3) == chunks  # all fit
    assert select_context("How long do refunds take?", chunks, max_tokens=30, top_k=1) == [chunks[1]]
    assert select_context("How long do refunds take?", chunks, max_tokens=20, top_k=3) == chunks[1:]
