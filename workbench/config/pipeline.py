"""⑦ ``PipelineConfig``: everything that decides what the pipeline does, in one frozen, hashed record.

An experiment variant *is* a ``PipelineConfig``; the exported production config wraps the chosen one with its
evidence; the runner builds the same ``Pipeline`` from it. The prompt is embedded with its text and pinned by
its content hash, and the tiers it uses are embedded too, so the config does not depend on files that may
change after it was evaluated.

    cfg = PipelineConfig.build("grounded_qa", version=2, tier="medium", chunking={"strategy": "structure"})
    cfg.hash, cfg.label, cfg.variant(tier="small")
"""
from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from .._util.yamlfiles import field_error
from ..chunking.spec import ChunkerSpec
from ..chunking.structure import StructureChunker
from ..errors import ConfigError
from ..hashing import content_hash
from ..inputs.policy import InputPolicy
from ..models.tiers import ChainLink, Tier, TierSet
from ..prompts import PromptTemplate
from .base import Frozen
from .cache import CacheConfig

SCHEMA_VERSION = 1


class ContextConfig(Frozen):
    """How documents become context: the chunker (a typed component, told apart by ``strategy``) and how chunks
    are selected within the token budget."""

    chunking: ChunkerSpec = Field(default_factory=StructureChunker, description="the chunker; its tokenizer is "
                                  "the routed tier's model unless it names one")
    selection: Literal["bm25", "first"] = Field("bm25", description="rank chunks by BM25 against the question, "
                                                "or keep document order")
    top_k: int = Field(4, ge=1, description="at most this many chunks")
    max_context_tokens: int = Field(1500, ge=16, description="at most this many context tokens")


class RoutingRule(Frozen):
    """Send inputs matching every given condition to ``tier`` (the first matching rule wins)."""

    tier: str
    language: list[str] | None = None
    length: list[str] | None = None
    content_type: list[str] | None = None
    flagged: bool | None = None
    max_question_chars: int | None = None

    def matches(self, classes: dict[str, Any], flagged: bool, question_chars: int) -> bool:
        """True when the input's classes, flag and question length meet every condition this rule sets."""
        checks = [(self.language, classes.get("language")), (self.length, classes.get("length")),
                  (self.content_type, classes.get("content_type"))]
        if any(allowed is not None and value not in allowed for allowed, value in checks):
            return False
        if self.flagged is not None and self.flagged != flagged:
            return False
        return self.max_question_chars is None or question_chars <= self.max_question_chars


class OutputValidation(Frozen):
    """What a valid answer looks like; an invalid one is re-asked ``retries`` times, then fails."""

    json_schema: dict[str, Any] | None = None
    non_empty: bool = True
    max_chars: int = Field(4000, ge=1)
    retries: int = Field(1, ge=0)


