"""Plain records of the model layer: what a call used, cost and returned."""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

Message = dict[str, Any]
"""A chat message as litellm and OpenAI take it: ``{"role": ..., "content": ...}``."""

CostBasis = Literal["provider", "simulated", "offline", "unpriced"]
"""How the answer's cost is known (for a cache hit: how it was known when the answer was made):

- ``provider``: a real model answered; priced from its token counts and its price (the tier's configured price, a
  registered one, or litellm's price map);
- ``simulated``: an offline stand-in answered for a real model (offline mode); priced as that real model, with real
  token counts;
- ``offline``: a ``local/*`` model answered on its own account; it runs on this machine and costs nothing;
- ``unpriced``: no price is known for the model; ``cost_usd`` is ``None``, never a silent 0.

A cache hit keeps its basis and says ``cached=True``: ``cost_usd`` is 0 and ``saved_usd`` what the answer cost.
"""


class ChainMessages(list):
    """The messages of a request to a fallback chain: the first model's (this list itself) and, rendered on demand,
    each fallback's own (``for_link(i)``), so a fallback model gets the prompt version pinned for it, never the
    primary's. ``FallbackModel`` reads it; any other model sees a plain list of messages."""

    def __init__(self, first: list[Message], render: Any = None):
        """``render(i)``: the messages for the chain's ``i``-th model (None: every model gets ``first``)."""
        super().__init__(first)
        self._render = render

    def for_link(self, index: int) -> list[Message]:
        """The messages for the chain's ``index``-th model."""
        if index == 0 or self._render is None:
            return list(self)
        return self._render(index)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call."""

    input_tokens: int = 0
    """Tokens in the prompt (all messages), cached ones included."""
    output_tokens: int = 0
    """Tokens the model generated."""
    cached_input_tokens: int = 0
    """Prompt tokens served from the provider's prompt cache (billed at the cached-input price)."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's prompt cache (billed at the cache-write price: Anthropic's is 1.25x
    the input price)."""

    @property
    def total_tokens(self) -> int:
        """Prompt plus generated tokens."""
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at a model: the successful one, or one that failed and was retried or fallen back from."""

    model: str
    """The model id that was called."""
    ok: bool
    """Whether this try produced the answer."""
    latency_ms: float
    """Wall time of the try."""
    error_code: str | None = None
    """The ``WorkbenchError.code`` of a failed try."""
    error: str | None = None
    """The error message of a failed try."""


@dataclass(frozen=True, slots=True)
class Completion:
    """What a model call returned, with what it used and cost."""

    text: str
    """The reply text ("" when the model answered only with tool calls)."""
    model: str
    """The model id that answered (``local/...`` for an offline stand-in)."""
    usage: Usage = field(default_factory=Usage)
    """Token counts."""
    cost_usd: float | None = None
    """Cost in USD; ``None`` only when ``cost_basis == "unpriced"``."""
    cost_basis: CostBasis = "unpriced"
    """How the cost was obtained; see ``CostBasis``."""
    latency_ms: float = 0.0
    """Wall time of the whole call, retries and fallbacks included."""
    priced_as: str | None = None
    """The model whose price was used (the real model for a stand-in)."""
    tier: str | None = None
    """The tier name the call was made through, if any."""
    data: Any = None
    """The parsed structured output when a JSON response format was asked for and the reply parsed."""
    tool_calls: list[dict[str, Any]] | None = None
    """Tool calls, as ``[{"id", "name", "arguments"}]``, when the model made any."""
    finish_reason: str | None = None
    """Why generation stopped (``stop``, ``length``, ``tool_calls``...)."""
    cached: bool = False
    """True when the answer came from the response cache: nothing was paid for it now."""
    saved_usd: float | None = None
    """For a cache hit, what the answer cost when it was made (``None`` when that was unpriced, or not a hit)."""
    attempts: tuple[Attempt, ...] = ()
    """Every try, in order; the last one is the one that answered."""

    @property
    def answered_by(self) -> str:
        """The model that produced the text (``local/...`` when an offline stand-in answered)."""
        return self.model

    @property
    def answer_cost_usd(self) -> float | None:
        """What the answer costs without any cache: ``cost_usd``, or what a cache hit saved (None when unpriced)."""
        return self.saved_usd if self.cached else self.cost_usd

    def as_cache_hit(self, latency_ms: float) -> Completion:
        """This completion served again from a cache: nothing paid now, ``saved_usd`` what it cost."""
        return dataclasses.replace(self, cached=True, attempts=(), latency_ms=latency_ms, cost_usd=0.0,
                                   saved_usd=self.answer_cost_usd)

    def replace(self, **changes: Any) -> Completion:
        """A copy with ``changes`` applied (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict(self)``, without its generic recursion (this runs once per cached call)."""
        d = {f.name: getattr(self, f.name) for f in _COMPLETION_FIELDS}
        d["usage"] = {f.name: getattr(self.usage, f.name) for f in _USAGE_FIELDS}
        d["attempts"] = tuple({f.name: getattr(a, f.name) for f in _ATTEMPT_FIELDS} for a in self.attempts)
        if self.data is not None or self.tool_calls is not None:
            d["data"], d["tool_calls"] = copy.deepcopy(self.data), copy.deepcopy(self.tool_calls)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Completion:
        """The inverse of ``to_dict`` (usage and attempts rebuilt)."""
        d = dict(d)
        d["usage"] = Usage(**d.get("usage") or {})
        d["attempts"] = tuple(Attempt(**a) for a in d.get("attempts") or ())
        return cls(**d)

    def _repr_html_(self) -> str:
        import html
        cost = "unpriced" if self.cost_usd is None else f"${self.cost_usd:.6f} ({self.cost_basis})"
        return (f"<div><b>{html.escape(self.model)}</b> · {self.usage.input_tokens}→{self.usage.output_tokens} tokens"
                f" · {cost} · {self.latency_ms:.0f} ms{' · cached' if self.cached else ''}"
                f"<pre style='white-space:pre-wrap'>{html.escape(self.text)}</pre></div>")


_COMPLETION_FIELDS = dataclasses.fields(Completion)
_USAGE_FIELDS = dataclasses.fields(Usage)
_ATTEMPT_FIELDS = dataclasses.fields(Attempt)
