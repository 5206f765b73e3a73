"""``CacheConfig``: how a pipeline variant caches answers, the same in an experiment and in production."""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from .base import Frozen

DEFAULT_EMBEDDER = "minilm"
CALIBRATED_THRESHOLDS = {"minilm": 0.55, "wordllama": 0.65, "hashing": 0.7}
"""Each embedder's semantic-cache threshold, chosen by ``benchmarks/embedders.py`` on the tune part of the
hand-written paraphrases and near misses (the lowest with no wrong answer at it and one grid step below): a
``CacheConfig`` that names an embedder and no threshold gets its embedder's."""
PROVIDER_PREFIX = "litellm:"
"""``embedder: "litellm:<model>"`` names a provider's embedding model through litellm (e.g.
``litellm:openai/text-embedding-3-small``); it has no calibrated threshold, so the config must give one.
``models.embedders.embedder_named`` builds it (the same value there: this module does not import numpy)."""


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
    embedder: str = Field(
        DEFAULT_EMBEDDER, json_schema_extra={"pattern": r"^(minilm|wordllama|hashing|litellm:\S.*)$"},
        description="semantic cache: the embedder (a threshold means something only for its embedder; minilm: "
                    "all-MiniLM-L6-v2 in numpy, wordllama: static word vectors, hashing: lexical, "
                    "litellm:<model>: a provider's embedding model, with a threshold measured by "
                    "benchmarks/embedders.py --litellm <model>)")
    ttl_seconds: int | None = Field(7 * 24 * 3600, ge=1, description="how long a cached answer may be served "
                                                                     "(None: no limit)")

    @field_validator("embedder")
    @classmethod
    def _known_embedder(cls, value: str) -> str:
        if value in CALIBRATED_THRESHOLDS or (value.startswith(PROVIDER_PREFIX) and value[len(PROVIDER_PREFIX):].strip()):
            return value
        raise ValueError(f"unknown embedder {value!r}: use one of {', '.join(CALIBRATED_THRESHOLDS)} or "
                         f"{PROVIDER_PREFIX}<litellm model id>, e.g. {PROVIDER_PREFIX}openai/text-embedding-3-small")

    @model_validator(mode="before")
    @classmethod
    def _calibrated_threshold(cls, data: Any) -> Any:
        """No threshold given: the one calibrated for the embedder (a threshold means something only for it); a
        provider's embedder has none, so a semantic cache on one must give its own."""
        if isinstance(data, dict) and data.get("similarity_threshold") is None and "embedder" in data:
            embedder = str(data["embedder"])
            if embedder.startswith(PROVIDER_PREFIX):
                if data.get("semantic"):
                    raise ValueError(f"embedder {embedder!r} has no calibrated threshold: give similarity_threshold, "
                                     f"measured with python benchmarks/embedders.py --litellm "
                                     f"{embedder[len(PROVIDER_PREFIX):]}")
                return data
            calibrated = CALIBRATED_THRESHOLDS.get(embedder, CALIBRATED_THRESHOLDS[DEFAULT_EMBEDDER])
            data = {**data, "similarity_threshold": calibrated}
        return data
