"""Scenarios side by side: the company totals of several scenarios on the same forecast draws."""

from __future__ import annotations

import pandas as pd

from omnimodel.targets.scenario import PlanInputs, Scenario, evaluate

COLUMNS = ["target", "forecast_p50", "p_hit", "profit_target", "profit_p50", "p_hit_profit"]


def standard_scenarios(inputs: PlanInputs, start: Scenario) -> dict[str, Scenario]:
    """The levers a manager tries first, each moved alone from ``start``: prices, cost to serve, the growth
    goal and, with a pipeline, the first phase's conversion."""
    scenarios = {
        "goals as set": start,
        "prices +3 %": start.replace(price_change=0.03),
        "cost to serve -1 point": start.replace(cost_change=-0.01),
        "growth goal +5 points": start.replace(growth_change=0.05),
    }
    first_phase = inputs.phases[0] if inputs.phases[:-1] else None
    if first_phase:
        scenarios[f"{first_phase} conversion +10 %"] = start.replace(conversion_uplift={first_phase: 0.10})
    return scenarios


def compare_scenarios(
    inputs: PlanInputs, scenarios: dict[str, Scenario], level: str = "total"
) -> pd.DataFrame:
    """One row per scenario (and node of ``level``): target, forecast median, P(hit), profit and its P(hit).

    Examples
    --------
    >>> compare_scenarios(inputs, standard_scenarios(inputs, Scenario.from_goals(goals)))  # doctest: +SKIP
    """
    frames = []
    for name, scenario in scenarios.items():
        table = evaluate(inputs, scenario).level(level)
        frame = table[["node", *COLUMNS]] if level != "total" else table[COLUMNS]
        frames.append(frame.assign(scenario=name))
    out = pd.concat(frames, ignore_index=True)
    return out[["scenario", *[c for c in out.columns if c != "scenario"]]]
