"""Targets, forecasts, profit and P(hit) for one scenario, as pure numpy over forecast draws.

The inputs (:class:`PlanInputs`) hold, per channel x region cell, last year's revenue and unit economics and
the target year's revenue draws: the baseline (orders) and the pipeline's bookings split by the phase each
deal is in today. A :class:`Scenario` holds the strategy goals and the levers a manager moves. Everything
below is arithmetic on arrays of (cells x draws), so one scenario costs about a millisecond.

Definitions (per cell; revenue is order value after discounts, before returns):

- revenue target = region's last-year revenue x (1 + region growth), split over channels by last year's
  share plus the intended channel shift (share points, renormalised within the region);
- profit = revenue x (margin rate x (1 - return rate) - cost to serve rate): returned units are refunded and
  restocked, so a return loses its margin; serving the order costs in any case;
- profit target = revenue target x the profit rate with the margin raised to its floor where it is below;
- forecast revenue = baseline draws x price factor + pipeline draws x conversion factor x price factor, where a
  price change p with elasticity e moves volume by (1 + p)^e, so revenue by (1 + p)^(1 + e), and the margin
  rate to 1 - (1 - m) / (1 + p); a conversion uplift u of a phase multiplies the bookings of deals that still
  have to pass it by (1 + u), exact for the mean, an approximation for the spread;
- P(hit) = share of draws at or above the target, for cells and for every total, on the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from omnimodel.diagnostics import Diagnostics
from omnimodel.exceptions import OmnimodelError, ParameterError

if TYPE_CHECKING:
    from omnimodel.targets.goals import StrategyGoals

LEVELS = ("total", "region", "channel", "cell")


@dataclass(frozen=True)
class PlanInputs:
    """What a scenario works on: per cell economics and target-year draws (built by ``targets.plan``)."""

    year: int
    cells: pd.DataFrame  # channel, region, last_year, margin_rate, return_rate
    baseline: np.ndarray  # (cells, draws): order revenue in the target year
    pipeline: np.ndarray  # (phases, cells, draws): bookings by the phase the deal is in today ("new" last)
    phases: tuple[str, ...] = ()  # open phases in order, then "new" for deals not created yet
    pipeline_mode: str = "added"  # added: bookings add to revenue; otherwise shown only
    diagnostics: Diagnostics | None = None  # the pipeline model's fit (None without a pipeline)

    def __post_init__(self):
        n = len(self.cells)
        if self.baseline.shape[0] != n or self.pipeline.shape[1:] != self.baseline.shape:
            raise OmnimodelError(
                f"draw arrays do not match the {n} cells: baseline {self.baseline.shape}, "
                f"pipeline {self.pipeline.shape}"
            )

    @cached_property
    def nodes(self) -> pd.DataFrame:
        """Every total a target is set on: the company, each region, each channel, each cell.

        ``channel`` and ``region`` say which cells a node adds up (None: all); ``node`` is its label for
        people (``"webshop / North"`` for a cell), never parsed.
        """
        c = self.cells
        rows = [{"level": "total", "node": "total", "channel": None, "region": None}]
        rows += [
            {"level": "region", "node": r, "channel": None, "region": r} for r in sorted(c["region"].unique())
        ]
        rows += [
            {"level": "channel", "node": ch, "channel": ch, "region": None}
            for ch in sorted(c["channel"].unique())
        ]
        rows += [
            {"level": "cell", "node": f"{a} / {b}", "channel": a, "region": b}
            for a, b in zip(c["channel"], c["region"], strict=True)
        ]
        return pd.DataFrame(rows)

    @cached_property
    def summing(self) -> np.ndarray:
        """(nodes x cells) 0/1 matrix: which cells add up to each node."""
        c, nodes = self.cells, self.nodes
        s = np.ones((len(nodes), len(c)), dtype=bool)
        for key in ("channel", "region"):
            wanted = nodes[key].to_numpy(dtype=object)
            given = np.array([w is not None for w in wanted])
            s[given] &= wanted[given][:, None] == c[key].to_numpy(dtype=object)[None, :]
        return s.astype(float)

    def node_index(self, channel: str | None = None, region: str | None = None) -> int:
        """Row of the node for a channel, a region, both (a cell) or neither (the total)."""
        level = {(False, False): "total", (False, True): "region", (True, False): "channel"}.get(
            (channel is not None, region is not None), "cell"
        )
        n = self.nodes
        hit = (n["level"] == level) & (n["channel"].isna() if channel is None else n["channel"] == channel)
        hit &= n["region"].isna() if region is None else n["region"] == region
        rows = n.index[hit]
        if len(rows) != 1:
            what = " / ".join(v for v in (channel, region) if v is not None)
            raise ParameterError(
                f"no target node for {what}",
                fix=f"use a channel of {', '.join(sorted(self.cells['channel'].unique()))} and a region of "
                f"{', '.join(sorted(self.cells['region'].unique()))}",
            )
        return int(rows[0])


@dataclass(frozen=True)
class Scenario:
    """Strategy goals plus levers. Mappings take a ``default`` entry; rates are shares (0.05 = 5 %)."""

    growth: dict = field(default_factory=lambda: {"default": 0.05})  # per region
    channel_shift: dict = field(default_factory=dict)  # share points per channel (sum 0)
    margin_floor: dict = field(default_factory=dict)  # per channel
    channel_cost: dict = field(default_factory=dict)  # cost to serve rate per channel
    return_rate: dict = field(default_factory=dict)  # overrides of the measured rate, per channel
    growth_change: float = 0.0  # added to every region's growth goal
    price_change: float = 0.0  # e.g. 0.03 = prices up 3 %
    price_elasticity: float = -1.2  # % volume change per % price change (an assumption: state yours)
    conversion_uplift: dict = field(default_factory=dict)  # phase -> relative uplift of its advance rate
    margin_change: float = 0.0  # share points on every margin rate (purchasing, discounts)
    cost_change: float = 0.0  # share points on every cost-to-serve rate

    @classmethod
    def from_goals(cls, goals: StrategyGoals, **levers: Any) -> Scenario:
        """The scenario of a :class:`~omnimodel.targets.goals.StrategyGoals`, with optional levers set."""
        return cls(
            growth=dict(goals.growth),
            channel_shift=dict(goals.channel_shift),
            margin_floor=dict(goals.margin_floor),
            channel_cost=dict(goals.channel_cost),
            return_rate=dict(goals.return_rate),
            **levers,
        )

    def replace(self, **changes: Any) -> Scenario:
        """A copy with ``changes`` applied (the scenario itself is never changed)."""
        return replace(self, **changes)


def _lookup(mapping: dict, names: pd.Series, default: float = 0.0) -> np.ndarray:
    fallback = mapping.get("default", default)
    return np.array([mapping.get(n, fallback) for n in names], dtype=float)


def revenue_targets(inputs: PlanInputs, scenario: Scenario) -> np.ndarray:
    """Per cell: the region's growth goal applied to last year, split by last year's share plus the shift."""
    c = inputs.cells
    last = c["last_year"].to_numpy(float)
    region_last = c.groupby("region")["last_year"].transform("sum").to_numpy(float)
    growth = _lookup(scenario.growth, c["region"]) + scenario.growth_change
    share = np.divide(last, region_last, out=np.zeros_like(last), where=region_last > 0)
    share = np.clip(share + _lookup(scenario.channel_shift, c["channel"]), 0, None)
    share_sum = pd.Series(share).groupby(c["region"].to_numpy()).transform("sum").to_numpy()
    share = np.divide(share, share_sum, out=np.zeros_like(share), where=share_sum > 0)
    return region_last * (1 + growth) * share


def cell_rates(inputs: PlanInputs, scenario: Scenario) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell: (margin rate, return rate, cost-to-serve rate) before levers; the goals' return-rate and
    channel-cost entries override the measured ones."""
    c = inputs.cells
    margin = c["margin_rate"].to_numpy(float)
    returns = np.where(
        [ch in scenario.return_rate or "default" in scenario.return_rate for ch in c["channel"]],
        _lookup(scenario.return_rate, c["channel"]),
        c["return_rate"].to_numpy(float),
    )
    return margin, returns, _lookup(scenario.channel_cost, c["channel"])


