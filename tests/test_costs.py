"""Cost per item, projection at volume, sensitivity, routing trade-off, run estimates and the sliders."""
import math
import subprocess
import sys

import pytest
from pydantic import ValidationError

from workbench.costs import (
    SIMULATED_LABEL,
    Scenario,
    check_budget,
    compare_scenarios,
    estimate_run_cost,
    item_cost,
    item_costs,
    plot_projection,
    plot_sensitivity,
    project,
    routing_tradeoff,
    sensitivity,
    what_if_ladder,
)
from workbench.errors import BudgetExceededError, UsageError
from workbench.models.pricing import Price, price_for
from workbench.models.records import Usage
from workbench.models.tokens import tokenizer_for

# USD per 1M tokens; no batch prices, so the default 50 % batch discount applies.
PRICES = {"acme/big": {"input": 2.0, "output": 8.0, "cached_input": 0.5},
          "acme/small": {"input": 0.1, "output": 0.4}}
BIG = 1000 * 2e-6 + 200 * 8e-6      # 0.0036 per item
SMALL = 1000 * 0.1e-6 + 200 * 0.4e-6  # 0.00018 per item


@pytest.fixture
def ics():
    return {"big": item_cost("big", "acme/big", 1000, 200, price_overrides=PRICES),
            "small": item_cost("small", "acme/small", 1000, 200, price_overrides=PRICES)}


def daily(scenario, costs):
    return project(scenario, costs).daily_usd


# --- projection arithmetic --------------------------------------------------------------------------------------

def test_mix_daily_and_monthly(ics):
    p = project(Scenario(items_per_day=1000, mix={"big": 0.25, "small": 0.75}), ics)
    assert ics["big"].cost_usd == pytest.approx(BIG) and ics["small"].cost_usd == pytest.approx(SMALL)
    assert p.daily_usd == pytest.approx(250 * BIG + 750 * SMALL) == pytest.approx(1.035)
    assert p.monthly_usd == pytest.approx(1.035 * 30)
    assert p.cost_per_item_usd == pytest.approx(1.035 / 1000)
    frame = p.to_pandas()
    assert frame.loc["big", "daily_usd"] == pytest.approx(0.9) and frame.loc["small", "items_per_day"] == 750
    assert Scenario(items_per_day=1000, mix={"big": 1.0}, days_per_month=31).replace(mix={"small": 1.0}).mix == {
        "small": 1.0}


def test_cache_hits_are_free_or_a_fraction(ics):
    s = Scenario(items_per_day=1000, mix={"big": 0.25, "small": 0.75}, cache_hit_rate=0.4)
    assert daily(s, ics) == pytest.approx(1.035 * 0.6)
    assert daily(s.replace(cache_hit_cost=0.5), ics) == pytest.approx(1.035 * 0.8)


def test_batch_discount_default_explicit_and_from_price(ics):
    s = Scenario(items_per_day=1000, mix={"big": 1.0}, batch_share=0.5)
    assert daily(s, ics) == pytest.approx(1000 * BIG * 0.75)          # no batch price: 50 % off
    assert daily(s.replace(batch_discount=0.2), ics) == pytest.approx(1000 * BIG * 0.9)
    with_batch = {"big": item_cost("big", "acme/big", 1000, 200, price_overrides={
        "acme/big": {"input": 2.0, "output": 8.0, "batch_input": 1.0, "batch_output": 2.0}})}
    full_batch = project(s.replace(batch_share=1.0), with_batch)
    assert full_batch.daily_usd == pytest.approx(1000 * (0.002 * 0.5 + 0.0016 * 0.25))
    assert full_batch.tiers[0].batch_discount == pytest.approx((0.5, 0.75))
    # litellm's own batch prices: gpt-4o-mini's batch API is half price
    mini = {"m": item_cost("m", "openai/gpt-4o-mini", 1000, 200)}
    sync = daily(Scenario(items_per_day=100, mix={"m": 1.0}), mini)
    assert daily(Scenario(items_per_day=100, mix={"m": 1.0}, batch_share=1.0), mini) == pytest.approx(sync / 2)


