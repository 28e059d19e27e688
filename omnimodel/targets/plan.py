"""From strategy goals to targets: build the what-if inputs (forecast draws and unit economics per channel x
region) from a workspace, then targets, bottom-up view, gap and P(hit) are :mod:`omnimodel.targets.scenario`
functions of them, so notebook 04's plan and notebook 05's sliders are the same arithmetic.

Bottom-up = the baseline forecast of order revenue plus, when ``goals.pipeline`` is ``added``, the pipeline
forecast of bookings (open deals and deals not created yet) in the target year. Use ``in_orders`` when won
deals turn into orders in your data (adding them would count them twice) and ``ignored`` to leave them out.
In the demo company won deals are contracts outside the orders table: no order is derived from a deal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ConfigError
from omnimodel.forecasting import baseline, series
from omnimodel.targets.economics import cell_economics
from omnimodel.targets.goals import StrategyGoals
from omnimodel.targets.scenario import Outcome, PlanInputs, Scenario, evaluate

CELL = ("channel", "region")


def target_year(ws: Workspace, goals: StrategyGoals) -> int:
    """The goals' year, else the year after the data's latest complete year (a clear error when there is none),
    checked against the data (:func:`check_year`)."""
    from omnimodel.data.periods import default_target_year

    year = goals.year if goals.year is not None else default_target_year(ws)
    check_year(ws, year)
    return year


def check_year(ws: Workspace, year: int) -> None:
    """Fail at once, before anything is fitted, when the data does not cover the year before ``year`` to its
    end (targets grow last year's revenue); the message says which year would work."""
    from omnimodel.data.periods import data_span, latest_complete_year

    complete = latest_complete_year(ws)
    if complete is not None and complete >= year - 1:
        return
    _, through = data_span(ws)
    if complete is not None:
        fix = f"set `year` to {complete + 1} (the year after the data's latest complete year)"
    else:
        fix = "targets need one complete calendar year of orders"
    if through.year == year - 1:
        fix += f", or, if the exports are complete through {year - 1}-12-31, ingest them with --data-through {year - 1}-12-31"
    raise ConfigError(
        f"targets for {year} need order history through December {year - 1}; the data runs through {through.date()}",
        fix=fix,
    )


def check_goals(goals: StrategyGoals, cells: pd.DataFrame) -> None:
    """Every region and channel named in the goals must exist in the data (typos would silently do nothing)."""
    known = {"growth": set(cells["region"]), "channel_shift": set(cells["channel"])}
    for key in ("margin_floor", "channel_cost", "return_rate", "capacity"):
        known[key] = set(cells["channel"])
    for key, names in known.items():
        unknown = sorted(set(getattr(goals, key)) - names - {"default"})
        if unknown:
            raise ConfigError(
                f"{goals.source or 'goals'}: `{key}` names {', '.join(unknown)}, not found in the workspace",
                fix=f"use one of {', '.join(sorted(names))} (or `default`)",
            )


def _pipeline(ws: Workspace, year: int, n_draws: int, seed: int, funnel: str | None, sampler: dict | None):
    """Bookings draws in ``year`` per (phase today, channel, region) and last year's won bookings per cell."""
    from omnimodel.funnel import funnel_for
    from omnimodel.funnel.fits import fitted_model
    from omnimodel.funnel.forecast import forecast_bookings
    from omnimodel.funnel.snapshot import pipeline_snapshot

    definition = funnel_for(ws, funnel)
    snapshot = pipeline_snapshot(ws, definition, f"{year - 1}-12-31")
    sampler = {"draws": max(250, (n_draws + 1) // 2), "tune": 500, **(sampler or {})}
    model = fitted_model(snapshot, sampler_config=sampler, random_seed=seed)
    group = "stage+source_channel+region"
    fc = forecast_bookings(model, snapshot, str(year), by=(group,), random_seed=seed, n_draws=n_draws)
    draws = fc.by_group[group]
    won = snapshot.deals[
        (snapshot.deals["outcome"] == "won") & (snapshot.deals["closed_date"].dt.year == year - 1)
    ]
    last = won.groupby(["source_channel", "region"])["amount"].sum()
    last.index.names = list(CELL)
    return draws, last, [*definition.stage_names, "new"], model.diagnostics_


def build_plan_inputs(
    ws: Workspace,
    goals: StrategyGoals,
    models: dict[str, str] | None = None,
    n_draws: int = 1000,
    seed: int = 0,
    funnel: str | None = None,
    pipeline_sampler: dict | None = None,
) -> PlanInputs:
    """Forecast draws of the goals' year per channel x region (baseline and pipeline) and last year's economics.

    ``models`` maps hierarchy nodes to the model chosen in a backtest (``baseline.backtest``); nodes not named
    get the default ETS. The history used ends with the year before the goals' year, which must be complete.
    """
    year = target_year(ws, goals)
    hierarchy = series.workspace_revenue(ws, CELL, freq="M").until(f"{year - 1}-12")
    check_goals(goals, hierarchy.keys)  # before the expensive part: a typo in the goals fails at once
    forecast = baseline.forecast_hierarchy(hierarchy, 12, models, n_draws=n_draws, seed=seed)
    total = forecast.period_total(f"{year}-01", f"{year}-12")
    nodes = forecast.nodes
    bottom = (nodes["depth"] == len(CELL)).to_numpy()
    orders = nodes.loc[bottom, list(CELL)].reset_index(drop=True)
    orders["orders_last_year"] = _last_year(hierarchy, orders, year)
    base = pd.DataFrame(total[bottom].T, columns=pd.MultiIndex.from_frame(orders[list(CELL)]))

    phases: list[str] = []
    stage_draws = diagnostics = None
    booked = pd.Series(dtype=float)
    has_deals = ws.has("opportunities") and ws.table("opportunities").count().execute() > 0
    if goals.pipeline != "ignored" and has_deals:
        stage_draws, booked, phases, diagnostics = _pipeline(
            ws, year, n_draws, seed, funnel, pipeline_sampler
        )
        n_draws = len(stage_draws)
        base = base.iloc[:n_draws]

    cells = orders[list(CELL)].copy()
    if stage_draws is not None:
        keys = [tuple(c[1:]) for c in stage_draws.columns]  # (phase, channel, region) -> (channel, region)
        extra = sorted(set(keys) - set(map(tuple, cells.to_numpy())))
        cells = pd.concat([cells, pd.DataFrame(extra, columns=list(CELL))], ignore_index=True)
    index = pd.MultiIndex.from_frame(cells)
    cells["orders_last_year"] = (
        orders.set_index(list(CELL))["orders_last_year"].reindex(index).fillna(0).to_numpy()
    )
    cells["bookings_last_year"] = booked.reindex(index).fillna(0).to_numpy()
    added = goals.pipeline == "added"
    cells["last_year"] = cells["orders_last_year"] + (cells["bookings_last_year"] if added else 0)

    econ = cell_economics(ws, year - 1, CELL).set_index(list(CELL))
    for rate in ("margin_rate", "return_rate"):
        # Cells with bookings but no orders take their channel's revenue-weighted rate, else the company's.
        weight = econ["revenue"].where(econ[rate].notna(), 0.0)
        weighted = econ[rate].fillna(0.0) * weight
        company = (
            weighted.sum() / weight.sum() if weight.sum() > 0 else float("nan")
        )  # no unit costs: unknown
        by_channel = weighted.groupby(level="channel").sum() / weight.groupby(level="channel").sum()
        values = econ[rate].reindex(index).to_numpy()
        fallback = cells["channel"].map(by_channel).fillna(company).to_numpy(float)
        cells[rate] = np.where(np.isnan(values), fallback, values)

    baseline_draws = base.T.reindex(index).fillna(0.0).to_numpy()
    pipeline = np.zeros((len(phases), len(cells), len(base)))
    if stage_draws is not None:
        for column in stage_draws.columns:
            phase, channel, region = column
            pipeline[phases.index(phase), index.get_loc((channel, region))] += stage_draws[column].to_numpy()
    return PlanInputs(year, cells, baseline_draws, pipeline, tuple(phases), goals.pipeline, diagnostics)


def _last_year(hierarchy: series.Hierarchy, cells: pd.DataFrame, year: int) -> np.ndarray:
    bottom = hierarchy.bottom[hierarchy.bottom.index.year == year - 1]
    keys = pd.MultiIndex.from_frame(hierarchy.keys[list(CELL)])
    sums = pd.Series(bottom.sum().to_numpy(), index=keys)
    return sums.reindex(pd.MultiIndex.from_frame(cells[list(CELL)])).fillna(0).to_numpy()


def plan_targets(inputs: PlanInputs, goals: StrategyGoals) -> Outcome:
    """The goals' targets with their bottom-up forecast, gap and P(hit) at every node (an ``Outcome``)."""
    return evaluate(inputs, Scenario.from_goals(goals))
