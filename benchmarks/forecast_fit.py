"""Forecast fitting time: omnimodel's statsmodels ETS against statsforecast's AutoETS on the same series, in
one run (issue 6).

Series: every node of the Australian visitor-nights and accommodation hierarchies (quarterly) and of the demo
company's channel x region revenue (monthly). Both ways do the same job per series: fit the ETS model set and
keep the lowest AICc.

- ``omnimodel``: each applicable ETS candidate of ``forecasting.models.CANDIDATES`` with statsmodels'
  ETSModel (the engine before issue 17; ``baseline_backtest.py`` compares the engines in the backtest).
- ``statsforecast``: ``AutoETS(season_length=m)``, timed cold (first call, with numba compiling) and warm.

Accuracy on equal footing: the last season of each series is held out; the mean MASE of each way's pick is
reported next to the times. For context, the rolling-origin model choice notebook 04 runs (4 choosing origins,
horizon one season) is timed too.

Run: ``.venv/bin/python benchmarks/forecast_fit.py``.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def series_sets() -> dict:
    from omnimodel import Workspace
    from omnimodel.data import demo
    from omnimodel.forecasting import series

    demo_path = ROOT / "data" / "demo.duckdb"
    if not demo_path.exists():
        demo.build(demo_path, size="default", seed=42)
    with Workspace(demo_path) as ws:
        demo_h = series.workspace_revenue(ws, ("channel", "region"), freq="M").until("2025-12")
    shared = ROOT.parent / "shared" / "data" / "au_tourism_regional"
    return {
        "AU visitor nights (quarterly)": series.au_visitor_nights(shared),
        "AU accommodation (quarterly)": series.au_accommodation(shared),
        "demo channel x region (monthly)": demo_h,
    }


def omnimodel_pick(y: np.ndarray, m: int):
    from omnimodel.forecasting import models

    best, best_aicc = None, np.inf
    for name in models.candidates(y, m):
        if name in (models.SNAIVE, "Theta"):
            continue
        try:
            res = models.statsmodels_fit(name, y, models.usable_season(len(y), m))
        except Exception:
            continue
        if np.isfinite(res.aicc) and res.aicc < best_aicc:
            best, best_aicc = res, res.aicc
    return best


def statsforecast_pick(y: np.ndarray, m: int):
    from statsforecast.models import AutoETS

    return AutoETS(season_length=m).fit(y)


def _mase(train, test, forecast, m) -> float:
    from omnimodel.forecasting.baseline import mase_scale

    return float(np.mean(np.abs(test - forecast)) / mase_scale(train, m))


def main() -> None:
    from omnimodel.forecasting import baseline

    warnings.simplefilter("ignore")
    rows = []
    # Cold start of statsforecast: the first fit compiles its numba kernels.
    t0 = time.perf_counter()
    statsforecast_pick(np.arange(1.0, 41.0) + np.tile([1.0, 2, 3, 4], 10), 4)
    cold = time.perf_counter() - t0
    for label, h in series_sets().items():
        data = h.all_series()
        m = h.season_length
        ys = [data[c].to_numpy(float) for c in data.columns]
        times, mase = {}, {"omnimodel": [], "statsforecast": []}
        for way, pick in (("omnimodel", omnimodel_pick), ("statsforecast", statsforecast_pick)):
            t0 = time.perf_counter()
            for y in ys:
                pick(y, m)
            times[way] = time.perf_counter() - t0
            for y in ys:  # holdout accuracy, not timed
                train, test = y[:-m], y[-m:]
                mm = baseline._usable_season(len(train), m)
                fit = pick(train, mm)
                f = fit.forecast(m) if way == "omnimodel" else fit.predict(m)["mean"]
                mase[way].append(_mase(train, test, np.asarray(f), mm))
        t0 = time.perf_counter()
        baseline.backtest(h, h=m, n_select=4, n_score=1)
        backtest = time.perf_counter() - t0
        rows.append((label, len(ys), len(ys[0]), times, mase, backtest))

    print(f"statsforecast cold start (numba compile, first fit): {cold:.1f} s\n")
    print(
        "| series | n | length | omnimodel fit s | statsforecast fit s | omnimodel / statsforecast | "
        "holdout MASE omnimodel | holdout MASE statsforecast | omnimodel backtest choice s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, n, length, times, mase, bt in rows:
        print(
            f"| {label} | {n} | {length} | {times['omnimodel']:.2f} | {times['statsforecast']:.2f} | "
            f"{times['omnimodel'] / times['statsforecast']:.1f}x | {np.mean(mase['omnimodel']):.3f} | "
            f"{np.mean(mase['statsforecast']):.3f} | {bt:.1f} |"
        )


if __name__ == "__main__":
    main()