def test_prompt_shortening_and_cached_input(ics):
    s = Scenario(items_per_day=1000, mix={"big": 1.0})
    assert daily(s.replace(prompt_shortening=0.5), ics) == pytest.approx(1000 * (500 * 2e-6 + 0.0016))
    assert daily(s.replace(cached_input_share=0.5), ics) == pytest.approx(1000 * (500 * 2e-6 + 500 * 0.5e-6 + 0.0016))
    # no cached-input price: cached tokens bill at the full input price
    small = Scenario(items_per_day=1000, mix={"small": 1.0})
    assert daily(small.replace(cached_input_share=0.5), ics) == pytest.approx(1000 * SMALL)


def test_everything_at_once(ics):
    s = Scenario(items_per_day=2000, mix={"big": 0.5, "small": 0.5}, cache_hit_rate=0.1, batch_share=0.4,
                 prompt_shortening=0.2, cached_input_share=0.25, days_per_month=20)

    def per_item(pin, pcached, pout):
        inp = 800 * (0.75 * pin + 0.25 * pcached)
        sync = inp + 200 * pout
        return (0.6 * sync + 0.4 * 0.5 * sync) * 0.9

    expected = 1000 * per_item(2e-6, 0.5e-6, 8e-6) + 1000 * per_item(0.1e-6, 0.1e-6, 0.4e-6)
    p = project(s, ics)
    assert p.daily_usd == pytest.approx(expected) and p.monthly_usd == pytest.approx(expected * 20)


def test_shares_must_sum_to_one_and_be_valid():
    with pytest.raises(ValidationError, match="sum to 0.9"):
        Scenario(items_per_day=10, mix={"a": 0.5, "b": 0.4})
    with pytest.raises(ValidationError):
        Scenario(items_per_day=10, mix={"a": 1.5, "b": -0.5})
    with pytest.raises(ValidationError, match="empty"):
        Scenario(items_per_day=10, mix={})
    with pytest.raises(ValidationError):
        Scenario(items_per_day=10, mix={"a": 1.0}, cache_hit_rate=1.2)
    with pytest.raises(ValidationError):
        Scenario(items_per_day=10, mix={"a": 1.0}, surprise=1)
    assert Scenario(items_per_day=10, mix={"a": 0.1, "b": 0.2, "c": 0.7}).mix["c"] == 0.7
    s = Scenario(items_per_day=10, mix={"a": 1.0})
    with pytest.raises(ValidationError):
        s.items_per_day = 5  # frozen


def test_a_tier_without_item_cost_is_a_usage_error(ics):
    with pytest.raises(UsageError, match="nope"):
        project(Scenario(items_per_day=1, mix={"nope": 1.0}), ics)


# --- unpriced, simulated, free ----------------------------------------------------------------------------------

def test_unpriced_is_reported_unpriced_never_zero(ics):
    ics = {**ics, "mystery": item_cost("mystery", "acme/no-such-model", 1000, 200)}
    assert ics["mystery"].unpriced and ics["mystery"].cost_usd is None
    p = project(Scenario(items_per_day=1000, mix={"big": 0.5, "mystery": 0.5}), ics)
    assert p.daily_usd is None and p.monthly_usd is None and p.cost_per_item_usd is None
    assert p.unpriced == ("mystery",) and p.priced_daily_usd == pytest.approx(500 * BIG)
    assert "unpriced" in p.summary() and "$0.00 per month" not in p.summary()
    assert "unpriced" in p._repr_html_()
    table = sensitivity(Scenario(items_per_day=1000, mix={"big": 0.5, "mystery": 0.5}), ics,
                        vary={"batch_share": [0, 1]})
    assert table["monthly_usd"].isna().all()


def test_unpriced_records_stay_unpriced():
    recs = [{"sample_id": "a", "tier": "x", "model": "acme/mystery", "priced_as": "acme/mystery",
             "input_tokens": 100, "output_tokens": 10, "cost_usd": None, "cost_basis": "unpriced"}]
    ic = item_costs(recs)["x"]
    assert ic.unpriced and ic.cost_usd is None and ic.measured_cost_usd is None
    assert "unpriced" in item_costs(recs)._repr_html_()


