"""The ``Chunk`` record, the ``Chunker`` protocol and what every strategy shares.

Every chunk is a verbatim slice of its source: ``source_text[chunk.start:chunk.end] == chunk.text``, offsets in
code points of the text as given (no newline translation). Its ``tokens`` are counted with the target model's
tokenizer and never exceed the chunker's ``max_tokens``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError
from ..models.tokens import Tokenizer, tokenizer_for


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

    def chunk(self, text: str, *, source: str | None = None) -> list[Chunk]: ...


class ChunkerConfig(BaseModel):
    """Base of every strategy: a frozen component whose dump is its config (``kind`` names the strategy)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str] = ""
    max_tokens: int = Field(512, ge=8, description="hard limit on a chunk's tokens")
    overlap: int = Field(0, ge=0, description="tokens (or turns/sentences, per strategy) carried over")
    model: str = Field("local/extractive", description="the model whose tokenizer counts tokens")

    @model_validator(mode="after")
    def _overlap_below_limit(self):
        if self.overlap >= self.max_tokens:
            raise ValueError(f"overlap ({self.overlap}) must be smaller than max_tokens ({self.max_tokens})")
        return self

    @property
    def tokenizer(self) -> Tokenizer:
        return tokenizer_for(self.model)

    def dump(self) -> dict[str, Any]:
        """``{"strategy": kind, **params}``: what ``make_chunker(**dump)`` rebuilds."""
        return {"strategy": self.kind, **self.model_dump()}

    def make(self, text: str, start: int, end: int, tokens: int | None = None, section: tuple[str, ...] = (),
             source: str | None = None, **meta: Any) -> Chunk:
        piece = text[start:end]
        return Chunk(piece, start, end, self.tokenizer.count(piece) if tokens is None else tokens, section,
                     source, meta)


_STRATEGY_MODULES = {"token": "TokenChunker", "recursive": "RecursiveChunker", "sentence": "SentenceChunker",
                     "structure": "StructureChunker", "semantic": "SemanticChunker",
                     "conversation": "ConversationChunker"}


def registry() -> dict[str, type[ChunkerConfig]]:
    """Strategy name -> class, for the CLI and configs (a strategy whose module is not there yet is left out)."""
    import importlib

    found: dict[str, type[ChunkerConfig]] = {}
    for module, cls in _STRATEGY_MODULES.items():
        name = f"{__package__}.{module}"
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:  # a missing dependency is a real error; only the module itself may be absent
                raise
            continue
        found[getattr(mod, cls).kind] = getattr(mod, cls)
    return found


def make_chunker(strategy: str, **params: Any) -> ChunkerConfig:
    """Build a chunker by strategy name; bad names or parameters are ``ConfigError``s naming the field."""
    from pydantic import ValidationError

    classes = registry()
    if strategy not in classes:
        raise ConfigError(f"unknown chunking strategy {strategy!r}", hint=f"one of: {', '.join(classes)}")
    try:
        return classes[strategy](**params)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"chunker {strategy!r}: field {'.'.join(map(str, err['loc'])) or '?'}: {err['msg']}") \
            from None
