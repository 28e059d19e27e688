"""How good the recorded forecasts were, and how early they were right.

Every forecast in the ledger (:mod:`omnimodel.funnel.ledger`) of a period that has closed by the snapshot's
date is scored against what the period booked: the P50's error (also as a share of the actual), whether the
P10-P90 range held the actual, the PIT (the forecast's own chance of a result below the actual: spread evenly
between 0 and 1 when the ranges are honest) and the CRPS (from the 99 recorded quantiles, by
``scoringrules.crps_quantile``; lower is better, in the measure's unit). Grouped by how many days before the
period's end each forecast was made, the trend says how early the forecast was right.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.data.periods import parse_period
from omnimodel.funnel import ledger
from omnimodel.funnel.forecast import booked_in
from omnimodel.funnel.snapshot import PipelineSnapshot

#: days before the period's end, as bands of the trend
BANDS = (0, 7, 30, 60, 90, 180, 365, 10_000)


def pit(actual: float, quantiles: np.ndarray) -> float:
    """The forecast's chance of a result below ``actual``, read from its quantiles at :data:`ledger.LEVELS`:
    the middle of the step between the quantiles around it (0.5 % below the first, 99.5 % above the last)."""
    q = np.asarray(quantiles, dtype=float)
    below, ties = (q < actual).sum(), (q == actual).sum()
    return float((below + ties / 2 + 0.5) / (len(q) + 1))


def crps(actual: float, quantiles: np.ndarray) -> float:
    """CRPS of a forecast given by its quantiles at :data:`ledger.LEVELS` (the mean pinball loss, doubled)."""
    import scoringrules

    return float(
        scoringrules.crps_quantile(float(actual), np.asarray(quantiles, float), np.asarray(ledger.LEVELS))
    )


def scores(
    path: str | Path | None, snapshot: PipelineSnapshot, workspace: str, where: dict | None = None
) -> pd.DataFrame:
    """One row per recorded forecast (of the whole pipeline, or the slice ``where``) of a period closed by the
    snapshot's date: period, as-of date, days ahead, P10/P50/P90, actual, error, APE, inside P10-P90, PIT,
    CRPS."""
    recorded = ledger.read(path)
    recorded = recorded[
        (recorded["group_by"] == "total")
        & (recorded["slice"] == ledger.slice_name(where))
        & (recorded["workspace"] == workspace)
    ]
    rows = []
    for r in recorded.itertuples():
        p = parse_period(r.period)
        end = p.end_time.normalize()
        if end > snapshot.as_of:
            continue  # the period has not closed yet
        actual = booked_in(snapshot, r.period, r.measure, where)
        rows.append(
            {
                "period": r.period,
                "as_of": pd.Timestamp(r.as_of),
                "days_ahead": (end - pd.Timestamp(r.as_of)).days,
                "measure": r.measure,
                "p10": r.p10,
                "p50": r.p50,
                "p90": r.p90,
                "actual": actual,
                "error": r.p50 - actual,
                "ape": abs(r.p50 - actual) / actual if actual else np.nan,
                "inside_p10_p90": bool(r.p10 <= actual <= r.p90),
                "pit": pit(actual, r.quantiles),
                "crps": crps(actual, r.quantiles),
                "run_id": r.run_id,
            }
        )
    columns = ["period", "as_of", "days_ahead", "measure", "p10", "p50", "p90", "actual", "error", "ape"]
    columns += ["inside_p10_p90", "pit", "crps", "run_id"]
    return pd.DataFrame(rows, columns=columns).sort_values(["period", "as_of"], ignore_index=True)


def trend(scored: pd.DataFrame) -> pd.DataFrame:
    """The scores by how far ahead the forecasts were made (bands of days before the period's end): how many,
    median and mean APE, the share whose P10-P90 held the actual, mean PIT and mean CRPS."""
    if scored.empty:
        return pd.DataFrame(columns=["days_ahead", "recorded", "median_ape", "mape", "coverage_p10_p90"])
    labels = [
        f"{lo}-{hi - 1} days" if hi < BANDS[-1] else f"{lo}+ days" for lo, hi in itertools.pairwise(BANDS)
    ]
    band = pd.cut(scored["days_ahead"], list(BANDS), right=False, labels=labels)
    out = scored.groupby(band, observed=True).agg(
        recorded=("ape", "size"),
        median_ape=("ape", "median"),
        mape=("ape", "mean"),
        coverage_p10_p90=("inside_p10_p90", "mean"),
        mean_pit=("pit", "mean"),
        crps=("crps", "mean"),
    )
    out.index.name = "days_ahead"
    return out.iloc[::-1].reset_index()  # earliest forecasts first, as time runs
