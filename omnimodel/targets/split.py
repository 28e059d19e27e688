"""Which channels should sell which products to which customers: each channel's revenue target split over
category x segment cells, two ways.

- **Proportional**: by last year's revenue of each cell, with the goals' focus segments weighted up by their
  extra growth.
- **Optimised** (``scipy.optimize.linprog``, HiGHS): the split with the most profit, where a cell may grow at
  most by the channel's capacity and shrink at most by ``max_decline``, focus segments keep at least their
  proportional revenue, and the channel's gross margin rate stays at or above its floor. Each cell gets a
  reason: grown to capacity (its profit rate beats the marginal cell's), held at the least (it falls short),
  or the marginal cell that balances the total. A target the constraints cannot reach is capped and said so.

The split covers the order revenue part of each channel's target (pipeline bookings have no category).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import OmnimodelWarning
from omnimodel.targets.economics import cell_economics
from omnimodel.targets.goals import StrategyGoals
from omnimodel.targets.scenario import PlanInputs, Scenario, revenue_targets

SPLIT = ("category", "segment")


@dataclass
class TargetSplit:
    """Each channel's target split over category x segment cells, proportional and optimised."""

    cells: (
        pd.DataFrame
    )  # channel, category, segment, last_year, proportional, optimised, profit rates, reason
    channels: pd.DataFrame  # per channel: target, profit and margin rate of both splits, status

    def largest_changes(self, channel: str | None = None, n: int = 20) -> pd.DataFrame:
        """The ``n`` cells the optimised split moves most from the proportional one (of one channel, if given)."""
        cells = self.cells if channel is None else self.cells[self.cells["channel"] == channel]
        return cells.reindex(cells["change"].abs().sort_values(ascending=False).index).head(n)


def split_targets(
    ws: Workspace, inputs: PlanInputs, goals: StrategyGoals, scenario: Scenario | None = None
) -> TargetSplit:
    """Split each channel's order-revenue target over category x segment (proportional and optimised)."""
    scenario = scenario or Scenario.from_goals(goals)
    c = inputs.cells
    order_share = np.divide(
        c["orders_last_year"], c["last_year"], out=np.zeros(len(c)), where=c["last_year"].to_numpy() > 0
    )
    targets = (
        pd.Series(revenue_targets(inputs, scenario) * order_share).groupby(c["channel"].to_numpy()).sum()
    )
    econ = cell_economics(ws, inputs.year - 1, ("channel", *SPLIT))
    econ = econ[econ["revenue"] > 0].reset_index(drop=True)
    unknown = sorted(set(goals.focus_segments) - set(econ["segment"]))
    if unknown:
        warnings.warn(
            f"focus segments {', '.join(unknown)} have no revenue in {inputs.year - 1}: no effect",
            OmnimodelWarning,
            stacklevel=2,
        )
    cells, channels = [], []
    for channel, group in econ.groupby("channel", sort=True):
        if channel not in targets.index:
            continue
        cost = scenario.channel_cost.get(channel, scenario.channel_cost.get("default", 0.0))
        cell, summary = _split_channel(group.reset_index(drop=True), float(targets[channel]), cost, goals)
        cells.append(cell)
        channels.append({"channel": channel, **summary})
    return TargetSplit(pd.concat(cells, ignore_index=True), pd.DataFrame(channels))


