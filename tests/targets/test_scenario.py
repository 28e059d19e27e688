"""The what-if engine against hand-computed closed forms on a small synthetic plan."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.targets.scenario import PlanInputs, Scenario, bridge, evaluate, phase_factors, revenue_targets


@pytest.fixture
def inputs():
    rng = np.random.default_rng(3)
    cells = pd.DataFrame(
        {
            "channel": ["web", "web", "store", "store", "field"],
            "region": ["N", "S", "N", "S", "S"],
            "last_year": [100.0, 300.0, 100.0, 200.0, 400.0],
            "orders_last_year": [100.0, 300.0, 100.0, 200.0, 150.0],
            "margin_rate": [0.40, 0.40, 0.30, 0.30, 0.35],
            "return_rate": [0.10, 0.10, 0.02, 0.02, 0.0],
        }
    )
    baseline = rng.gamma(50, 2.4, (5, 4000)) * cells["orders_last_year"].to_numpy()[:, None] / 100
    pipeline = np.zeros((3, 5, 4000))
    pipeline[0, 4] = rng.gamma(20, 5, 4000)  # deals in "lead"
    pipeline[1, 4] = rng.gamma(20, 5, 4000)  # deals in "proposal"
    pipeline[2, 4] = rng.gamma(20, 5, 4000)  # deals not created yet
    return PlanInputs(2026, cells, baseline, pipeline, ("lead", "proposal", "new"))


def test_targets_follow_goals_and_add_up(inputs):
    goals = Scenario(growth={"N": 0.10, "default": 0.05}, channel_shift={"web": 0.1, "store": -0.1})
    t = revenue_targets(inputs, goals)
    # Region N: 200 x 1.1 = 220, shares 0.5/0.5 + 0.1/-0.1 -> 0.6/0.4.
    assert t[0] == pytest.approx(220 * 0.6) and t[2] == pytest.approx(220 * 0.4)
    # Region S: 900 x 1.05 = 945, shares 1/3, 2/9, 4/9 shifted to 0.4333, 0.1222, 0.4444 (sum 1).
    assert t[[1, 3, 4]] == pytest.approx(945 * np.array([1 / 3 + 0.1, 2 / 9 - 0.1, 4 / 9]))
    out = evaluate(inputs, goals).table.set_index("node")
    assert out.loc["total", "target"] == pytest.approx(220 + 945)
    assert out.loc["web", "target"] == pytest.approx(t[0] + t[1])
    assert out.loc["S", "target"] == pytest.approx(945)
    cells = out[out["level"] == "cell"]
    for level in ("region", "channel"):
        assert out.loc[out["level"] == level, "target"].sum() == pytest.approx(cells["target"].sum())


def test_p_hit_is_the_share_of_draws_and_profit_is_the_closed_form(inputs):
    s = Scenario(
        growth={"default": 0.0}, channel_cost={"web": 0.1, "default": 0.05}, margin_floor={"store": 0.34}
    )
    outcome = evaluate(inputs, s)
    table = outcome.table.set_index("node")
    revenue = inputs.baseline + inputs.pipeline.sum(axis=0)
    assert table.loc["total", "p_hit"] == pytest.approx((revenue.sum(axis=0) >= 1100).mean())
    web_n = table.loc["web / N"]
    assert web_n["p_hit"] == pytest.approx((revenue[0] >= 100).mean())
    # Profit rate web: 0.40 x 0.9 - 0.10 = 0.26; store with its floor: 0.34 x 0.98 - 0.05 = 0.2832.
    assert web_n["profit_target"] == pytest.approx(100 * 0.26)
    assert table.loc["store / S", "profit_target"] == pytest.approx(200 * 0.2832)
    assert np.median(revenue[0] * 0.26) == pytest.approx(web_n["profit_p50"])
    assert table.loc["store / S", "p_hit_profit"] == pytest.approx(
        (revenue[3] * (0.3 * 0.98 - 0.05) >= 200 * 0.2832).mean()
    )


def test_price_change_moves_revenue_and_margin_by_the_elasticity(inputs):
    base = evaluate(inputs, Scenario())
    moved = evaluate(inputs, Scenario(price_change=0.10, price_elasticity=-2.0))
    assert moved.revenue == pytest.approx(base.revenue * 1.1**-1.0)
    # Margin 0.40 at +10 % price: 1 - 0.6 / 1.1 = 0.4545; profit rate x 0.9 returns, no cost.
    web_n = 0
    cell = inputs.nodes.index[inputs.nodes["node"] == "web / N"][0]
    assert moved.profit[cell] == pytest.approx(inputs.baseline[web_n] / 1.1 * (1 - 0.6 / 1.1) * 0.9)
    assert (moved.table["target"] == base.table["target"]).all()  # levers move forecasts, not goals


def test_conversion_uplift_scales_only_deals_that_still_pass_the_phase(inputs):
    assert phase_factors(inputs, Scenario(conversion_uplift={"proposal": 0.2})) == pytest.approx(
        [1.2, 1.2, 1.2]
    )
    assert phase_factors(inputs, Scenario(conversion_uplift={"lead": 0.2})) == pytest.approx([1.2, 1.0, 1.2])
    base = evaluate(inputs, Scenario()).table.set_index("node")
    up = evaluate(inputs, Scenario(conversion_uplift={"lead": 0.2})).table.set_index("node")
    assert up.loc["web", "forecast_p50"] == base.loc["web", "forecast_p50"]  # no pipeline in web
    expected = (
        inputs.baseline[4] + 1.2 * inputs.pipeline[0, 4] + inputs.pipeline[1, 4] + 1.2 * inputs.pipeline[2, 4]
    )
    assert up.loc["field / S", "forecast_p50"] == pytest.approx(np.median(expected))
    shown_only = PlanInputs(2026, inputs.cells, inputs.baseline, inputs.pipeline, inputs.phases, "in_orders")
    assert evaluate(shown_only, Scenario()).revenue[0] == pytest.approx(inputs.baseline.sum(axis=0))


def test_bridge_steps_add_up_to_the_target(inputs):
    s = Scenario(
        growth={"N": 0.2, "default": 0.05},
        channel_shift={"web": 0.05, "store": -0.05},
        margin_floor={"default": 0.38},
    )
    table = evaluate(inputs, s).table.set_index("node")
    for node in ("total", "web", "S", "store / N"):
        b = bridge(inputs, s, node).set_index(["measure", "step"])["value"]
        for measure, target in (("revenue", "target"), ("profit", "profit_target")):
            steps = b[measure]
            assert steps.drop("target").sum() == pytest.approx(steps["target"])
            assert steps["target"] == pytest.approx(table.loc[node, target])
    assert bridge(inputs, s)["value"][2] == pytest.approx(0, abs=1e-9)  # a shift moves no revenue in total
    with pytest.raises(ValueError, match="no node"):
        bridge(inputs, s, "nowhere")


def test_nodes_are_structured_and_sum_their_own_cells(inputs):
    n, c = inputs.nodes, inputs.cells
    for i, row in n.iterrows():
        want = np.ones(len(c), bool)
        if row["channel"] is not None:
            want &= (c["channel"] == row["channel"]).to_numpy()
        if row["region"] is not None:
            want &= (c["region"] == row["region"]).to_numpy()
        assert (inputs.summing[i] == want).all(), row["node"]
    assert inputs.nodes.loc[inputs.node_index("web", "N"), "node"] == "web / N"
    assert inputs.nodes.loc[inputs.node_index(region="S"), "level"] == "region"
    with pytest.raises(ValueError, match="no target node"):
        inputs.node_index("web", "nowhere")


def test_a_bridge_by_channel_and_region_is_the_bridge_of_that_cell(inputs):
    s = Scenario(growth={"default": 0.07}, channel_shift={"web": 0.05, "store": -0.05})
    pd.testing.assert_frame_equal(bridge(inputs, s, channel="web", region="N"), bridge(inputs, s, "web / N"))
    pd.testing.assert_frame_equal(bridge(inputs, s, channel="store"), bridge(inputs, s, "store"))
    pd.testing.assert_frame_equal(bridge(inputs, s), bridge(inputs, s, "total"))


def test_outcome_view_keeps_what_a_reader_of_one_channel_or_region_wants(inputs):
    out = evaluate(inputs, Scenario())
    assert list(out.view()["level"].unique()) == ["total", "region", "channel"]
    assert out.view("web")["node"].tolist() == ["web", "web / N", "web / S"]
    assert out.view(region="S")["node"].tolist() == ["S", "web / S", "store / S", "field / S"]
    assert out.view("field", "S")["node"].tolist() == ["field / S"]
