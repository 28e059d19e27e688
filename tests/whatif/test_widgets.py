"""The what-if panel, driven programmatically: moving a control changes the outcome, chart and table as the
engine says it should."""

import numpy as np
import pytest

from omnimodel.targets.scenario import PlanInputs, Scenario, evaluate
from omnimodel.whatif.widgets import WhatIfPanel
from tests.targets.test_scenario import inputs  # noqa: F401  (the synthetic plan fixture)


def test_growth_slider_moves_targets_chart_and_table(inputs):  # noqa: F811
    panel = WhatIfPanel(inputs, Scenario(growth={"default": 0.05}))
    before = panel.outcome.table.set_index("node")
    chart, table = panel.chart.value, panel.table.value
    panel.controls["growth_change"].value = 0.10
    after = panel.outcome.table.set_index("node")
    assert after.loc["total", "target"] == pytest.approx(before.loc["total", "last_year"] * 1.15)
    assert after.loc["total", "p_hit"] <= before.loc["total", "p_hit"]
    assert (after["forecast_p50"] == before["forecast_p50"]).all()  # a goal does not move the forecast
    assert panel.chart.value != chart and panel.table.value != table
    assert f"{after.loc['web', 'target']:,.0f}" in panel.table.value
    assert f"{after.loc['total', 'target']:,.0f}" in panel.headline.value


def test_levers_match_the_engine(inputs):  # noqa: F811
    panel = WhatIfPanel(inputs, Scenario())
    panel.controls["price_change"].value = 0.05
    panel.controls["uplift:lead"].value = 0.2
    panel.controls["shift_channel"].value = "store"
    panel.controls["shift"].value = 0.02
    expected = evaluate(
        inputs,
        Scenario(
            price_change=0.05, conversion_uplift={"lead": 0.2}, channel_shift=panel.scenario.channel_shift
        ),
    )
    assert np.allclose(panel.outcome.revenue, expected.revenue)
    shift = panel.scenario.channel_shift
    assert shift["store"] == pytest.approx(0.02) and sum(shift.values()) == pytest.approx(0.0)
    assert panel.outcome.table.set_index("node").loc["total", "target"] == pytest.approx(
        expected.table.loc[0, "target"]
    )


def test_level_dropdown_and_escaping(inputs):  # noqa: F811
    cells = inputs.cells.assign(channel=inputs.cells["channel"].replace({"web": "<b>web</b>"}))
    inputs = PlanInputs(inputs.year, cells, inputs.baseline, inputs.pipeline, inputs.phases)
    panel = WhatIfPanel(inputs, Scenario())
    panel.controls["level"].value = "cell"
    assert "&lt;b&gt;web&lt;/b&gt; / N" in panel.table.value and "<b>web</b>" not in panel.table.value
    assert panel.table.value.count("<tr") == len(inputs.cells) + 1
