"""How the baseline's model choice could be made: variants of choosing origins and pooling, on the same fits
(issue 17, goal 2, accuracy).

Every candidate of ``omnimodel.forecasting.models`` is fitted once at every feasible origin of every series (the
demo's 25 monthly series, the Australian visitor-nights and accommodation hierarchies); each variant then only
re-reads that table, so the variants are compared on identical forecasts:

- ``k`` choosing origins just before the scoring ones, ``step`` periods apart (step 1: consecutive, as shipped;
  step = horizon: forecast windows that do not overlap);
- chosen per ``series`` (as shipped), per hierarchy ``level``, or per series ``shrunk`` half-way to its level's
  mean;
- ``top1``: the best candidate; ``top2``: the mean MASE of the two best (an upper bound, by convexity, on the
  MASE of their averaged forecast).

Scoring origins and horizons as ``benchmarks/baseline_backtest.py`` (demo h 3 with 6 scoring origins, AU h 4
with 8). Mean MASE over series on the scoring origins. Reference, from that script: AutoETS 1.064 on visitor
nights, AutoTheta 1.086 on accommodation, the shipped choice 0.575 on the demo.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/baseline_choice.py`` (about 2 minutes).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from baseline_backtest import SETTINGS, cpu, series_sets

VARIANTS = [(4, 1), (12, 1), (20, 1), (4, "h"), (6, "h"), (8, "h")]


def all_fits(hierarchy, h: int) -> pd.DataFrame:
    """MASE of every candidate at every origin from 2 seasons + 4 periods of training on."""
    from omnimodel.forecasting import baseline, models

    m, series = hierarchy.season_length, hierarchy.all_series()
    rows = []
    for node in series.columns:
        y = series[node].to_numpy(float)
        for o in range(max(8, m + 4), len(y) - h + 1):
            train, test = y[:o], y[o : o + h]
            scale = baseline.mase_scale(train, models.usable_season(len(train), m))
            for name in models.candidates(train, m):
                try:
                    f, _ = models.forecast(name, train, h, m)
                except Exception:  # as in the backtest: a model that cannot be fitted does not compete
                    continue
                rows.append((node, o, name, float(np.mean(np.abs(test - f))) / scale))
    out = pd.DataFrame(rows, columns=["node", "origin", "model", "mase"])
    out["depth"] = out["node"].map(hierarchy.nodes().set_index("node")["depth"])
    out.attrs["n"] = len(series)
    return out


def score(fits: pd.DataFrame, h: int, n_score: int, k: int, step: int, by: str, top: int) -> float:
    """Mean scoring MASE when the choice uses ``k`` origins ``step`` apart before the scoring ones."""
    n = fits.attrs["n"]
    scoring = list(range(n - h - n_score + 1, n - h + 1))
    choosing = [scoring[0] - step * (i + 1) for i in range(k)]
    chosen = fits[fits["origin"].isin(choosing)]
    means = {}
    for node, part in chosen.groupby(
        "node"
    ):  # as baseline._comparable: models of the last origin, equal terms
        last = set(part.loc[part["origin"] == part["origin"].max(), "model"])
        per_origin = part.groupby("origin")["model"].agg(set)
        origins = [o for o, present in per_origin.items() if last <= present]
        part = part[part["model"].isin(last) & part["origin"].isin(origins)]
        means[node] = part.groupby("model")["mase"].mean()
    table = pd.DataFrame(means).T
    depth = fits.groupby("node")["depth"].first().reindex(table.index)
    level = table.groupby(depth).transform("mean")
    table = {"series": table, "level": level, "shrunk": (table + level) / 2}[by]
    at = fits[fits["origin"].isin(scoring)].pivot_table(
        index=["node", "origin"], columns="model", values="mase"
    )
    return float(
        np.mean(
            [
                at.loc[node][row.dropna().nsmallest(top).index].mean(axis=1).mean()
                for node, row in table.iterrows()
            ]
        )
    )


def main() -> None:
    warnings.simplefilter("ignore")
    rows = []
    for name, hierarchy in series_sets().items():
        s = SETTINGS["monthly" if "monthly" in name else "quarterly"]
        wall, c0 = time.perf_counter(), cpu()
        fits = all_fits(hierarchy, s["h"])
        print(
            f"{name}: {len(fits):,} fits in {time.perf_counter() - wall:.1f} s wall, {cpu() - c0:.1f} s CPU"
        )
        for k, step in VARIANTS:
            for by in ("series", "level", "shrunk"):
                rows.append(
                    {
                        "series": name,
                        "choosing origins": f"{k}, {'consecutive' if step == 1 else f'{step} apart'}",
                        "chosen per": by,
                        **{
                            f"top{t}": score(
                                fits, s["h"], s["n_score"], k, s["h"] if step == "h" else step, by, t
                            )
                            for t in (1, 2)
                        },
                    }
                )
    table = pd.DataFrame(rows)
    wide = table.pivot_table(
        index=["choosing origins", "chosen per"], columns="series", values=["top1", "top2"]
    )
    print(wide.round(3).to_string())


if __name__ == "__main__":
    main()
