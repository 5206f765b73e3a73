"""② Chunking: split documents into verbatim, token-bounded chunks; measure boundary and retrieval quality.

    from workbench.chunking import make_chunker
    chunks = make_chunker("structure", max_tokens=512).chunk(markdown_text, source="doc.md")

Strategies (one module each): ``token``, ``recursive``, ``sentence``, ``structure``, ``semantic``,
``conversation``.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "Chunk": ".base", "Chunker": ".base", "ChunkerConfig": ".base", "make_chunker": ".spec", "registry": ".spec",
    "ChunkerSpec": ".spec",
    "compare_quality": ".compare", "compare_retrieval": ".compare", "chunk_sizes": ".compare",
    "RetrievalOptions": ".compare",
    "chunk_quality": ".quality", "Query": ".retrieval", "retrieval_quality": ".retrieval",
    "TokenChunker": ".token", "RecursiveChunker": ".recursive", "SentenceChunker": ".sentence",
    "StructureChunker": ".structure", "SemanticChunker": ".semantic", "ConversationChunker": ".conversation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