def test_local_models_are_free_not_unpriced():
    recs = [{"tier": "heur", "model": "local/extractive", "input_tokens": 100, "output_tokens": 10,
             "cost_usd": 0.0, "cost_basis": "offline"}]
    ic = item_costs(recs)["heur"]
    assert ic.free and ic.cost_usd == 0.0 and ic.model is None
    assert project(Scenario(items_per_day=100, mix={"heur": 1.0}), {"heur": ic}).monthly_usd == 0.0


def _sim_records():
    return [{"sample_id": f"s{i}", "tier": tier, "model": stand_in, "priced_as": real,
             "input_tokens": 1000 + 10 * i, "output_tokens": 100, "cached_input_tokens": 0,
             "cost_usd": price_for(real).cost(Usage(1000 + 10 * i, 100)), "cost_basis": "simulated"}
            for tier, stand_in, real in (("small", "local/lead", "openai/gpt-4.1-nano"),
                                         ("large", "local/extractive", "openai/gpt-4.1"))
            for i in range(4)]


def test_simulated_basis_is_carried_and_labelled():
    ics = item_costs(_sim_records())
    assert {ic.cost_basis for ic in ics.values()} == {"simulated"}
    assert ics["large"].input_tokens == pytest.approx(1015) and ics["large"].n_items == 4
    assert ics["large"].cost_usd == pytest.approx(ics["large"].measured_cost_usd)
    p = project(Scenario(items_per_day=10_000, mix={"small": 0.7, "large": 0.3}), ics)
    assert p.simulated and SIMULATED_LABEL in p.basis and SIMULATED_LABEL in p.summary()
    assert SIMULATED_LABEL in p._repr_html_()
    assert compare_scenarios({"a": p.scenario}, ics).attrs["basis"] == p.basis
    assert SIMULATED_LABEL in ics._repr_html_() and ics.to_pandas().loc["small", "cost_basis"] == "simulated"


def test_completions_are_read_as_records():
    from workbench.models.records import Completion

    usage = Usage(1200, 80)
    recs = [Completion("30 days", "local/lead", usage, price_for("openai/gpt-4.1-nano").cost(usage), "simulated",
                       priced_as="openai/gpt-4.1-nano", tier="small"),
            Completion("30 days", "local/extractive", usage, price_for("openai/gpt-4.1").cost(usage), "simulated",
                       priced_as="openai/gpt-4.1", tier="large")]
    ics = item_costs(recs)
    assert ics["small"].cost_basis == "simulated" and ics["small"].model == "openai/gpt-4.1-nano"
    assert ics["large"].input_tokens == 1200 and ics["large"].cost_usd == pytest.approx(recs[1].cost_usd)


def test_records_of_one_sample_add_up_and_cache_hits_do_not_count_as_measured_cost():
    recs = [{"sample_id": "a", "tier": "m", "priced_as": "acme/big", "input_tokens": 100, "output_tokens": 10,
             "cost_usd": 1.0, "cost_basis": "provider"},
            {"sample_id": "a", "tier": "m", "priced_as": "acme/big", "input_tokens": 300, "output_tokens": 30,
             "cost_usd": 3.0, "cost_basis": "provider"},
            {"sample_id": "b", "tier": "m", "priced_as": "acme/big", "input_tokens": 200, "output_tokens": 20,
             "cost_usd": 0.0, "cost_basis": "provider", "cache": "exact"}]
    ic = item_costs(recs, price_overrides=PRICES)["m"]
    assert ic.n_items == 2 and ic.input_tokens == 300 and ic.output_tokens == 30
    assert ic.measured_cost_usd == pytest.approx(2.0) and ic.cost_basis == "provider"
    assert ic.bases == {"provider": 3}
    assert item_costs(recs, item_key=None, price_overrides=PRICES)["m"].n_items == 3


