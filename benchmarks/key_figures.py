"""Key figures of the demo report suite, seeded: run before and after a change that should not move numbers.

Prints JSON (pipeline forecast quantiles and period noise, CLV value and holdout error, the plan's targets,
medians and P(hit), the chosen baseline models). Two runs on the same code give identical output; compare
two outputs with ``--compare A B``.

Run: ``.venv/bin/python benchmarks/key_figures.py data/demo.duckdb > after.json``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def key_figures(workspace: str) -> dict:
    from omnimodel import Workspace
    from omnimodel.forecasting import baseline, series
    from omnimodel.funnel import forecast_bookings, pipeline_snapshot
    from omnimodel.funnel.definition import load_funnel
    from omnimodel.funnel.fits import fit_pipeline
    from omnimodel.profile.clv import CLVModel, purchase_summary
    from omnimodel.targets import plan
    from omnimodel.targets.goals import load_strategy_goals

    ws = Workspace(workspace)
    out: dict = {}
    snap = pipeline_snapshot(ws, load_funnel("demo"), None)
    model = fit_pipeline(snap, sampler_config={"draws": 300, "tune": 300}, random_seed=42)
    fc = forecast_bookings(model, snap, "2026Q1", random_seed=42)
    out["pipeline_q"], out["pipeline_rhat"] = fc.quantiles(), model.diagnostics_.max_rhat
    out["period_noise_sd"] = model.period_noise_.sd
    out["by_channel"] = fc.to_frame("source_channel").to_dict(orient="list")
    summary = purchase_summary(ws, "2024-12-31", "2025-12-31")
    clv = CLVModel(sampler_config={"draws": 200, "tune": 200}).fit(
        summary, random_seed=42, max_customers=1500
    )
    values = clv.customer_value(summary, years=1.0, n_draws=100, seed=42)
    out["clv_value_sum"] = float(values["value"].sum())
    out["clv_holdout_err"] = clv.check_holdout(summary).relative_error
    goals = dataclasses.replace(load_strategy_goals(ROOT / "goals.yaml"), year=2026)
    hierarchy = series.workspace_revenue(ws, ("channel", "region"), freq="M").until("2025-12")
    models = baseline.choose_models(hierarchy, h=3, n_select=2)
    inputs = plan.build_plan_inputs(
        ws, goals, models, n_draws=400, seed=42, pipeline_sampler={"draws": 200, "tune": 200}
    )
    table = plan.plan_targets(inputs, goals).table
    table = table[table["level"] != "cell"][["target", "forecast_p50", "p_hit", "profit_p50"]]
    out["plan"] = table.round(6).to_dict(orient="list")
    out["models"] = dict(sorted(models.items()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workspace", nargs="?", default=str(ROOT / "data" / "demo.duckdb"))
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="compare two outputs of this script")
    args = parser.parse_args()
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        differ = [k for k in a if a[k] != b.get(k)]
        for k in a:
            print(f"{k}: {'same' if k not in differ else f'DIFFERENT ({a[k]} -> {b.get(k)})'}")
        return 1 if differ else 0
    print(json.dumps(key_figures(args.workspace), indent=1, default=float, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
