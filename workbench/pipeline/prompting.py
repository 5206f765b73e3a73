"""③ for the pipeline: which input fields the pinned prompts need, and each model's own messages.

Every variable a pinned prompt declares (but the computed ``context``) is an input field: it must be present with
its declared type, or the input is rejected with ``missing_field`` / ``wrong_type`` before any model call, and its
value reaches the template. In a fallback chain every model renders the prompt version the config pins for its
tier (``PipelineConfig.prompt_for``), for its own model (``PromptTemplate.sections_for``): never the primary's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.pipeline import PipelineConfig
from ..models.records import ChainMessages
from ..prompts import VARIABLE_TYPES, PromptTemplate, Variable
from .records import Prepared


@dataclass(frozen=True)
class InputField:
    """An input field a pinned prompt declares."""

    variable: Variable
    """Its declaration: type and whether it is required."""
    prompt: str
    """The first prompt that declares it (``grounded_qa@v2``), for messages."""


def declared_fields(config: PipelineConfig) -> dict[str, InputField]:
    """The input fields the pinned prompts declare (every variable but the computed ``context``)."""
    fields: dict[str, InputField] = {}
    for prompt in (config.prompt, *config.tier_prompts.values()):
        for name, var in prompt.variables.items():
            if name != "context" and name not in fields:
                fields[name] = InputField(var, prompt.ref)
    return fields


def is_type(value: Any, kind: str) -> bool:
    """Whether ``value`` is of a prompt variable's type (a bool is not a number)."""
    return isinstance(value, VARIABLE_TYPES[kind]) and not (kind in ("number", "integer") and isinstance(value, bool))


def fields_problem(fields: dict[str, InputField], inputs: dict[str, Any]) -> dict[str, str] | None:
    """The first declared field that is missing or of the wrong type, as ``{"code": "missing_field" |
    "wrong_type", "message"}``; None when they are all fine."""
    for name, field in fields.items():
        var = field.variable
        if inputs.get(name) is None:
            if var.required:
                return {"code": "missing_field", "message": f"the input has no {name!r}, which the prompt "
                                                            f"{field.prompt} requires ({var.type})"}
            continue
        if not is_type(inputs[name], var.type):
            return {"code": "wrong_type", "message": f"{name!r} should be {var.type} for the prompt {field.prompt}, "
                                                     f"got {type(inputs[name]).__name__}"}
    return None


def render(prompt: PromptTemplate, values: dict[str, Any], model: str) -> list[dict[str, Any]]:
    """``prompt`` rendered for ``model`` with the variables it declares."""
    return prompt.render({k: v for k, v in values.items() if k in prompt.variables}, model=model)


def chain_messages(config: PipelineConfig, prepared: Prepared) -> list[dict[str, Any]]:
    """The messages of a request to the routed tier's chain: the first model's, and each fallback's own prompt
    version rendered for its own model when it is reached."""
    links = config.fallback_chain(prepared.tier)
    if len(links) == 1:
        return prepared.messages

    def render_link(i: int) -> list[dict[str, Any]]:
        link = links[i]
        return render(config.prompt_for(link.tier.name if link.tier else prepared.tier), prepared.values, link.model)

    return ChainMessages(prepared.messages, render_link)
