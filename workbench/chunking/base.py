"""The ``Chunk`` record, the ``Chunker`` protocol and what every strategy shares.

Every chunk is a verbatim slice of its source: ``source_text[chunk.start:chunk.end] == chunk.text``, offsets in
code points of the text as given (no newline translation). Its ``tokens`` are counted with the target model's
tokenizer and never exceed the chunker's ``max_tokens``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..models.tokens import Tokenizer, tokenizer_for

DEFAULT_TOKENIZER_MODEL = "local/extractive"
"""Counted with cl100k_base: the tokenizer of a chunker with no ``model`` outside a pipeline."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """A verbatim slice of a document, sized in tokens."""

    text: str
    """The slice itself: ``source[start:end]``."""
    start: int
    """Start offset in code points of the source text."""
    end: int
    """End offset (exclusive) in code points of the source text."""
    tokens: int
    """Token count of ``text`` with the chunker's tokenizer."""
    section: tuple[str, ...] = ()
    """Titles of the headings this chunk sits under, outermost first (structure-aware chunkers)."""
    source: str | None = None
    """Where the text came from (a path or document id), when known."""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    """Strategy-specific extras (e.g. the speakers of a conversation window)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON line of ``workbench chunk``: source, start, end, text, tokens, section."""
        return {"source": self.source, "start": self.start, "end": self.end, "text": self.text,
                "tokens": self.tokens, "section": list(self.section)}


@runtime_checkable
class Chunker(Protocol):
    """Splits a text into chunks of at most ``max_tokens`` tokens."""

    max_tokens: int

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]:
        """The chunks of ``text`` in order, each a verbatim slice of it; ``source`` is recorded on every chunk."""


class ChunkerConfig(BaseModel):
    """Base of every strategy: a frozen component whose dump is its config (``strategy`` names it, and tells the
    strategies apart in a config: ``workbench.chunking.spec.ChunkerSpec``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strategy: str
    max_tokens: int = Field(512, ge=8, description="hard limit on a chunk's tokens")
    overlap: int = Field(0, ge=0, description="tokens (or turns/sentences, per strategy) carried over")
    model: str | None = Field(None, description="the model whose tokenizer counts tokens; None: in a pipeline, "
                                                "the tier's model, on its own cl100k_base")

    @model_validator(mode="after")
    def _overlap_below_limit(self):
        if self.overlap >= self.max_tokens:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than max_tokens ({self.max_tokens})")
        return self

    @property
    def tokenizer(self) -> Tokenizer:
        """The tokenizer of ``model`` (cl100k_base when no model is set)."""
        return tokenizer_for(self.model or DEFAULT_TOKENIZER_MODEL)

    def make(self, text: str, start: int, end: int, tokens: int | None = None, section: tuple[str, ...] = (),
             source: str | None = None, **meta: Any) -> Chunk:
        """The chunk ``text[start:end]``, its tokens counted unless given."""
        piece = text[start:end]
        return Chunk(piece, start, end, self.tokenizer.count(piece) if tokens is None else tokens, section,
                     source, meta)
