"""The exported production config: the chosen pipeline(s) (each with its own cache settings), how traffic is split,
degraded and escalated, the gate thresholds, and the evidence that chose it — with a ``config_hash`` over
everything else.

Loading checks the schema and the hash: a hand-edited or tampered file is refused with a message that says how to
re-export. No secrets and no deployment settings live here: keys, database, queue and webhook URLs come from flags
or the environment (``--db`` / ``WORKBENCH_DB_URL``, ``--queue`` / ``WORKBENCH_QUEUE_URL``).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from .._util.secrets import check_no_secrets
from ..errors import ConfigError, ConfigTamperedError, UsageError
from ..hashing import bucket, canonical_json, content_hash
from .base import Frozen
from .pipeline import PipelineConfig
from .signing import signature_of, signing_key, verify

SCHEMA_VERSION = 3
"""2: caching moved into each variant (``PipelineConfig.cache``); an escalation rule nothing read was dropped."""


class TrafficSplit(Frozen):
    """Weights per variant; an input is assigned by hashing ``sticky_key`` (the same key -> the same variant).
    One mechanism for A/B tests and gradual rollouts (e.g. ``{"current": 0.9, "candidate": 0.1}``).

    A key is hashed with SHA-256 to a point in [0, 1) and compared with the cumulative weights of the variants (in
    sorted name order, weights normalised to sum 1)::

        TrafficSplit(weights={"current": 0.9, "candidate": 0.1}).assign("user-42")  # -> "current" (always)
    """

    weights: dict[str, float]
    sticky_key: str = Field("id", description="input field whose value pins the assignment")

    @model_validator(mode="after")
    def _valid(self):
        if not self.weights or any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ValueError("split weights must be non-negative and not all zero")
        return self

    def assign(self, key: str) -> str:
        """The variant for ``key``: deterministic, proportional to the weights."""
        names = sorted(name for name, weight in self.weights.items() if weight > 0)
        if len(names) == 1:  # one variant takes all traffic: no hash to compute
            return names[0]
        total = sum(self.weights[name] for name in names)
        point, edge = bucket(key) * total, 0.0
        for name in names:
            edge += self.weights[name]
            if point < edge:
                return name
        return names[-1]  # floating-point edge: the point equals the total

    def key_of(self, inputs: Any) -> str:
        """The key an input is assigned by: its ``sticky_key`` field, else a hash of the whole input."""
        if isinstance(inputs, dict):
            value = inputs.get(self.sticky_key)
            if value is not None and value != "":
                return value if isinstance(value, str) else canonical_json(value)
        try:
            return content_hash(inputs)
        except (TypeError, ValueError):
            return repr(inputs)

    def assign_input(self, inputs: Any) -> str:
        """The variant for a whole input (by its sticky key)."""
        return self.assign(self.key_of(inputs))


class DegradationPolicy(Frozen):
    """What happens when the pipeline cannot answer normally (all models failed, provider down)."""

    offline_fallback: bool = Field(True, description="answer with the rule-based offline tier as a last resort")
    offline_model: str = "local/extractive"
    queue_for_later: bool = Field(True, description="with a queue configured, re-queue the item for a later retry")
    partial_result: bool = Field(True, description="return the selected context when no answer can be made")


class EscalationRules(Frozen):
    """When a human should look: the item goes to the escalation table (``workbench escalations``)."""

    rejected_codes: list[str] = Field(default_factory=lambda: ["injection_suspected"],
                                      description="input codes that escalate instead of a silent rejection")
    on_invalid_output: bool = Field(True, description="output failing its schema/validation after retries")
    on_failure: bool = Field(True, description="no model could answer (after degradation)")


class GateThresholds(Frozen):
    """What the eval set must reach for this config to ship (``workbench gate``)."""

    min_pass_rate: float = Field(0.5, ge=0, le=1)
    min_pass_rate_by_category: dict[str, float] = Field(default_factory=dict)
    max_cost_per_item_usd: float | None = Field(None, ge=0)
    max_error_rate: float = Field(0.05, ge=0, le=1)
    judge_min_kappa: float = Field(0.6, ge=0, le=1, description="an LLM judge criterion is only trusted in the "
                                   "gate when the lower end of its kappa's 95% interval against human labels "
                                   "reaches this")
    pass_rate_bound: Literal["lower", "point"] = Field(
        "lower", description="what must clear the pass-rate bars: the lower end of the 95% Wilson interval "
                             "(lower, the default: the bar holds for sure, not by luck of the draw) or the point "
                             "estimate")
    max_unmeasured_share: float = Field(0.05, ge=0, le=1, description="the largest share of cells that may be "
                                        "unmeasured (a scorer could not decide) for the gate to pass")


class LoggingSettings(Frozen):
    """What the log store keeps: every request's metadata; raw text only for a sample, PII redacted."""

    capture_rate: float = Field(0.1, ge=0, le=1, description="share of requests whose raw input/output is kept")
    redact_pii: bool = True
    retention_days: int = Field(30, ge=1)