class PipelineConfig(Frozen):
    """One pipeline: input policy → context → prompt → model (routing, fallbacks) → output validation."""

    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = "pipeline"
    input_policy: InputPolicy = Field(default_factory=InputPolicy)
    context: ContextConfig = Field(default_factory=ContextConfig)
    prompt: PromptTemplate
    prompt_hash: str
    tier_prompts: dict[str, PromptTemplate] = Field(default_factory=dict, description="tier -> the prompt version "
                                                    "pinned for it, when not `prompt` (a fallback tier's own)")
    tier: str = "medium"
    tiers: dict[str, Tier]
    routing: list[RoutingRule] = Field(default_factory=list)
    fallbacks: list[str] | None = Field(None, description="tier names; None = the tier's own fallbacks")
    retries: int = Field(2, ge=0)
    params: dict[str, Any] = Field(default_factory=dict, description="call settings over the tier's params")
    output: OutputValidation = Field(default_factory=OutputValidation)
    cache: CacheConfig = Field(default_factory=CacheConfig)

    @model_validator(mode="after")
    def _consistent(self):
        if self.prompt.hash != self.prompt_hash:
            raise ValueError(f"prompt_hash {self.prompt_hash} does not match the embedded prompt "
                             f"({self.prompt.hash}): the prompt text was edited")
        needed = {self.tier, *(r.tier for r in self.routing), *(self.fallbacks or []), *self.tier_prompts}
        missing = sorted(needed - set(self.tiers))
        if missing:
            raise ValueError(f"tier(s) {', '.join(missing)} are used but not embedded in 'tiers'")
        return self

    @functools.cached_property
    def hash(self) -> str:
        """Content hash of the whole config (computed once: the config is frozen)."""
        return content_hash(self.model_dump(mode="json"))

    @property
    def label(self) -> str:
        """A short human name: ``grounded_qa@v2 · medium · structure/256``."""
        ch = self.context.chunking
        return f"{self.prompt.ref} · {self.tier} · {ch.strategy}/{ch.max_tokens}"

    def tier_set(self) -> TierSet:
        """The embedded tiers as a ``TierSet``."""
        return TierSet(tiers=self.tiers, source=f"config {self.name}")

    def prompt_for(self, tier: str | None) -> PromptTemplate:
        """The prompt version pinned for ``tier`` (``tier_prompts``), else ``prompt``; each model renders its
        own section of it (``PromptTemplate.sections_for``)."""
        return self.tier_prompts.get(tier, self.prompt) if tier else self.prompt

    def entry_tiers(self) -> list[str]:
        """The tiers an input is routed to first: the config's tier and the routing rules' (each once, in order);
        each starts its own ``fallback_chain``."""
        return list(dict.fromkeys([self.tier, *(r.tier for r in self.routing)]))

    def fallback_chain(self, tier: str) -> tuple[ChainLink, ...]:
        """``tier`` and what is tried after it fails, in order: this config's ``fallbacks`` when set, else the
        tier's own (tier names or model ids), without repeats. Computed here only; the model layer builds it."""
        return self.tier_set().chain(tier, self.fallbacks)

    @classmethod
    def build(cls, prompt: str | PromptTemplate = "grounded_qa", *, version: int | None = None,
              tier: str = "medium", tiers: TierSet | None = None, chunking: dict[str, Any] | Any = None,
              **fields: Any) -> PipelineConfig:
        """A config from a prompt id (or template) and tier names; the tiers it needs are embedded. ``chunking``
        (a chunker or its dump) replaces the context's chunker; ``tier_prompts`` pins another prompt version for a
        tier (``{"small": 3}``: version 3 of the same prompt; or ``"other_prompt@2"``, or a ``PromptTemplate``)."""
        from ..models.client import current_tiers
        from ..prompts import load_prompt

        template = prompt if isinstance(prompt, PromptTemplate) else load_prompt(prompt, version)
        tiers = tiers or current_tiers()
        if chunking is not None:
            context = fields.get("context") or {}
            context = context if isinstance(context, dict) else context.model_dump()
            fields["context"] = {**context, "chunking": chunking}
        if fields.get("tier_prompts"):
            fields["tier_prompts"] = {t: _pinned(p, template.id) for t, p in fields["tier_prompts"].items()}
        wanted = {tier, *(r["tier"] if isinstance(r, dict) else r.tier for r in fields.get("routing", []))}
        wanted |= set(fields.get("fallbacks") or [])
        for name in list(wanted):
            wanted |= set(tiers.get(name).fallbacks) & set(tiers.tiers)
        try:
            return cls(prompt=template, prompt_hash=template.hash, tier=tier,
                       tiers={n: tiers.get(n) for n in sorted(wanted)}, **fields)
        except ValidationError as e:
            raise ConfigError(f"invalid pipeline config: {field_error(e)}") from None

    def variant(self, *, prompt: str | PromptTemplate | None = None, version: int | None = None,
                tiers: TierSet | None = None, **changes: Any) -> PipelineConfig:
        """A copy with some fields changed (re-validated; tiers and prompt re-embedded as needed)."""
        data = self.model_dump()
        data.pop("prompt"), data.pop("prompt_hash"), data.pop("tiers"), data.pop("schema_version")
        data.update(changes)
        template = self.prompt if prompt is None and version is None else None
        if template is None:
            from ..prompts import load_prompt

            template = prompt if isinstance(prompt, PromptTemplate) else \
                load_prompt(prompt or self.prompt.id, version)
        if tiers is None:
            merged = dict(self.tiers)
            if any(t not in merged for t in _tiers_named(data)):
                from ..models.client import current_tiers

                merged = {**current_tiers().tiers, **merged}
            tiers = TierSet(tiers=merged)
        return PipelineConfig.build(template, tiers=tiers, **data)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of a pipeline config (for editors and validation of hand-written files)."""
        return cls.model_json_schema()


def _pinned(spec: Any, default_id: str) -> Any:
    """A tier's prompt pin: a version of the same prompt, ``"id@vN"``, a template or its dump."""
    from ..prompts import load_prompt

    if isinstance(spec, (PromptTemplate, dict)):
        return spec
    if isinstance(spec, int):
        return load_prompt(default_id, spec)
    prompt_id, _, version = str(spec).partition("@")
    return load_prompt(prompt_id, int(version.lstrip("v")) if version else None)


def _tiers_named(data: dict[str, Any]) -> set[str]:
    rules = [r if isinstance(r, dict) else r.model_dump() for r in data.get("routing") or []]
    return {data["tier"], *(r["tier"] for r in rules), *(data.get("fallbacks") or []), *(data.get("tier_prompts") or {})}