def test_records_as_a_dataframe():
    import pandas as pd

    frame = pd.DataFrame(_sim_records())
    assert item_costs(frame)["small"].n_items == 4


# --- overrides --------------------------------------------------------------------------------------------------

def test_price_overrides_win_and_are_validated():
    base = item_cost("m", "openai/gpt-4o-mini", 1000, 100)
    assert base.price.source == "litellm"
    over = item_cost("m", "openai/gpt-4o-mini", 1000, 100,
                     price_overrides={"gpt-4o-mini": {"input": 1.0, "output": 2.0}})  # bare name matches
    assert over.price.source == "override" and over.cost_usd == pytest.approx(1000e-6 + 200e-6)
    as_price = item_cost("m", "acme/x", 10, 0, price_overrides={"acme/x": Price(1e-3, 0.0, source="registered")})
    assert as_price.cost_usd == pytest.approx(0.01)
    with pytest.raises(UsageError, match="bad price override"):
        item_cost("m", "acme/x", 10, 0, price_overrides={"acme/x": {"input": 1.0, "outptu": 1.0}})
    with pytest.raises(UsageError, match="negative"):
        item_cost("m", "acme/x", 10, 0, price_overrides={"acme/x": {"input": -1.0, "output": 1.0}})
    recs = [{"tier": "t", "priced_as": "acme/x", "input_tokens": 10, "output_tokens": 0, "cost_basis": "unpriced",
             "cost_usd": None}]
    assert item_costs(recs, price_overrides={"acme/x": {"input": 1000, "output": 0}})["t"].cost_usd == pytest.approx(
        0.01)


# --- sensitivity and what-ifs -----------------------------------------------------------------------------------

def test_sensitivity_table_shape_and_values(ics):
    s = Scenario(items_per_day=1000, mix={"big": 1.0})
    table = sensitivity(s, ics, vary={"cache_hit_rate": [0.0, 0.5, 1.0], "batch_share": [0.0, 1.0]})
    assert list(table.columns) == ["parameter", "value", "monthly_usd", "delta_usd", "delta_pct"]
    assert table.shape == (5, 5)
    assert table.attrs["base_monthly_usd"] == pytest.approx(1000 * BIG * 30)
    row = table[(table.parameter == "cache_hit_rate") & (table.value == 0.5)].iloc[0]
    assert row.delta_pct == pytest.approx(-0.5) and row.monthly_usd == pytest.approx(1000 * BIG * 30 / 2)
    assert table[table.parameter == "cache_hit_rate"].iloc[0].delta_usd == pytest.approx(0)
    assert len(sensitivity(s, ics)) > 5  # the default grid
    with pytest.raises(UsageError, match="cannot vary"):
        sensitivity(s, ics, vary={"colour": [1]})


def test_what_if_ladder_and_compare(ics):
    ladder = what_if_ladder(1000, largest="big", mix={"big": 0.25, "small": 0.75}, cache_hit_rate=0.4,
                            batch_share=0.5, prompt_shortening=0.5)
    assert list(ladder) == ["all on big", "tiered routing", "+ cache hits 40%", "+ batch 50%", "+ prompt -50%"]
    table = compare_scenarios(ladder, ics)
    assert list(table.index) == list(ladder)
    monthly = table["monthly_usd"].tolist()
    assert monthly == sorted(monthly, reverse=True)
    assert monthly[0] == pytest.approx(1000 * BIG * 30) and monthly[1] == pytest.approx(1.035 * 30)
    assert table["vs_first_pct"].iloc[0] == 0 and table["monthly[small]"].iloc[0] == 0.0
    assert list(what_if_ladder(10, largest="big", mix={"big": 1.0})) == ["all on big"]


def test_plots_carry_the_basis_label():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ics = item_costs(_sim_records())
    s = Scenario(items_per_day=10_000, mix={"small": 0.7, "large": 0.3})
    assert SIMULATED_LABEL in plot_projection(project(s, ics)).get_title()
    ladder = what_if_ladder(10_000, largest="large", mix=s.mix, cache_hit_rate=0.3)
    assert SIMULATED_LABEL in plot_projection({k: project(v, ics) for k, v in ladder.items()}).get_title()
    assert SIMULATED_LABEL in plot_sensitivity(sensitivity(s, ics)).get_title()
    plt.close("all")


