"""Scenarios side by side: each row is what evaluate() gives for that scenario."""

import pytest

from omnimodel.targets.scenario import Scenario, evaluate
from omnimodel.whatif import compare_scenarios, standard_scenarios
from tests.targets.test_scenario import inputs  # noqa: F401  (the synthetic plan fixture)


def test_each_row_is_its_scenario_evaluated(inputs):  # noqa: F811
    start = Scenario(growth={"default": 0.05})
    scenarios = standard_scenarios(inputs, start)
    assert "lead conversion +10 %" in scenarios  # the first open phase
    table = compare_scenarios(inputs, scenarios).set_index("scenario")
    for name, scenario in scenarios.items():
        total = evaluate(inputs, scenario).level("total").iloc[0]
        for column in ("target", "forecast_p50", "p_hit", "profit_p50"):
            assert table.loc[name, column] == pytest.approx(total[column]), (name, column)
    assert table.loc["prices +3 %", "forecast_p50"] != table.loc["goals as set", "forecast_p50"]


def test_a_comparison_by_channel_has_a_row_per_scenario_and_channel(inputs):  # noqa: F811
    scenarios = {"a": Scenario(), "b": Scenario(growth_change=0.1)}
    table = compare_scenarios(inputs, scenarios, level="channel")
    assert len(table) == 2 * inputs.cells["channel"].nunique()
    assert set(table["node"]) == set(inputs.cells["channel"])
