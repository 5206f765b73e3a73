"""⑥ Cost per item and cost at production volume.

    from workbench.costs import item_costs, Scenario, project, sensitivity, compare_scenarios, what_if_ladder
    ics = item_costs(records)                                   # measured usage -> {tier: ItemCost}
    base = Scenario(items_per_day=50_000, mix={"small": 0.6, "large": 0.4}, cache_hit_rate=0.2)
    project(base, ics).monthly_usd                              # + per tier, + the cost basis label
    sensitivity(base, ics, vary={"batch_share": [0, 0.5, 1]})  # one-at-a-time table; plot_sensitivity(table)
    compare_scenarios(what_if_ladder(50_000, largest="large", mix=base.mix, cache_hit_rate=0.2), ics)
    routing_tradeoff({"all large": recs_a, "routed": recs_b})   # quality vs cost per item of a routing policy
    check_budget(estimate_run_cost(messages, "medium"), budget_usd=5)

Numbers built on offline stand-ins are labelled ``simulated``; unpriced models are reported as unpriced, never
$0. Nothing heavy is imported here: pandas and matplotlib load when a table or plot is asked for.
"""
from .._util.lazy import lazy_exports

_EXPORTS = {
    "ItemCost": ".items", "ItemCosts": ".items", "item_costs": ".items", "item_cost": ".items",
    "resolve_price": ".items", "price_from_override": ".items", "basis_label": ".items",
    "SIMULATED_LABEL": ".items",
    "Scenario": ".projection", "Projection": ".projection", "TierProjection": ".projection",
    "project": ".projection", "sensitivity": ".projection", "compare_scenarios": ".projection",
    "what_if_ladder": ".projection", "cost_per_item": ".projection", "DEFAULT_BATCH_DISCOUNT": ".projection",
    "routing_tradeoff": ".routing", "RoutingTradeoff": ".routing", "PolicyResult": ".routing",
    "estimate_run_cost": ".estimate", "check_budget": ".estimate",
    "plot_projection": ".plots", "plot_sensitivity": ".plots",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