# --- routing trade-off ------------------------------------------------------------------------------------------

def test_routing_tradeoff_numbers():
    large = [{"sample_id": i, "tier": "large", "cost_usd": 0.01, "score": 1.0 if i < 9 else 0.0} for i in range(10)]
    routed = ([{"sample_id": i, "tier": "small", "cost_usd": 0.001, "score": 1.0 if i < 5 else 0.0}
               for i in range(6)]
              + [{"sample_id": i, "tier": "large", "cost_usd": 0.01, "score": 1.0} for i in range(6, 10)]
              + [{"sample_id": 5, "tier": "classifier", "cost_usd": 0.0005, "score": None},  # extra call, same item
                 {"sample_id": 99, "tier": "small", "cost_usd": 0.001, "score": 1.0}])  # not in the baseline
    t = routing_tradeoff({"all large": large, "routed": routed})
    assert t.baseline == "all large" and t.n_samples == 10 and t.dropped == {"all large": 0, "routed": 1}
    assert t["all large"].quality == pytest.approx(0.9) and t["routed"].quality == pytest.approx(0.9)
    assert t["all large"].cost_per_item_usd == pytest.approx(0.01)
    routed_cost = (6 * 0.001 + 0.0005 + 4 * 0.01) / 10
    assert t["routed"].cost_per_item_usd == pytest.approx(routed_cost)
    assert t.saving("routed") == pytest.approx(1 - routed_cost / 0.01) and t.quality_delta("routed") == 0
    assert t.mix("routed") == {"small": 0.5, "large": 0.4, "classifier": 0.1}
    frame = t.to_pandas()
    assert frame.loc["routed", "saving_usd_per_item"] == pytest.approx(0.01 - routed_cost)
    assert frame.loc["routed", "share[large]"] == pytest.approx(0.4)
    assert "routed" in t._repr_html_()


def test_routing_quality_change_is_paired_on_the_samples_both_scored():
    """Policy B's unscored items are its hard ones: its own mean looks better than A's, paired it is worse."""
    a = [{"sample_id": i, "tier": "large", "cost_usd": 0.01, "score": 1.0 if i < 70 else 0.0} for i in range(100)]
    b = [{"sample_id": i, "tier": "small", "cost_usd": 0.002,
          "score": None if i >= 70 else (0.0 if i < 10 else 1.0)} for i in range(100)]
    t = routing_tradeoff({"a": a, "b": b})
    assert t["b"].quality > t["a"].quality  # 60/60 scored vs 70/100: not comparable
    change = t.quality_change["b"]
    assert change.n_pairs == 70 and change.difference == pytest.approx(-10 / 70)
    assert change.ci_low < change.difference < change.ci_high < 0
    assert t.quality_delta("b") == pytest.approx(-10 / 70)
    cost = t.cost_change["b"]
    assert cost.difference == pytest.approx(-0.008) and cost.n_pairs == 100
    frame = t.to_pandas()
    assert frame.loc["b", "n_paired"] == 70 and frame.loc["b", "quality_delta_ci_high"] < 0


def test_routing_tradeoff_dataframes_unpriced_and_errors():
    import pandas as pd

    a = pd.DataFrame({"sample_id": [1, 2], "tier": ["large"] * 2, "cost_usd": [0.02, 0.02], "score": [1.0, 0.0]})
    b = pd.DataFrame({"sample_id": [1, 2], "tier": ["small", "large"], "cost_usd": [None, 0.02],
                      "score": [1.0, float("nan")]})
    t = routing_tradeoff({"a": a, "b": b})
    assert t["b"].cost_per_item_usd is None and t.saving("b") is None
    assert t["b"].quality == 1.0 and t["b"].n_unscored == 1
    with pytest.raises(UsageError):
        routing_tradeoff({"a": a})
    with pytest.raises(UsageError, match="share no sample_id"):
        routing_tradeoff({"a": a, "c": [{"sample_id": 7, "tier": "x", "cost_usd": 0, "score": 1}]})


