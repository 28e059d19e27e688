"""What-if latency: the cost of one scenario change (issue 6), side by side with re-simulating the forecast.

On the default demo workspace (built when missing), with the goals in goals.yaml:

- ``engine``: ``targets.scenario.evaluate`` for one changed scenario (targets, forecast quantiles, P(hit) and
  profit at 28 nodes), over many random scenarios;
- ``panel``: one slider change in ``WhatIfPanel`` (evaluate + the PNG chart + the HTML table), which is what a
  manager waits for;
- ``re-simulate`` (the baseline): what a tool without stored draws must do per change: simulate the baseline
  forecast again (models fixed, no refit) and the pipeline's bookings from the fitted model.

Run: ``.venv/bin/python benchmarks/whatif_latency.py [--draws 1000]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _ms(samples) -> str:
    a = np.asarray(samples) * 1000
    return f"median {np.median(a):.1f} ms, p95 {np.quantile(a, 0.95):.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()

    from omnimodel import Workspace
    from omnimodel.data import demo
    from omnimodel.forecasting import baseline, series
    from omnimodel.funnel.forecast import forecast_bookings
    from omnimodel.targets import plan
    from omnimodel.targets.goals import load_strategy_goals
    from omnimodel.targets.scenario import Scenario, evaluate
    from omnimodel.whatif.widgets import WhatIfPanel

    path = ROOT / "data" / "demo.duckdb"
    if not path.exists():
        demo.build(path, size="default", seed=42)
    goals = load_strategy_goals(ROOT / "goals.yaml")
    ws = Workspace(path)
    t0 = time.perf_counter()
    inputs = plan.build_plan_inputs(ws, goals, n_draws=args.draws, seed=1)
    build = time.perf_counter() - t0
    start = Scenario.from_goals(goals)
    rng = np.random.default_rng(0)

    engine, engine_cpu = [], []
    for _ in range(300):
        s = start.replace(
            price_change=rng.uniform(-0.1, 0.1),
            growth_change=rng.uniform(-0.1, 0.1),
            conversion_uplift={"lead": rng.uniform(0, 0.3)},
        )
        t0, c0 = time.perf_counter(), time.process_time()
        evaluate(inputs, s)
        engine.append(time.perf_counter() - t0)
        engine_cpu.append(time.process_time() - c0)

    panel = WhatIfPanel(inputs, start)
    ui, ui_cpu = [], []
    for value in np.linspace(-0.1, 0.1, 41):
        t0, c0 = time.perf_counter(), time.process_time()
        panel.controls["price_change"].value = float(round(value, 3))
        ui.append(time.perf_counter() - t0)
        ui_cpu.append(time.process_time() - c0)

    # Baseline: re-simulate per change (fixed models, fitted pipeline model reused: no refit at all).
    from omnimodel.funnel import funnel_for
    from omnimodel.funnel.fits import fit_pipeline
    from omnimodel.funnel.snapshot import pipeline_snapshot

    hierarchy = series.workspace_revenue(ws, plan.CELL, freq="M").until(f"{goals.year - 1}-12")
    snapshot = pipeline_snapshot(ws, funnel_for(ws), f"{goals.year - 1}-12-31")
    model = fit_pipeline(
        snapshot, sampler_config={"draws": max(250, args.draws // 2), "tune": 500}, random_seed=1
    )
    resim, resim_cpu = [], []
    for i in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        baseline.forecast_hierarchy(hierarchy, 12, None, n_draws=args.draws, seed=i)
        forecast_bookings(
            model, snapshot, str(goals.year), by=("stage+source_channel+region",), random_seed=i
        )
        resim.append(time.perf_counter() - t0)
        resim_cpu.append(time.process_time() - c0)

    print(f"inputs built once in {build:.1f} s ({inputs.baseline.shape[1]} draws, {len(inputs.cells)} cells)")
    print(f"engine, one scenario change: wall {_ms(engine)}, CPU {_ms(engine_cpu)} (n={len(engine)})")
    print(
        f"panel, one slider change (evaluate + chart + table): wall {_ms(ui)}, CPU {_ms(ui_cpu)} (n={len(ui)})"
    )
    print(f"re-simulate per change (baseline): wall {_ms(resim)}, CPU {_ms(resim_cpu)} (n={len(resim)})")
    print(
        f"re-simulate / engine (CPU): {np.median(resim_cpu) / np.median(engine_cpu):,.0f}x; re-simulate / panel "
        f"(CPU): {np.median(resim_cpu) / np.median(ui_cpu):,.0f}x"
    )


if __name__ == "__main__":
    main()
