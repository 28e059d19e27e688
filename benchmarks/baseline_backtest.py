"""The baseline backtest: the statsforecast engine against the statsmodels engine it replaced, and its accuracy
against statsforecast's AutoETS, AutoARIMA and AutoTheta alone, side by side in one run (issue 17, goal 2).

Series: the demo company's monthly channel x region revenue (25 series; notebook 04's settings: horizon 3,
4 choosing and 6 scoring origins) and the Australian visitor-nights and accommodation hierarchies (quarterly;
horizon 4, 4 choosing and 8 scoring origins, as ``tests/forecasting/test_baseline.py``).

- ``before``: the statsmodels engine of c0ec436: every ETS candidate fitted with ``ETSModel`` at every origin,
  the choosing and the scoring ones.
- ``now``: ``baseline.backtest`` as shipped (statsforecast's ETS and Theta; at the scoring origins only the
  chosen model and seasonal naive).
- ``AutoETS``, ``AutoARIMA``, ``AutoTheta``: statsforecast's own automatic models, each alone, fitted at the
  same scoring origins.

Accuracy: mean over the series of the MASE on the scoring origins. Times: CPU seconds (this process) beside
wall seconds; both engines are imported before the clock starts (import times printed apart).

Run: ``.venv/bin/python benchmarks/baseline_backtest.py``.
"""

from __future__ import annotations

import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {
    "monthly": {"h": 3, "n_select": 4, "n_score": 6},
    "quarterly": {"h": 4, "n_select": 4, "n_score": 8},
}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def series_sets() -> dict:
    from omnimodel import Workspace
    from omnimodel.data import demo
    from omnimodel.forecasting import series

    path = ROOT / "data" / "demo.duckdb"
    if not path.exists():
        demo.build(path, size="default", seed=42)
    with Workspace(path) as ws:
        out = {
            "demo channel x region (monthly)": series.workspace_revenue(ws, ("channel", "region")).until(
                "2025-12"
            )
        }
    shared = ROOT.parent / "shared" / "data" / "au_tourism_regional"
    if shared.exists():
        out["AU visitor nights (quarterly)"] = series.au_visitor_nights(shared)
        out["AU accommodation (quarterly)"] = series.au_accommodation(shared)
    return out


def statsmodels_forecast(name, train, h, m):
    """The engine before: statsmodels' ETSModel with the same settings (Theta did not exist there)."""
    from omnimodel.forecasting import models

    if name == models.SNAIVE:
        return models.seasonal_naive(train, h, models.usable_season(len(train), m)), True
    res = models.statsmodels_fit(name, train, models.usable_season(len(train), m))
    return np.asarray(res.forecast(h)), True


def before(hierarchy, h, n_select, n_score) -> float:
    """The old backtest's work and its mean scoring MASE: every ETS candidate at every origin."""
    from omnimodel.forecasting import baseline, models

    original_forecast, original_candidates = models.forecast, models.candidates
    models.forecast = statsmodels_forecast
    models.candidates = lambda train, m: [c for c in original_candidates(train, m) if c != "Theta"]
    try:
        m, s, scores = hierarchy.season_length, hierarchy.all_series(), []
        for node in s.columns:
            d = baseline.rolling_origin(s[node].to_numpy(float), m, h, n_select, n_score)
            pick = baseline._comparable(d[d["phase"] == "choose"]).groupby("model")["mase"].mean().idxmin()
            scored = d[d["phase"] == "score"].pivot_table(index="origin", columns="model", values="mase")
            scores.append(scored[list(dict.fromkeys([pick, models.SNAIVE]))].dropna()[pick].mean())
    finally:
        models.forecast, models.candidates = original_forecast, original_candidates
    return float(np.mean(scores))


def auto_alone(hierarchy, h, n_select, n_score) -> dict[str, float]:
    """Mean scoring MASE of AutoETS, AutoARIMA and AutoTheta, each alone, on the scoring origins."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    from omnimodel.forecasting import baseline

    kinds = {"AutoETS": AutoETS, "AutoARIMA": AutoARIMA, "AutoTheta": AutoTheta}
    m, s = hierarchy.season_length, hierarchy.all_series()
    n = len(s)
    origins = range(n - h - n_score + 1, n - h + 1)
    out: dict[str, float] = {}
    for label, kind in kinds.items():
        t, c, per_series = time.perf_counter(), cpu(), []
        for node in s.columns:
            y, errs = s[node].to_numpy(float), []
            for o in origins:
                train, test = y[:o], y[o : o + h]
                mm = baseline._usable_season(len(train), m)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    f = kind(season_length=mm).forecast(y=train, h=h)["mean"]
                errs.append(np.mean(np.abs(test - f)) / baseline.mase_scale(train, mm))
            per_series.append(np.mean(errs))
        out[label] = float(np.mean(per_series))
        out[f"{label} cpu"], out[f"{label} wall"] = cpu() - c, time.perf_counter() - t
    return out


def main() -> None:
    t = time.perf_counter()
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401

    t_sm = time.perf_counter() - t
    t = time.perf_counter()
    import statsforecast.models  # noqa: F401

    t_sf = time.perf_counter() - t
    print(f"imports: statsmodels ETS {t_sm:.2f} s, statsforecast {t_sf:.2f} s (wall, not counted below)\n")

    from omnimodel.forecasting import baseline

    rows = []
    for label, hierarchy in series_sets().items():
        settings = SETTINGS["monthly" if hierarchy.season_length == 12 else "quarterly"]
        t, c = time.perf_counter(), cpu()
        mase_before = before(hierarchy, **settings)
        before_wall, before_cpu = time.perf_counter() - t, cpu() - c
        t, c = time.perf_counter(), cpu()
        bt = baseline.backtest(hierarchy, **settings)
        now_wall, now_cpu = time.perf_counter() - t, cpu() - c
        auto = auto_alone(hierarchy, **settings)
        rows.append(
            {
                "series": f"{label}, {len(hierarchy.all_series().columns)}",
                "before cpu s": before_cpu,
                "before wall s": before_wall,
                "now cpu s": now_cpu,
                "now wall s": now_wall,
                "before/now cpu": before_cpu / now_cpu,
                "MASE before": mase_before,
                "MASE now": bt.overall["mase_model"],
                "MASE AutoETS": auto["AutoETS"],
                "MASE AutoARIMA": auto["AutoARIMA"],
                "MASE AutoTheta": auto["AutoTheta"],
                "MASE seasonal naive": bt.overall["mase_seasonal_naive"],
                "AutoARIMA cpu s": auto["AutoARIMA cpu"],
            }
        )
        print(pd.DataFrame([rows[-1]]).T.round(3).to_string(header=False), "\n", flush=True)
    table = pd.DataFrame(rows)
    cells = table.round(3).astype(str)
    print("| " + " | ".join(cells.columns) + " |\n|" + "---|" * len(cells.columns))
    print("\n".join("| " + " | ".join(row) + " |" for row in cells.to_numpy()))


if __name__ == "__main__":
    main()