class Provenance(Frozen):
    """Who answered a variant's evidence cells, and how their costs are known."""

    answered_by: dict[str, int] = Field(default_factory=dict, description="model that produced the text -> cells")
    cost_bases: dict[str, int] = Field(default_factory=dict, description="cost basis -> cells")

    @property
    def on_stand_ins(self) -> bool:
        """True when offline stand-ins (``local/*`` heuristics) answered some of the cells for real models."""
        return any(m.startswith("local/") for m in self.answered_by) and "simulated" in self.cost_bases


class Evidence(Frozen):
    """Why this config: the experiment and eval set it was chosen on, its scores with intervals, who answered, and
    any check an override lifted."""

    experiment: str
    evalset_name: str
    evalset_hash: str
    variant: str
    scores: dict[str, dict[str, float | int | None]] = Field(default_factory=dict,
                                                            description="metric -> {value, ci_low, ci_high, n}")
    provenance: dict[str, Provenance] = Field(default_factory=dict, description="variant -> who answered its "
                                              "evidence cells and how their costs are known")
    override_reason: str | None = Field(None, description="why the export went ahead despite the checks in "
                                                          "`overridden`")
    overridden: list[str] = Field(default_factory=list, description="checks the override lifted: thresholds, "
                                  "unevaluated_fallback_prompts, stand_in_evidence")


