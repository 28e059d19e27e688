"""Strategy goals to targets on the demo company: goals validated, economics recover the planted return
rates, targets add up at every level, the split keeps its constraints and the optimiser finds the greedy optimum."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from omnimodel import ConfigError, Workspace
from omnimodel.data import demo
from omnimodel.targets import plan
from omnimodel.targets.economics import cell_economics
from omnimodel.targets.goals import load_strategy_goals
from omnimodel.targets.split import _split_channel, split_targets

pytestmark = pytest.mark.slow
GOALS = "goals.yaml"


@pytest.fixture(scope="module")
def planned(demo_workspace):
    goals = load_strategy_goals(GOALS)
    with Workspace(demo_workspace) as ws:
        inputs = plan.build_plan_inputs(
            ws, goals, n_draws=400, seed=1, pipeline_sampler={"draws": 200, "tune": 200}
        )
        split = split_targets(ws, inputs, goals)
    return goals, inputs, split


def test_goals_yaml_is_checked(tmp_path):
    goals = load_strategy_goals(GOALS)
    assert goals.year == 2026 and goals.rate("growth", "North") > goals.rate("growth", "West")
    bad = tmp_path / "goals.yaml"
    for text, message in (
        ("year: 2026\ngrowth: {default: 0.1}\nchannel_shift: {app: 0.02}", "sum to 0"),
        ("year: 2026\ngrowth: {default: 0.1}\nmargin_floor: {app: 1.5}", "margin_floor"),
        ("year: 2026\ngrowth: {default: 0.1}\ngrowht: 1", "unknown key"),
        ("year: next\ngrowth: {default: 0.1}", "target year"),
        ("year: 2026\ngrowth: {default: 0.1}\npipeline: maybe", "pipeline"),
    ):
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_strategy_goals(bad)
    bad.write_text("growth: {default: 0.1}")  # no year: the one after the data's latest complete year
    assert load_strategy_goals(bad).year is None


def test_unknown_names_in_goals_are_errors(planned):
    goals, inputs, _ = planned
    typo = dataclasses.replace(goals, growth={"Nrth": 0.2})
    with pytest.raises(ConfigError, match="Nrth.*North"):
        plan.check_goals(typo, inputs.cells)


def test_goals_year_needs_a_complete_prior_year(demo_workspace):
    goals = dataclasses.replace(load_strategy_goals(GOALS), year=2028)
    with Workspace(demo_workspace) as ws, pytest.raises(ConfigError, match="December 2027.*set `year`"):
        plan.build_plan_inputs(ws, goals)


def test_return_rates_recover_the_planted_ones(demo_workspace):
    with Workspace(demo_workspace) as ws:
        econ = cell_economics(ws, 2025, ("channel", "category"))
    factor = dict(zip(demo.CHANNELS, demo.RETURN_CHANNEL_FACTOR, strict=True))
    planted = econ["category"].map(demo.RETURN_RATE) * econ["channel"].map(factor)
    # Pool channels per category (the small demo has a few dozen lines per cell): the revenue-weighted
    # planted rate against the measured one, within 4 standard errors (a design effect of 2 for the weighting).
    g = (
        econ.assign(expected=planted * econ["revenue"])
        .groupby("category")[["revenue", "returned", "expected", "lines"]]
        .sum()
    )
    got, want = g["returned"] / g["revenue"], g["expected"] / g["revenue"]
    z = (got - want) / np.sqrt(2 * want * (1 - want) / g["lines"])
    assert (z.abs() < 4).all(), z
    assert np.corrcoef(got, want)[0, 1] > 0.95


def test_targets_add_up_and_pipeline_is_added_once(planned):
    goals, inputs, _ = planned
    table = plan.plan_targets(inputs, goals).table
    for level in ("region", "channel", "cell"):
        part = table[table["level"] == level]
        assert part["target"].sum() == pytest.approx(table.loc[0, "target"])
        assert part["last_year"].sum() == pytest.approx(table.loc[0, "last_year"])
    regions = table[table["level"] == "region"].set_index("node")
    for region, row in regions.iterrows():
        assert row["target"] == pytest.approx(row["last_year"] * (1 + goals.rate("growth", region)))
    assert inputs.pipeline.sum() > 0 and inputs.cells["bookings_last_year"].sum() > 0
    # Bottom-up draws = baseline + pipeline, each counted once.
    total = plan.plan_targets(inputs, goals)
    both = inputs.baseline.sum(axis=0) + inputs.pipeline.sum(axis=(0, 1))
    assert total.revenue[0] == pytest.approx(both)
    assert 0 <= table["p_hit"].min() and table["p_hit"].max() <= 1


def test_split_keeps_totals_bounds_and_floor(planned):
    goals, inputs, split = planned
    cells, channels = split.cells, split.channels.set_index("channel")
    prop = cells.groupby("channel")["proportional"].sum()
    assert prop.to_numpy() == pytest.approx(channels.loc[prop.index, "target"].to_numpy())
    opt = cells.groupby("channel")["optimised"].sum()
    fine = channels["status"] == "optimised"
    assert opt[fine].to_numpy() == pytest.approx(channels.loc[fine, "target"].to_numpy())
    assert (cells["optimised"] <= cells["last_year"] * 1.2501 + 1e-6).all()
    assert (cells["optimised"] >= cells["last_year"] * (1 - goals.max_decline) - 1e-6).all()
    margin = (
        cells.assign(m=cells["margin_rate"] * cells["optimised"]).groupby("channel")[["m", "optimised"]].sum()
    )
    rate = margin["m"] / margin["optimised"]
    assert (rate[fine] >= channels.loc[fine, "margin_floor"] - 1e-9).all()
    assert cells["reason"].str.len().gt(10).all()


def test_optimised_split_matches_the_greedy_optimum():
    # Without focus segments and with a low floor, the best split fills cells by profit rate: greedy.
    g = pd.DataFrame(
        {
            "channel": "web",
            "category": list("abcd"),
            "segment": "s",
            "revenue": [100.0, 100.0, 100.0, 100.0],
            "margin_rate": [0.5, 0.2, 0.4, 0.3],
            "return_rate": 0.0,
        }
    )
    goals = load_strategy_goals(GOALS)
    goals = dataclasses.replace(
        goals, focus_segments={}, margin_floor={"default": 0.0}, capacity={"default": 0.5}, max_decline=0.5
    )
    cell, summary = _split_channel(g, 460.0, 0.1, goals)
    # Floors 50 each (200), then 260 more: a +100 to cap 150, c +100 to 150, d +60 -> 110, b stays at 50.
    assert cell["optimised"].to_numpy() == pytest.approx([150, 50, 150, 110])
    assert summary["status"] == "optimised"
    assert (
        "marginal" in cell.loc[3, "reason"]
        and "capacity" in cell.loc[0, "reason"]
        and "least" in cell.loc[1, "reason"]
    )
    capped, s2 = _split_channel(g, 700.0, 0.1, goals)
    assert "capacity" in s2["status"] and capped["optimised"].sum() == pytest.approx(600)


def test_split_without_unit_costs_stays_proportional():
    g = pd.DataFrame(
        {
            "channel": "web",
            "category": list("ab"),
            "segment": "s",
            "revenue": [100.0, 300.0],
            "margin_rate": [np.nan, np.nan],
            "return_rate": 0.0,
        }
    )
    goals = dataclasses.replace(load_strategy_goals(GOALS), focus_segments={})
    cell, summary = _split_channel(g, 440.0, 0.1, goals)
    assert summary["status"] == "margins unknown: proportional only"
    assert cell["optimised"].to_numpy() == pytest.approx([110, 330])
    assert cell["profit_rate"].isna().all() and cell["margin_rate"].isna().all()


def test_a_typo_in_the_goals_fails_before_any_fitting(demo_workspace):
    goals = dataclasses.replace(load_strategy_goals(GOALS), channel_cost={"webshp": 0.1})
    with Workspace(demo_workspace) as ws, pytest.raises(ConfigError, match="webshp.*webshop"):
        plan.build_plan_inputs(ws, goals)


def test_goals_as_a_table_and_the_largest_split_changes(planned):
    from omnimodel.targets.goals import GOAL_MAPS

    goals, inputs, split = planned
    table = goals.to_frame()
    assert len(table) == sum(len(getattr(goals, k)) for k in GOAL_MAPS) > 0
    assert table.loc[table["goal"] == "growth", "applies to"].tolist() == list(goals.growth)
    top = split.largest_changes(n=5)
    assert len(top) == 5 and top["change"].abs().is_monotonic_decreasing
    assert top["change"].abs().iloc[0] == split.cells["change"].abs().max()
    channel = split.cells["channel"].iloc[0]
    assert set(split.largest_changes(channel)["channel"]) == {channel}
