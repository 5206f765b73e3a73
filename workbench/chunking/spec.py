"""The typed chunker spec: a union of every strategy, discriminated by ``strategy``, parsed once.

A config holds the chunker itself (``ContextConfig.chunking``), so it is validated once, has one default per field
(the strategy class's), and is rebuilt by nobody::

    make_chunker("structure", max_tokens=256)              # a StructureChunker
    TypeAdapter(ChunkerSpec).validate_python({"strategy": "token", "max_tokens": 128})
"""
from __future__ import annotations

import functools
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from ..errors import ConfigError
from .base import ChunkerConfig
from .conversation import ConversationChunker
from .recursive import RecursiveChunker
from .semantic import SemanticChunker
from .sentence import SentenceChunker
from .structure import StructureChunker
from .token import TokenChunker

STRATEGIES: tuple[type[ChunkerConfig], ...] = (TokenChunker, RecursiveChunker, SentenceChunker, StructureChunker,
                                               SemanticChunker, ConversationChunker)
ChunkerSpec = Annotated[TokenChunker | RecursiveChunker | SentenceChunker | StructureChunker | SemanticChunker
                        | ConversationChunker, Field(discriminator="strategy")]
"""Any chunker, told apart by its ``strategy`` field."""


def registry() -> dict[str, type[ChunkerConfig]]:
    """Strategy name -> class."""
    return {cls.model_fields["strategy"].default: cls for cls in STRATEGIES}


@functools.cache
def _adapter() -> TypeAdapter:
    return TypeAdapter(ChunkerSpec)


def make_chunker(strategy: str, **params: Any) -> ChunkerConfig:
    """Build a chunker by strategy name; bad names or parameters are ``ConfigError``s naming the field."""
    if strategy not in registry():
        raise ConfigError(f"unknown chunking strategy {strategy!r}", hint=f"one of: {', '.join(registry())}")
    try:
        return _adapter().validate_python({**params, "strategy": strategy})
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"][1:]) or "?"
        raise ConfigError(f"chunker {strategy!r}: field {loc}: {err['msg']}") from None