def profit_rates(inputs: PlanInputs, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: (profit rate today with the levers applied, profit rate planned with margin floors)."""
    c = inputs.cells
    margin, returns, cost = cell_rates(inputs, scenario)
    planned_margin = np.maximum(margin, _lookup(scenario.margin_floor, c["channel"]))
    moved = 1 - (1 - (margin + scenario.margin_change)) / (1 + scenario.price_change)
    now = moved * (1 - returns) - (cost + scenario.cost_change)
    planned = planned_margin * (1 - returns) - cost
    return now, planned


def phase_factors(inputs: PlanInputs, scenario: Scenario) -> np.ndarray:
    """Per pipeline phase group: the product of the uplifts a deal there still has to pass."""
    uplift = np.array([1 + scenario.conversion_uplift.get(p, 0.0) for p in inputs.phases[:-1]])
    still_to_pass = np.cumprod(uplift[::-1])[::-1]  # a deal in phase k passes phases k, k+1, ...
    return np.append(still_to_pass, still_to_pass[0] if len(uplift) else 1.0)  # new deals pass all


def revenue_draws(inputs: PlanInputs, scenario: Scenario) -> np.ndarray:
    """(cells x draws) revenue in the target year under the scenario."""
    price = (1 + scenario.price_change) ** (1 + scenario.price_elasticity)
    out = inputs.baseline * price
    if inputs.pipeline_mode == "added" and len(inputs.phases):
        out = out + np.tensordot(phase_factors(inputs, scenario), inputs.pipeline, axes=1) * price
    return out


@dataclass
class Outcome:
    """One scenario's targets, forecasts and odds, per node (total, regions, channels, cells)."""

    table: pd.DataFrame
    revenue: np.ndarray  # (nodes x draws)
    profit: np.ndarray  # (nodes x draws)

    def view(self, channel: str | None = None, region: str | None = None) -> pd.DataFrame:
        """The rows a reader of one channel or region wants: that channel's (or region's) total and its cells;
        with both, that cell; with neither, every total above the cells."""
        t = self.table
        if channel is not None and region is not None:
            keep = (t["channel"] == channel) & (t["region"] == region)
        elif channel is not None:
            keep = t["channel"] == channel
        elif region is not None:
            keep = t["region"] == region
        else:
            keep = t["level"] != "cell"
        return t[keep.fillna(False).astype(bool)].reset_index(drop=True)

    def level(self, level: str) -> pd.DataFrame:
        """The rows of one level: ``total``, ``region``, ``channel`` or ``cell``."""
        return self.table[self.table["level"] == level].reset_index(drop=True)


def evaluate(inputs: PlanInputs, scenario: Scenario) -> Outcome:
    """Targets, forecast P10/P50/P90, gaps and P(hit) for revenue and profit at every node."""
    s = inputs.summing
    cell_target = revenue_targets(inputs, scenario)
    target = s @ cell_target
    now, planned = profit_rates(inputs, scenario)
    cell_revenue = revenue_draws(inputs, scenario)
    revenue = s @ cell_revenue
    profit = s @ (cell_revenue * now[:, None])
    profit_target = s @ (cell_target * planned)
    q = np.quantile(revenue, [0.1, 0.5, 0.9], axis=1)
    table = inputs.nodes.copy()
    table["last_year"] = s @ inputs.cells["last_year"].to_numpy(float)
    table["target"] = target
    table["forecast_p10"], table["forecast_p50"], table["forecast_p90"] = q
    table["gap_p50"] = target - q[1]
    table["p_hit"] = (revenue >= target[:, None]).mean(axis=1)
    table["profit_target"] = profit_target
    table["profit_p50"] = np.median(profit, axis=1)
    hit = (profit >= profit_target[:, None]).mean(axis=1)
    table["p_hit_profit"] = np.where(np.isnan(profit_target), np.nan, hit)  # unknown margins: unknown odds
    return Outcome(table, revenue, profit)


def bridge(
    inputs: PlanInputs,
    scenario: Scenario,
    node: str | None = None,
    *,
    channel: str | None = None,
    region: str | None = None,
) -> pd.DataFrame:
    """Steps from last year to the target at one node, for revenue and for profit.

    The node is given by its label (``node``) or by ``channel`` and/or ``region`` (neither: the company).
    Revenue: last year, + growth goals, + channel shift, = target. Profit: last year at today's rates,
    + growth and mix at today's rates, + margin floors, = profit target.
    """
    if node is None:
        s = inputs.summing[inputs.node_index(channel, region)]
    else:
        row = inputs.nodes.index[inputs.nodes["node"] == node]
        if len(row) != 1:
            raise ParameterError(f"no node {node!r}", fix=f"use one of {', '.join(inputs.nodes['node'])}")
        s = inputs.summing[row[0]]
    last = inputs.cells["last_year"].to_numpy(float)
    target = revenue_targets(inputs, scenario)
    no_shift = revenue_targets(inputs, scenario.replace(channel_shift={}))
    neutral = scenario.replace(price_change=0.0, margin_change=0.0, cost_change=0.0)
    today, planned = profit_rates(inputs, neutral)
    steps = [
        ("revenue", "last year", s @ last),
        ("revenue", "growth goals", s @ (no_shift - last)),
        ("revenue", "channel shift", s @ (target - no_shift)),
        ("revenue", "target", s @ target),
        ("profit", "last year", s @ (last * today)),
        ("profit", "growth and mix", s @ ((target - last) * today)),
        ("profit", "margin floors", s @ (target * (planned - today))),
        ("profit", "target", s @ (target * planned)),
    ]
    return pd.DataFrame(steps, columns=["measure", "step", "value"])