# --- estimate before running ------------------------------------------------------------------------------------

def test_estimate_run_cost_matches_tokenizer_and_price():
    calls = [[{"role": "system", "content": "Answer from the context."},
              {"role": "user", "content": f"Question {i}: how long do refunds take? " * (i + 1)}] for i in range(5)]
    est = estimate_run_cost(calls, "openai/gpt-4o-mini", expected_output_tokens=100)
    tok, price = tokenizer_for("openai/gpt-4o-mini"), price_for("openai/gpt-4o-mini")
    tokens = sum(tok.count_messages(m) for m in calls)
    assert est["input_tokens"] == tokens and est["output_tokens"] == 500 and est["calls"] == 5
    assert est["cost_usd"] == pytest.approx(tokens * price.input + 500 * price.output)
    assert est["cost_basis"] == "estimate" and est["tokenizer_exact"]
    by_tier = estimate_run_cost(calls, "medium", expected_output_tokens=[10, 20, 30, 40, 50])
    assert by_tier["tier"] == "medium" and by_tier["model"] == "openai/gpt-4o-mini"
    assert by_tier["output_tokens"] == 150
    assert estimate_run_cost(calls, "medium")["output_tokens"] == 5 * 400  # the tier's max_tokens
    check_budget(est, budget_usd=1.0)
    with pytest.raises(BudgetExceededError, match="over the budget"):
        check_budget(est, budget_usd=est["cost_usd"] / 2)


def test_estimate_unpriced_free_and_bad_input():
    unpriced = estimate_run_cost(["hello"], "acme/no-such-model", expected_output_tokens=5)
    assert unpriced["cost_usd"] is None and unpriced["cost_basis"] == "unpriced"
    with pytest.raises(BudgetExceededError) as e:
        check_budget(unpriced, budget_usd=100)
    assert e.value.code == "budget_unverifiable"
    free = estimate_run_cost(["hello"], "local/extractive")
    assert free["cost_usd"] == 0.0 and free["cost_basis"] == "offline"
    overridden = estimate_run_cost(["hello"], "acme/no-such-model", expected_output_tokens=0,
                                   price_overrides={"acme/no-such-model": {"input": 1e6, "output": 0}})
    assert overridden["cost_usd"] == pytest.approx(overridden["input_tokens"])
    with pytest.raises(UsageError, match="neither a tier"):
        estimate_run_cost(["hi"], "no-such-tier")
    with pytest.raises(UsageError, match="2 values for 1 calls"):
        estimate_run_cost(["hi"], "medium", expected_output_tokens=[1, 2])


# --- widget and import boundaries -------------------------------------------------------------------------------

def test_projection_sliders_update_live(ics):
    from workbench.widgets.costs import projection_sliders, scenario_from

    base = Scenario(items_per_day=1000, mix={"big": 0.25, "small": 0.75})
    box = projection_sliders(ics, base)
    assert "$31.05" in box.view.value
    box.sliders["cache_hit_rate"].value = 0.5
    assert box.scenario().cache_hit_rate == 0.5 and "$15.53" in box.view.value
    box.sliders["tier:big"].value = 0.0
    assert box.scenario().mix == {"small": 1.0}
    s = scenario_from(base, 10, {"big": 1, "small": 3}, {})
    assert s.mix == {"big": 0.25, "small": 0.75} and s.items_per_day == 10
    assert scenario_from(base, 10, {"big": 0, "small": 0}, {}).mix == base.mix


def test_sliders_start_at_the_scenario_the_notebook_printed(ics):
    """Values the slider steps cannot hold (a 0.7364 share, 18.3 % shorter prompts) used to be rounded at once,
    so the first total shown disagreed with the projection printed just above it."""
    from workbench.widgets.costs import projection_sliders

    base = Scenario(items_per_day=1234, mix={"big": 0.2636, "small": 0.7364}, prompt_shortening=0.183,
                    cache_hit_rate=0.137)
    box = projection_sliders(ics, base)
    shown = project(base, ics).monthly_usd
    assert box.scenario() == base and f"${shown:,.2f}" in box.view.value
    box.sliders["batch_share"].value = 0.5
    assert box.scenario() != base and f"${shown:,.2f}" not in box.view.value


