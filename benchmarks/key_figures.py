"""Key figures of a workspace, seeded: run before and after a change that should not move numbers.

Prints JSON: the pipeline forecast's quantiles by source channel and its period noise (where the workspace has a
pipeline), the lifetime value's total and holdout error, the plan's targets, medians and P(hit) and the chosen
baseline models (where it has orders). Every default comes from the data (the snapshot's date, the next quarter,
the default holdout, the target year), so the same script runs on the demo and on real data such as the Maven
CRM, and only through calls that exist before and after the December 2026 refit (``fitted_model``, ``CLVModel``,
``build_plan_inputs``), so one script compares two versions of the package. Two runs on the same code give
identical output; compare two outputs with ``--compare A B``.

Run: ``.venv/bin/python benchmarks/key_figures.py data/demo.duckdb > after.json``; for the code before a change,
``PYTHONPATH=<checkout of it> .venv/bin/python benchmarks/key_figures.py data/demo.duckdb > before.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _goals(year: int):
    try:
        from omnimodel.targets.goals import load_strategy_goals
    except ImportError:  # the package before the refit kept the goals in omnimodel.config
        from omnimodel.config import load_strategy_goals  # type: ignore[attr-defined,no-redef]
    return dataclasses.replace(load_strategy_goals(ROOT / "goals.yaml"), year=year)


def pipeline_figures(ws, cache: str) -> dict:
    from omnimodel.data.periods import next_quarter
    from omnimodel.funnel import forecast_bookings, funnel_for, pipeline_snapshot
    from omnimodel.funnel.fits import fitted_model
    from omnimodel.funnel.measures import choose_measure

    snap = pipeline_snapshot(ws, funnel_for(ws), None)
    measure, _ = choose_measure(snap.deals, None)
    model = fitted_model(
        snap, measure=measure, sampler_config={"draws": 300, "tune": 300}, random_seed=42, cache_dir=cache
    )
    fc = forecast_bookings(model, snap, str(next_quarter(snap.as_of)), random_seed=42)
    noise = model.period_noise_.sd if hasattr(model, "period_noise_") else model.period_noise_sd_
    return {
        "pipeline_q": fc.quantiles(),
        "pipeline_rhat": model.diagnostics_.max_rhat,
        "pipeline_ess": model.diagnostics_.min_ess_bulk,
        "period_noise_sd": noise,
        "by_channel": fc.to_frame("source_channel").to_dict(orient="list"),
    }


def order_figures(ws) -> dict:
    from omnimodel.data import periods
    from omnimodel.forecasting import baseline, series
    from omnimodel.profile.clv import CLVModel, purchase_summary
    from omnimodel.targets import plan

    out: dict = {}
    calibration_end, holdout_end = periods.default_holdout(ws)
    summary = purchase_summary(ws, calibration_end, holdout_end)
    clv = CLVModel(sampler_config={"draws": 200, "tune": 200}).fit(
        summary, random_seed=42, max_customers=1500
    )
    out["clv_value_sum"] = float(clv.customer_value(summary, years=1.0, n_draws=100, seed=42)["value"].sum())
    out["clv_holdout_err"] = clv.check_holdout(summary).relative_error
    year = periods.target_year(ws, None)
    goals = _goals(year)
    hierarchy = series.workspace_revenue(ws, ("channel", "region"), freq="M").until(f"{year - 1}-12")
    models = baseline.choose_models(hierarchy, h=3, n_select=2)
    inputs = plan.build_plan_inputs(
        ws, goals, models, n_draws=400, seed=42, pipeline_sampler={"draws": 200, "tune": 200}
    )
    table = plan.plan_targets(inputs, goals).table
    table = table[table["level"] != "cell"][["target", "forecast_p50", "p_hit", "profit_p50"]]
    out["plan"] = table.round(6).to_dict(orient="list")
    out["models"] = dict(sorted(models.items()))
    return out


def key_figures(workspace: str) -> dict:
    from omnimodel import Workspace

    ws = Workspace(workspace)
    out: dict = {}
    with tempfile.TemporaryDirectory() as cache:  # fitted here, not loaded from an earlier version's fit
        if ws.has("opportunities") and ws.has("stage_events"):
            out |= pipeline_figures(ws, cache)
    if ws.has("orders") and ws.has("order_lines"):
        out |= order_figures(ws)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", nargs="?", default=str(ROOT / "data" / "demo.duckdb"))
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two outputs of this script")
    args = parser.parse_args()
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        differ = [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)]
        for k in sorted(a.keys() | b.keys()):
            print(f"{k}: {'same' if k not in differ else f'DIFFERENT ({a.get(k)} -> {b.get(k)})'}")
        return 1 if differ else 0
    print(json.dumps(key_figures(args.workspace), indent=1, default=float, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
