"""Estimate a run's cost before running it, and refuse runs above a budget.

    est = estimate_run_cost([render(sample) for sample in evalset], "medium", expected_output_tokens=150)
    check_budget(est, budget_usd=2.0)        # BudgetExceededError when the estimate is over the cap

Prompt tokens are counted with the real model's tokenizer (``tokenizer_for(model).count_messages``, offline),
output tokens are assumed, and both are priced like ``complete()`` prices them (litellm's map, registered prices,
or ``price_overrides``). A tier is priced as its real model even when its offline stand-in would answer.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import BudgetExceededError, UsageError
from ..models.tiers import TierSet
from .items import PriceOverride, fmt_usd, resolve_price

DEFAULT_OUTPUT_TOKENS = 256
"""Assumed output tokens per call for a model id that is not a tier (a tier's ``max_tokens`` is used instead)."""


def _resolve_target(model_or_tier: str, tiers: TierSet | None) -> tuple[str | None, str, int | None]:
    """(tier name or None, real model id, the tier's max_tokens)."""
    from ..models.client import current_tiers

    tiers = tiers or current_tiers()
    if model_or_tier in tiers.tiers:
        tier = tiers.get(model_or_tier)
        return tier.name, tier.model, tier.params.get("max_tokens")
    if "/" not in model_or_tier:
        raise UsageError(f"{model_or_tier!r} is neither a tier nor a provider/model id",
                         hint=f"known tiers: {', '.join(tiers.names())}; or e.g. openai/gpt-4o-mini")
    return None, model_or_tier, None


def _output_tokens(expected: int | Sequence[int] | None, calls: int, max_tokens: int | None) -> list[int]:
    if expected is None:
        return [int(max_tokens or DEFAULT_OUTPUT_TOKENS)] * calls
    if isinstance(expected, int):
        return [expected] * calls
    out = [int(x) for x in expected]
    if len(out) != calls:
        raise UsageError(f"expected_output_tokens has {len(out)} values for {calls} calls")
    return out


def estimate_run_cost(messages_per_call: Sequence[Sequence[Mapping[str, Any]] | str], model_or_tier: str,
                      expected_output_tokens: int | Sequence[int] | None = None, *,
                      price_overrides: Mapping[str, PriceOverride] | None = None,
                      tiers: TierSet | None = None) -> dict[str, Any]:
    """Tokens and USD of a run of calls, before making them.

    ``messages_per_call``: one chat message list (or plain string) per call. ``expected_output_tokens``: per call
    (an int, or one per call); default the tier's ``max_tokens`` (a ceiling, right for a budget cap), else 256.
    Returns ``{"model", "tier", "calls", "input_tokens", "output_tokens", "input_cost_usd", "output_cost_usd",
    "cost_usd", "cost_basis", "price_source", "tokenizer", "tokenizer_exact"}``; ``cost_usd`` is ``None`` and
    ``cost_basis`` is ``unpriced`` when the model has no known price (never $0), and 0 with basis ``offline``
    for a ``local/*`` model.
    """
    from ..models.client import as_messages
    from ..models.tokens import tokenizer_for

    tier, model, max_tokens = _resolve_target(model_or_tier, tiers)
    tokenizer = tokenizer_for(model)
    input_tokens = sum(tokenizer.count_messages(as_messages(m if isinstance(m, str) else list(m)))
                       for m in messages_per_call)
    output_tokens = sum(_output_tokens(expected_output_tokens, len(messages_per_call), max_tokens))
    result: dict[str, Any] = {"model": model, "tier": tier, "calls": len(messages_per_call),
                              "input_tokens": input_tokens, "output_tokens": output_tokens,
                              "tokenizer": tokenizer.encoding_name, "tokenizer_exact": tokenizer.exact}
    if model.startswith("local/"):
        return {**result, "input_cost_usd": 0.0, "output_cost_usd": 0.0, "cost_usd": 0.0,
                "cost_basis": "offline", "price_source": None}
    price = resolve_price(model, price_overrides)
    if price is None:
        return {**result, "input_cost_usd": None, "output_cost_usd": None, "cost_usd": None,
                "cost_basis": "unpriced", "price_source": None}
    cost_in, cost_out = price.input_cost(input_tokens), price.output_cost(output_tokens)
    return {**result, "input_cost_usd": cost_in, "output_cost_usd": cost_out, "cost_usd": cost_in + cost_out,
            "cost_basis": "estimate", "price_source": price.source}


def check_budget(estimate: Mapping[str, Any], budget_usd: float) -> None:
    """Raise ``BudgetExceededError`` when ``estimate["cost_usd"]`` is over ``budget_usd``.

    An unpriced estimate cannot be checked against a cap: that is a ``BudgetExceededError`` too (code
    ``budget_unverifiable``), since running it could cost anything.
    """
    cost = estimate.get("cost_usd")
    if cost is None:
        raise BudgetExceededError(f"cannot check the budget: {estimate.get('model')} is unpriced",
                                  code="budget_unverifiable",
                                  hint="register_price(model, input_per_1m=..., output_per_1m=...) or pass "
                                       "price_overrides, then estimate again")
    if cost > budget_usd:
        raise BudgetExceededError(
            f"estimated {fmt_usd(cost, 4)} for {estimate.get('calls')} calls to {estimate.get('model')} is over the "
            f"budget of {fmt_usd(budget_usd, 4)}",
            hint="raise the cap, run fewer samples or variants, or use a cheaper tier")
