"""``CacheConfig``: how a pipeline variant caches answers, the same in an experiment and in production."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import Frozen

DEFAULT_EMBEDDER = "minilm"
CALIBRATED_THRESHOLDS = {"minilm": 0.55, "wordllama": 0.65, "hashing": 0.7}
"""Each embedder's semantic-cache threshold, chosen by ``benchmarks/embedders.py`` on the tune part of the
hand-written paraphrases and near misses (the lowest with no wrong answer at it and one grid step below): a
``CacheConfig`` that names an embedder and no threshold gets its embedder's."""


class CacheConfig(Frozen):
    """Response caching of one variant: exact (the same request again) and semantic (a similar question, above a
    similarity threshold). The ``Pipeline`` applies it, so an experiment and the runner cache the same way."""

    exact: bool = Field(True, description="answer a repeated request (same model, endpoint, messages, settings) "
                                          "from the response cache")
    semantic: bool = Field(False, description="answer a question similar enough to one already answered, in the "
                                              "same scope (this variant and the same documents)")
    similarity_threshold: float = Field(
        CALIBRATED_THRESHOLDS[DEFAULT_EMBEDDER], gt=0.0, le=1.0,
        description="semantic cache: the cosine a question must reach (left out: the embedder's calibrated one, 0.55 "
                    "for minilm; benchmarks/embedders.py)")
    embedder: Literal["minilm", "wordllama", "hashing"] = Field(
        DEFAULT_EMBEDDER,
        description="semantic cache: the embedder (a threshold means something only for its embedder; minilm: "
                    "all-MiniLM-L6-v2 in numpy, wordllama: static word vectors, hashing: lexical)")
    ttl_seconds: int | None = Field(7 * 24 * 3600, ge=1, description="how long a cached answer may be served "
                                                                     "(None: no limit)")

    @model_validator(mode="before")
    @classmethod
    def _calibrated_threshold(cls, data: Any) -> Any:
        """No threshold given: the one calibrated for the embedder (a threshold means something only for it)."""
        if isinstance(data, dict) and data.get("similarity_threshold") is None and "embedder" in data:
            calibrated = CALIBRATED_THRESHOLDS.get(data["embedder"], CALIBRATED_THRESHOLDS[DEFAULT_EMBEDDER])
            data = {**data, "similarity_threshold": calibrated}
        return data