def _split_channel(g: pd.DataFrame, target: float, cost: float, goals: StrategyGoals):
    channel = g["channel"].iloc[0]
    last = g["revenue"].to_numpy(float)
    margin = g["margin_rate"].fillna(0).to_numpy(float)
    profit_rate = margin * (1 - g["return_rate"].to_numpy(float)) - cost
    focus = g["segment"].map(lambda s: goals.focus_segments.get(s, 0.0)).to_numpy(float)
    weight = last * (1 + focus)
    proportional = target * weight / weight.sum()

    low = last * (1 - goals.max_decline)
    high = last * (1 + goals.rate("capacity", channel, 0.25))
    status = "optimised"
    goal = target
    if target > high.sum():
        goal, status = high.sum(), f"target exceeds capacity by {target - high.sum():,.0f}: capped"
    elif target < low.sum():
        goal, status = low.sum(), f"target below the least revenue by {low.sum() - target:,.0f}: raised"
    floor = goals.rate("margin_floor", channel, 0.0)
    a_ub, b_ub = [], []
    focused = sorted(g.loc[focus > 0, "segment"].unique())
    for segment in focused:
        mine = (g["segment"] == segment).to_numpy()
        a_ub.append(-mine.astype(float))  # focus segments keep at least their proportional revenue
        b_ub.append(-min(proportional[mine].sum(), high[mine].sum()))
    margin_row = -(margin - floor)  # sum (margin - floor) x >= 0
    solve = dict(
        c=-profit_rate,
        A_eq=[np.ones(len(g))],
        b_eq=[goal],
        bounds=list(zip(low, high, strict=True)),
        method="highs",
    )
    if g["margin_rate"].isna().any():  # unknown unit costs: no profit to optimise, say so
        return _frame(
            g, last, proportional, proportional, margin, profit_rate, "margins unknown: proportional only"
        ), {
            "target": target,
            "status": "margins unknown: proportional only",
        }
    res = linprog(A_ub=np.array([*a_ub, margin_row]), b_ub=[*b_ub, 0.0], **solve)
    if not res.success:
        res = linprog(A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None, **solve)
        status = f"margin floor {floor:.0%} out of reach by mix alone; {status}"
    if not res.success:
        res = linprog(**solve)
        status = f"focus segments cannot all keep their share; {status}"
    x = res.x
    reasons = _reasons(x, low, high, profit_rate, margin, floor, focus > 0, status)
    cell = _frame(g, last, proportional, x, margin, profit_rate, reasons)
    summary = {
        "target": target,
        "profit_proportional": float(profit_rate @ proportional),
        "profit_optimised": float(profit_rate @ x),
        "margin_rate_proportional": float(margin @ proportional / proportional.sum()),
        "margin_rate_optimised": float(margin @ x / x.sum()),
        "margin_floor": floor,
        "status": status,
    }
    return cell, summary


def _frame(g, last, proportional, optimised, margin, profit_rate, reasons) -> pd.DataFrame:
    cell = g[["channel", *SPLIT]].copy()
    cell["last_year"] = last
    cell["proportional"] = proportional
    cell["optimised"] = optimised
    cell["change"] = optimised - proportional
    cell["margin_rate"] = np.where(g["margin_rate"].notna(), margin, np.nan)  # unknown stays unknown
    cell["profit_rate"] = np.where(g["margin_rate"].notna(), profit_rate, np.nan)
    cell["reason"] = reasons
    return cell


def _reasons(x, low, high, profit_rate, margin, floor, focused, status) -> list[str]:
    """Why each cell got its optimised revenue, in words, against the marginal cell's profit rate."""
    at_high, at_low = np.isclose(x, high, rtol=1e-6), np.isclose(x, low, rtol=1e-6)
    interior = ~at_high & ~at_low
    marginal = float(np.median(profit_rate[interior])) if interior.any() else None
    floor_binds = np.isclose(margin @ x, floor * x.sum(), rtol=1e-6)
    out = []
    for i, p in enumerate(profit_rate):
        if interior[i]:
            out.append(f"the marginal cell (profit rate {p:.1%}): takes up the rest of the target")
        elif at_high[i] and (marginal is None or "capped" in status):
            out.append(f"grown to capacity: the target needs every cell at capacity (profit rate {p:.1%})")
        elif at_high[i] and p >= marginal:
            out.append(f"grown to capacity: profit rate {p:.1%} beats the marginal {marginal:.1%}")
        elif at_high[i] and focused[i]:
            out.append(
                f"grown to capacity for the focus segment (profit rate {p:.1%}, marginal {marginal:.1%})"
            )
        elif at_high[i]:
            out.append(f"grown to capacity to hold the margin floor {floor:.0%} (margin {margin[i]:.1%})")
        elif marginal is None:
            out.append(f"held at the least: the target needs no more (profit rate {p:.1%})")
        elif floor_binds and margin[i] < floor:
            out.append(f"held at the least: margin {margin[i]:.1%} below the floor {floor:.0%}")
        else:
            out.append(f"held at the least: profit rate {p:.1%} below the marginal {marginal:.1%}")
    return out
