"""``CacheConfig``: how a pipeline variant caches answers, the same in an experiment and in production."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Frozen


class CacheConfig(Frozen):
    """Response caching of one variant: exact (the same request again) and semantic (a similar question, above a
    similarity threshold). The ``Pipeline`` applies it, so an experiment and the runner cache the same way."""

    exact: bool = Field(True, description="answer a repeated request (same model, endpoint, messages, settings) "
                                          "from the response cache")
    semantic: bool = Field(False, description="answer a question similar enough to one already answered, in the "
                                              "same scope (this variant and the same documents)")
    similarity_threshold: float = Field(0.7, gt=0.0, le=1.0, description="semantic cache: the cosine a "
                                                                         "question must reach (0.7: chosen for "
                                                                         "the wordllama embedder by "
                                                                         "benchmarks/embedders.py)")
    embedder: Literal["wordllama", "hashing", "minilm"] = Field(
        "wordllama", description="semantic cache: the embedder (a threshold means something only for its embedder; "
                                 "minilm needs the embeddings extra)")
    ttl_seconds: int | None = Field(7 * 24 * 3600, ge=1, description="how long a cached answer may be served "
                                                                     "(None: no limit)")
