"""The report's what-if sliders compute what ``evaluate`` computes: the page's expressions, evaluated on the
page's own data for random scenarios, give ``evaluate``'s company figures on the same draws."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.targets.scenario import PlanInputs, Scenario, evaluate
from omnimodel.whatif.browser import MIME, BrowserPanel, _expressions, constants, draw_sums


@pytest.fixture
def inputs():
    rng = np.random.default_rng(5)
    cells = pd.DataFrame({"channel": ["web", "web", "store", "store", "field"], "region": ["N", "S", "N", "S", "S"],
                          "last_year": [100.0, 300.0, 100.0, 200.0, 400.0],
                          "margin_rate": [0.40, 0.40, 0.30, 0.30, 0.35], "return_rate": [0.10, 0.10, 0.02, 0.02, 0.0]})  # fmt: skip
    baseline = rng.gamma(50, 2.4, (5, 3000))
    pipeline = rng.gamma(5, 4, (3, 5, 3000))  # two open phases, then deals not created yet
    return PlanInputs(2026, cells, baseline, pipeline, ("lead", "proposal", "new"))


def _page_figures(inputs: PlanInputs, start: Scenario, levers: dict) -> dict:
    """Evaluate the page's Vega expressions in Python on the page's data (they are plain arithmetic)."""
    sums = draw_sums(inputs, start)
    sources = sorted({c.split("_")[0] for c in sums.columns}, key=lambda s: (s != "b", s))
    names = {"pow": np.power, **{c: sums[c].to_numpy() for c in sums}, **levers}
    out = {
        k: eval(v.replace("datum.", ""), {}, names)
        for k, v in _expressions(inputs, sources, constants(inputs, start)).items()
    }
    return {
        "target": float(out["target"]),
        "p_hit": float((out["revenue"] >= out["target"]).mean()),
        "forecast_p50": float(np.median(out["revenue"])),
        "profit_target": float(out["profit_target"]),
        "profit_p50": float(np.median(out["profit"])),
        "p_hit_profit": float((out["profit"] >= out["profit_target"]).mean()),
    }


def test_the_page_gives_evaluates_company_figures_for_any_levers(inputs):
    start = Scenario(growth={"N": 0.08, "default": 0.03}, channel_shift={"web": 0.05, "store": -0.05},
                     margin_floor={"store": 0.33}, channel_cost={"web": 0.06, "default": 0.03}, return_rate={"field": 0.05})  # fmt: skip
    rng = np.random.default_rng(0)
    for _ in range(12):
        levers = {"price_change": rng.uniform(-0.1, 0.1), "price_elasticity": rng.uniform(-3, 0),
                  "margin_change": rng.uniform(-0.05, 0.05), "cost_change": rng.uniform(-0.05, 0.05),
                  "growth_change": rng.uniform(-0.2, 0.2), "u0": rng.uniform(0, 0.3), "u1": rng.uniform(0, 0.3)}  # fmt: skip
        scenario = start.replace(**{k: v for k, v in levers.items() if not k.startswith("u")},
                                 conversion_uplift={"lead": levers["u0"], "proposal": levers["u1"]})  # fmt: skip
        want = evaluate(inputs, scenario).level("total").iloc[0]
        got = _page_figures(inputs, start, levers)
        for key, value in got.items():
            assert value == pytest.approx(want[key], rel=1e-9), key


def test_without_added_bookings_the_page_has_the_baseline_only(inputs):
    shown_only = PlanInputs(2026, inputs.cells, inputs.baseline, inputs.pipeline, inputs.phases, "in_orders")
    assert list(draw_sums(shown_only, Scenario())) == ["b_0", "b_1", "b_2", "b_3"]
    levers = dict.fromkeys(["price_change", "margin_change", "cost_change", "growth_change"], 0.01) | {
        "price_elasticity": -1.2
    }
    want = evaluate(
        shown_only, Scenario(price_change=0.01, margin_change=0.01, cost_change=0.01, growth_change=0.01)
    )
    assert _page_figures(shown_only, Scenario(), levers)["p_hit"] == pytest.approx(
        want.level("total").iloc[0]["p_hit"]
    )


def test_the_fragment_is_self_contained_and_carries_no_closing_tag_from_data(inputs):
    hostile = PlanInputs(
        2026, inputs.cells, inputs.baseline, inputs.pipeline, ("</script><b>x", "proposal", "new")
    )
    page = BrowserPanel(hostile, Scenario())._repr_mimebundle_()[MIME]
    assert page.count("</script>") == 1  # the chart's own closing tag, nothing from data
    assert "<\\/script><b>x" in page
    assert "<script src=" not in page and "cdn.jsdelivr" not in page
