"""One plan per run: the baseline backtest and the plan's draws computed once and shared by the reports.

Notebooks 04 (targets) and 05 (what-if) need the same thing: the backtest's chosen model per series and the
target year's forecast draws (baseline and pipeline) per channel x region. Computed separately they took twice
the time and could disagree (a channel's P(hit) 79 % in one report, 58 % in the other). :func:`shared_plan`
computes them once per data, goals, settings and code, stores them under ``.cache/plans/`` in the project, and
hands the same numbers to every later caller. A file lock makes a report running in parallel wait for the
first one instead of fitting the same models again. Nothing stale can be reused: the key holds the data's
fingerprint, the goals, every setting and a hash of the code that computes it (:func:`omnimodel.saved.cached`).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.diagnostics import Diagnostics
from omnimodel.forecasting import baseline, series
from omnimodel.forecasting.baseline import BaselineBacktest
from omnimodel.saved import cached
from omnimodel.targets.goals import StrategyGoals
from omnimodel.targets.plan import CELL, build_plan_inputs, target_year
from omnimodel.targets.scenario import PlanInputs

FORMAT = 2


@dataclass
class SharedPlan:
    """The backtest and the plan inputs, and whether they came from an earlier report of the same data."""

    backtest: BaselineBacktest
    inputs: PlanInputs
    settings: dict
    reused: bool

    def as_text(self) -> str:
        """One line for the report: where the numbers come from."""
        how = "reused from an earlier report of the same data" if self.reused else "computed"
        s = self.settings
        return (
            f"Plan {how} (backtest {s['choose_origins']}+{s['score_origins']} origins, horizon {s['horizon']}; "
            f"{s['draws']:,} draws, seed {s['seed']}): reports 04 and 05 show the same numbers."
        )


def _goals(goals: StrategyGoals) -> dict:
    return {k: v for k, v in dataclasses.asdict(goals).items() if k != "source"}


def shared_plan(
    ws: Workspace,
    goals: StrategyGoals,
    *,
    horizon: int = 3,
    choose_origins: int = 4,
    score_origins: int = 6,
    choose_by: str = "series",
    draws: int = 1000,
    seed: int = 42,
    funnel: str | None = None,
    cache_dir: str | Path | None = None,
) -> SharedPlan:
    """The backtest of the monthly channel x region revenue up to the year before ``goals.year`` and the plan
    inputs built with its models, computed once and shared (see the module's description).

    ``cache_dir`` defaults to ``.cache/plans`` in the project folder.
    """
    year = target_year(ws, goals)  # before anything else: a year the data cannot plan fails at once
    settings = {
        "horizon": horizon,
        "choose_origins": choose_origins,
        "score_origins": score_origins,
        "choose_by": choose_by,
        "draws": draws,
        "seed": seed,
        "funnel": funnel,
    }
    key_data = {"format": FORMAT, "data": ws.fingerprint(), "goals": _goals(goals), "settings": settings}

    def compute() -> tuple[BaselineBacktest, PlanInputs]:
        hierarchy = series.workspace_revenue(ws, CELL, freq="M").until(f"{year - 1}-12")
        bt = baseline.backtest(
            hierarchy, h=horizon, n_select=choose_origins, n_score=score_origins, choose_by=choose_by
        )
        return bt, build_plan_inputs(ws, goals, bt.models, n_draws=draws, seed=seed, funnel=funnel)

    plan = cached("plans", key_data, compute, _save, _load, code=__name__, cache_dir=cache_dir)
    return SharedPlan(*plan.value, settings, reused=plan.reused)


def _save(plan: tuple[BaselineBacktest, PlanInputs], target: Path) -> None:
    """Write into a temporary folder and rename it: a reader never sees half a plan."""
    bt, inputs = plan
    tmp = Path(tempfile.mkdtemp(prefix=".plan-", dir=target.parent))
    try:
        bt.summary.to_parquet(tmp / "summary.parquet")
        bt.detail.to_parquet(tmp / "detail.parquet")
        bt.failed.to_parquet(tmp / "failed.parquet")
        inputs.cells.to_parquet(tmp / "cells.parquet")
        np.savez(tmp / "draws.npz", baseline=inputs.baseline, pipeline=inputs.pipeline)
        meta = {
            "year": inputs.year,
            "phases": list(inputs.phases),
            "pipeline_mode": inputs.pipeline_mode,
            "diagnostics": inputs.diagnostics.__dict__ if inputs.diagnostics else None,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _load(target: Path) -> tuple[BaselineBacktest, PlanInputs]:
    meta = json.loads((target / "meta.json").read_text())
    bt = BaselineBacktest(
        *(pd.read_parquet(target / f"{part}.parquet") for part in ("summary", "detail", "failed"))
    )
    with np.load(target / "draws.npz") as draws:
        inputs = PlanInputs(
            meta["year"],
            pd.read_parquet(target / "cells.parquet"),
            draws["baseline"],
            draws["pipeline"],
            tuple(meta["phases"]),
            meta["pipeline_mode"],
            Diagnostics(**meta["diagnostics"]) if meta.get("diagnostics") else None,
        )
    return bt, inputs