def test_the_browser_snapping_sliders_to_their_steps_is_not_a_move(ics):
    """JupyterLab draws each slider at the nearest step and sends that value back (50,000 items/day -> 50,118.7 on
    the old log grid, a 0.7364 share -> 0.74, 18.3 % -> 18 %): the total must stay the base scenario's, and a real
    move of one slider must change only its own parameter (found by tests/test_browser.py in chromium)."""
    from workbench.widgets.costs import projection_sliders

    base = Scenario(items_per_day=50_000, mix={"big": 0.2636, "small": 0.7364}, prompt_shortening=0.183,
                    cache_hit_rate=0.2)
    box = projection_sliders(ics, base)
    volume = box.sliders["items_per_day"]
    assert abs(math.log10(50_000) - volume.min) % volume.step == pytest.approx(0, abs=1e-9)  # 50,000 is on the grid
    shown = box.view.value
    box.sliders["tier:big"].value, box.sliders["tier:small"].value = 0.26, 0.74  # the browser's snap
    box.sliders["prompt_shortening"].value = 0.18
    volume.value = 10 ** (volume.min + round((math.log10(50_000) - volume.min) / volume.step) * volume.step)
    assert box.scenario() == base and box.view.value == shown
    box.sliders["cache_hit_rate"].value = 0.25  # five steps right, as a user does it
    assert box.scenario() == base.replace(cache_hit_rate=0.25)
    assert f"${project(base.replace(cache_hit_rate=0.25), ics).monthly_usd:,.2f}" in box.view.value


def test_costs_is_not_imported_by_workbench_and_is_light():
    code = ("import sys, workbench, workbench.models; assert 'workbench.costs' not in sys.modules; "
            "import workbench.costs; print(' '.join(m for m in ('pandas', 'matplotlib', 'litellm', 'ipywidgets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


# --- cache-write premiums ----------------------------------------------------------------------------------------

def test_cache_writes_are_priced_at_the_premium_litellm_knows():
    from workbench.models.pricing import _bundled_map

    table = _bundled_map()
    model = next(k for k, e in table.items() if isinstance(e, dict) and e.get("cache_creation_input_token_cost")
                 and e.get("input_cost_per_token"))
    price = price_for(model)
    assert price is not None and price.cache_write == pytest.approx(table[model]["cache_creation_input_token_cost"])
    assert price.cache_write > price.input  # a premium (Anthropic: 1.25x)
    plain = price.cost(Usage(1000, 100))
    written = price.cost(Usage(1000, 100, cache_write_tokens=800))
    assert written - plain == pytest.approx(800 * (price.cache_write - price.input))
    read = price.cost(Usage(1000, 100, cached_input_tokens=800))
    assert read < plain < written


def test_projection_prices_cache_writes_and_usage_reads_them_from_the_provider():
    from types import SimpleNamespace

    from workbench.models.litellm_model import _usage

    price = Price(3e-6, 15e-6, cached_input=0.3e-6, cache_write=3.75e-6)
    ic = item_cost("large", "m", 2000, 200, price_overrides={"m": price})
    base = Scenario(items_per_day=1000, mix={"large": 1.0})
    reads = project(base.model_copy(update={"cached_input_share": 0.8}), {"large": ic}).daily_usd
    both = project(base.model_copy(update={"cached_input_share": 0.8, "cache_write_share": 0.2}),
                   {"large": ic}).daily_usd
    assert both - reads == pytest.approx(1000 * 2000 * 0.2 * (3.75e-6 - 3e-6))
    u = _usage(SimpleNamespace(prompt_tokens=2000, completion_tokens=10, prompt_tokens_details=None,
                               cache_creation_input_tokens=1500))
    assert (u.input_tokens, u.cache_write_tokens) == (2000, 1500)