class ProductionConfig(Frozen):
    """Everything the runner needs, hashed. ``variants[name]`` are full ``PipelineConfig``s (caching included)."""

    schema_version: Literal[3] = SCHEMA_VERSION
    name: str
    variants: dict[str, PipelineConfig]
    split: TrafficSplit
    degradation: DegradationPolicy = Field(default_factory=DegradationPolicy)
    escalation: EscalationRules = Field(default_factory=EscalationRules)
    gate: GateThresholds = Field(default_factory=GateThresholds)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    evidence: Evidence
    created_at: str | None = None
    config_hash: str = ""
    signature: str | None = None
    """``hmac-sha256:...`` over ``config_hash`` when exported with ``WORKBENCH_SIGNING_KEY`` set (not hashed)."""

    @model_validator(mode="after")
    def _variant_names_fit_the_log(self):
        long = [name for name in self.variants if not 0 < len(name) <= 128]
        if long:
            raise ValueError(f"variant names must be 1 to 128 characters (the log store's column; Postgres refuses "
                             f"a longer one and every row is lost): {', '.join(repr(n[:40]) for n in long)}")
        return self

    @model_validator(mode="after")
    def _split_names_variants(self):
        unknown = sorted(set(self.split.weights) - set(self.variants))
        if unknown:
            raise ValueError(f"split names unknown variant(s) {', '.join(unknown)}")
        return self

    def stand_in_evidence(self) -> list[str]:
        """Variants whose evidence offline stand-ins answered and whose tiers name real models: outside offline
        mode, their thresholds were measured on heuristics (``check_stand_in_evidence`` decides what that means)."""
        return [name for name, cfg in self.variants.items()
                if self.evidence.provenance.get(name, Provenance()).on_stand_ins
                and any(not t.model.startswith("local/") for t in cfg.tiers.values())]

    def check_stand_in_evidence(self, allowed: bool = False) -> list[str]:
        """Notes on evidence measured on offline stand-ins, for a runner or a gate about to use this config:
        ``UsageError`` (code ``stand_in_evidence``, exit 2) when real models would answer now and neither the
        export nor ``allowed`` (``--allow-stand-in-evidence``) accepted it."""
        from ..models.credentials import offline_mode

        ev = self.evidence
        if offline_mode():  # the stand-ins answer now too: like is compared with like
            return []
        if "stand_in_evidence" in ev.overridden:
            return [f"override recorded at export: the thresholds were measured on offline stand-ins "
                    f"({ev.override_reason})"]
        variants = self.stand_in_evidence()
        if not variants:
            return []
        if not allowed:
            raise UsageError(f"{self.name}: the evidence of {', '.join(variants)} was measured on offline stand-ins "
                             "(heuristics), and real models would answer now: its thresholds say nothing about them",
                             code="stand_in_evidence",
                             hint="re-run the experiment with real models and re-export, run in offline mode "
                                  "(--offline), or pass --allow-stand-in-evidence to go ahead anyway (recorded)")
        return [f"override (--allow-stand-in-evidence): real models answer a config whose thresholds were measured "
                f"on offline stand-ins ({', '.join(variants)})"]

    def computed_hash(self) -> str:
        """The content hash of everything except ``config_hash`` itself."""
        return content_hash(self.model_dump(mode="json", exclude={"config_hash", "signature"}))

    def with_hash(self) -> ProductionConfig:
        """A copy whose ``config_hash`` is the hash of its content (what export writes), signed when
        ``WORKBENCH_SIGNING_KEY`` is set (``workbench.config.signing``)."""
        digest = self.computed_hash()
        key = signing_key()
        return self.model_copy(update={"config_hash": digest,
                                       "signature": signature_of(digest, key) if key is not None else None})

    def to_yaml(self) -> str:
        """The config as YAML, fields in declaration order (the exported file's content)."""
        import yaml

        data = self.model_dump(mode="json", exclude=None if self.signature else {"signature"})
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON schema of an exported production config."""
        return cls.model_json_schema()


def _key_variable_of(raw: dict[str, Any]) -> Callable[[tuple[str, ...]], str | None]:
    """For a field under ``variants.<v>.tiers.<t>``: the key variable of that tier's provider (``OPENAI_API_KEY``
    for ``openai/gpt-4o-mini``), for the message refusing a credential found there."""
    from ..models.credentials import PROVIDERS, provider_of

    def variable(path: tuple[str, ...]) -> str | None:
        if len(path) < 4 or path[0] != "variants" or path[2] != "tiers":
            return None
        variant = raw.get("variants", {}).get(path[1]) if isinstance(raw.get("variants"), dict) else None
        tiers = variant.get("tiers") if isinstance(variant, dict) else None
        tier = tiers.get(path[3]) if isinstance(tiers, dict) else None
        model = tier.get("model") if isinstance(tier, dict) else None
        spec = PROVIDERS.get(provider_of(model)) if isinstance(model, str) else None
        return " or ".join(spec.keys) if spec is not None and spec.keys else None

    return variable


def load_production_config(path: str | Path) -> ProductionConfig:
    """Load and verify an exported config: schema, then hash. Errors say what is wrong and how to re-export."""
    from .._util.yamlfiles import read_yaml

    path = Path(path)
    raw = read_yaml(path, "config")
    if isinstance(raw, dict):
        check_no_secrets(raw, f"the config {path}", variable=_key_variable_of(raw))
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: an exported pipeline config must be a mapping")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(f"{path}: schema_version {raw.get('schema_version')!r}, this workbench reads "
                          f"{SCHEMA_VERSION}", hint="re-export it with this version (notebook 05 or "
                                                    "workbench.release.export_config)")
    try:
        config = ProductionConfig(**raw)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"{path}: field {'.'.join(map(str, err['loc']))}: {err['msg']}",
                          hint="re-export it from notebook 05 (workbench.release.export_config)") from None
    if config.config_hash != config.computed_hash():
        raise ConfigTamperedError(
            f"{path}: config_hash {config.config_hash[:19]}… does not match the content "
            f"({config.computed_hash()[:19]}…): the file was edited after export",
            hint="do not edit exported configs by hand; change the variant and re-export it (notebook 05 or "
                 "workbench.release.export_config), or restore it with `workbench rollout`")
    verify(config.config_hash, config.signature, str(path))
    return config
