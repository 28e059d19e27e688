"""Funnel metrics from a pipeline snapshot: conversion, time in phase, velocity, coverage, slippage, waterfall.

Plain counts and rates as a sales lead reads them (the model's pooled estimates with intervals come from
:meth:`PipelineModel.stage_conversion`). Every function can split by segment, region, channel or product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.funnel.snapshot import UNKNOWN, PipelineSnapshot


def conversion(snapshot: PipelineSnapshot, by: str | None = None) -> pd.DataFrame:
    """Per phase: deals that entered, left, advanced, were lost, are still there; phase and cumulative rates.

    ``to_win`` is the share of closed deals that reached the phase and were won.
    """
    t = snapshot.transitions
    keys = ["stage_rank", "stage"] + ([by] if by else [])
    g = t.groupby(keys, observed=True)["result"]
    out = g.agg(
        entered="size",
        advanced=lambda r: int((r == "advanced").sum()),
        lost=lambda r: int((r == "lost").sum()),
        still_open=lambda r: int((r == "open").sum()),
    ).reset_index()
    out["conversion"] = out["advanced"] / (out["advanced"] + out["lost"]).replace(0, np.nan)
    closed = snapshot.deals[snapshot.deals["outcome"] != "open"]
    rows = []
    for _, row in out.iterrows():
        sel = closed[closed["reached"] >= row["stage_rank"]]
        if by:
            sel = sel[sel[by] == row[by]]
        rows.append((sel["outcome"] == "won").mean() if len(sel) else np.nan)
    out["to_win"] = rows
    return out.sort_values(keys, ignore_index=True)


def time_in_phase(snapshot: PipelineSnapshot) -> pd.DataFrame:
    """Days spent per phase by deals that left it (median, mean, 90th percentile) and the age of open deals."""
    s = snapshot.stays
    done = s[s["exited"]].groupby(["stage_rank", "stage"])["days"]
    out = done.agg(
        left="size", median_days="median", mean_days="mean", p90_days=lambda d: d.quantile(0.9)
    ).reset_index()
    open_age = s[~s["exited"]].groupby("stage_rank")["days"].median().rename("open_median_age")
    return out.merge(open_age, on="stage_rank", how="left")


#: the window velocity is measured over, in days before the as-of date
VELOCITY_WINDOW_DAYS = 90


def velocity(
    snapshot: PipelineSnapshot,
    by: str | None = None,
    measure: str = "amount",
    window_days: int = VELOCITY_WINDOW_DAYS,
) -> pd.DataFrame:
    """Sales velocity: deals won per day, times the typical won value (value per day), every figure from the
    same window, the ``window_days`` before the as-of date (fewer where the data start later).

    The textbook formula, open deals x win rate x value / days to close, takes its figures from different
    windows and assumes every open deal closes within one cycle: on Olist's leads, most of them months old, it
    read 150 won deals a day at the end of May 2018, when 5 a day had been won. Here the win rate is of the deals
    closed in the window, the cycle and value of the deals won in it, and the rate is deals won in it over its
    days. Typical means the median, so a handful of huge deals (see :func:`value_outliers`) does not set it;
    ``measure="deals"`` gives won deals per day only, for data whose amounts cannot carry a value.
    """
    d = snapshot.deals
    end = pd.Timestamp(snapshot.as_of).normalize()
    start = max(end - pd.Timedelta(days=window_days), pd.Timestamp(d["created_date"].min()).normalize())
    days = max((end - start).days, 1)
    groups = [("all", d)] if by is None else list(d.groupby(by))
    rows = []
    for key, part in groups:
        closed = part[
            (part["outcome"] != "open") & (part["closed_date"] > start) & (part["closed_date"] <= end)
        ]
        won = closed[closed["outcome"] == "won"]
        row = {
            by or "group": key,
            "open_deals": int((part["outcome"] == "open").sum()),
            "window_days": days,
            "won_in_window": len(won),
            "win_rate": len(won) / len(closed) if len(closed) else np.nan,
            "median_cycle_days": (won["closed_date"] - won["created_date"]).dt.days.median(),
            "won_deals_per_day": len(won) / days,
        }
        if measure == "amount":
            row["median_won_value"] = won["amount"].median()
            row["velocity_per_day"] = row["won_deals_per_day"] * row["median_won_value"]
        rows.append(row)
    return pd.DataFrame(rows)


def value_outliers(snapshot: PipelineSnapshot, k: float = 3.0) -> pd.DataFrame:
    """Won deals whose amount lies far above the others (beyond the upper quartile plus ``k`` interquartile
    ranges of the log amounts), largest first, with their share of the won value."""
    won = snapshot.deals[(snapshot.deals["outcome"] == "won") & (snapshot.deals["amount"] > 0)]
    logs = np.log(won["amount"].astype(float))
    q1, q3 = logs.quantile([0.25, 0.75])
    out = won[logs > q3 + k * (q3 - q1)].sort_values("amount", ascending=False)
    cols = [c for c in ("opportunity_id", "amount", "closed_date", "source_channel", "region") if c in out]
    out = out[cols].assign(share_of_won_value=out["amount"] / won["amount"].sum())
    return out.reset_index(drop=True)


def coverage(snapshot: PipelineSnapshot, target: float, win_probability: np.ndarray | None = None) -> dict:
    """Open pipeline value against a target: raw coverage, and weighted by win probability when given."""
    open_deals = snapshot.open_deals
    value = open_deals["amount"].fillna(0).to_numpy(float)
    out = {"target": target, "open_value": float(value.sum()), "coverage": float(value.sum() / target)}
    if win_probability is not None:
        weighted = float((value * np.asarray(win_probability)).sum())
        out.update(weighted_value=weighted, weighted_coverage=weighted / target)
    return out


def slippage(snapshot: PipelineSnapshot, by: str = "stage") -> pd.DataFrame:
    """Open deals whose expected close date has passed, by phase or by another deal column (segment, region,
    source_channel, product): the CRM has not moved them yet."""
    o = snapshot.open_deals
    if o["expected_close_date"].isna().all():
        return pd.DataFrame(columns=[by, "open_deals", "overdue", "overdue_value", "overdue_share"])
    overdue = o["expected_close_date"] < snapshot.as_of
    g = o.assign(overdue=overdue, overdue_value=o["amount"].where(overdue, 0)).groupby(by, sort=False)
    out = g.agg(
        open_deals=("overdue", "size"), overdue=("overdue", "sum"), overdue_value=("overdue_value", "sum")
    )
    out["overdue_share"] = out["overdue"] / out["open_deals"]
    return out.reset_index()


def waterfall(before: PipelineSnapshot, after: PipelineSnapshot, by: str | None = None) -> pd.DataFrame:
    """How the open pipeline value moved between two snapshots: start, new, won, lost, advanced, slipped, end;
    in total or per value of a deal column ``by`` (segment, region, source_channel, product).

    Advanced and slipped deals stay in the pipeline (their value does not change it); they are shown for
    steering, with ``counts_in_total`` false.
    """
    b = before.open_deals.set_index("opportunity_id")
    a = after.deals.set_index("opportunity_id")
    then = a.loc[a.index.intersection(b.index)]
    still = then[then["outcome"] == "open"]
    expected = b.loc[still.index, "expected_close_date"]
    steps = [
        ("start", b, 1, True),
        ("new", a[(a["created_date"] > before.as_of) & (a["outcome"] == "open")], 1, True),
        ("won", then[then["outcome"] == "won"], -1, True),
        ("lost", then[then["outcome"] == "lost"], -1, True),
        ("advanced", still[still["reached"] > b.loc[still.index, "reached"]], 1, False),
        ("slipped", still[(expected < after.as_of).to_numpy()], 1, False),
        ("end", after.open_deals, 1, True),
    ]
    rows: list[tuple] = []
    for step, deals, sign, counts in steps:
        value = deals["amount"].fillna(0) * sign
        if by is None:
            rows.append((step, len(deals), value.sum(), counts))
            continue
        for level, part in value.groupby(deals[by].astype(object).fillna("unknown").to_numpy()):
            rows.append((step, level, len(part), part.sum(), counts))
    if by is None:
        return pd.DataFrame(rows, columns=["step", "deals", "value", "counts_in_total"])
    return pd.DataFrame(rows, columns=["step", by, "deals", "value", "counts_in_total"])


DIMENSIONS = ("segment", "region", "source_channel", "product")


def dimensions(snapshot: PipelineSnapshot, open_only: bool = False) -> list[str]:
    """The deal attributes this snapshot can be broken down by (present, and known for some deals)."""
    deals = snapshot.open_deals if open_only else snapshot.deals
    return [d for d in DIMENSIONS if d in deals and (deals[d].notna() & (deals[d] != UNKNOWN)).any()]


def slippage_by_dimension(snapshot: PipelineSnapshot) -> pd.DataFrame:
    """Slippage per level of every dimension in one table (``dimension``, ``level``), most overdue value first
    within each dimension: where slipped deals pile up."""
    frames = [
        slippage(snapshot, by=d)
        .sort_values("overdue_value", ascending=False)
        .rename(columns={d: "level"})
        .assign(dimension=d)
        for d in dimensions(snapshot, open_only=True)
    ]
    if not frames:
        return pd.DataFrame(
            columns=["dimension", "level", "open_deals", "overdue", "overdue_value", "overdue_share"]
        )
    out = pd.concat(frames, ignore_index=True)
    return out[
        ["dimension", "level", *[c for c in out.columns if c not in ("dimension", "level")]]
    ].reset_index(drop=True)


WATERFALL_STEPS = ["start", "new", "won", "lost", "end", "advanced", "slipped"]


def waterfall_by_dimension(before: PipelineSnapshot, after: PipelineSnapshot) -> pd.DataFrame:
    """How each dimension's pipeline value moved between two snapshots: one row per dimension and level, one
    column per step (start, new, won, lost, end add up; advanced and slipped are shown beside)."""
    frames = []
    for d in dimensions(after):
        moved = waterfall(before, after, by=d)
        wide = moved.pivot_table(index=d, columns="step", values="value", aggfunc="sum")
        wide = wide.reindex(columns=WATERFALL_STEPS).fillna(0.0).round(0)
        wide.columns.name = None
        frames.append(wide.rename_axis("level").reset_index().assign(dimension=d))
    if not frames:
        return pd.DataFrame(columns=["dimension", "level", *WATERFALL_STEPS])
    out = pd.concat(frames, ignore_index=True)
    return out[["dimension", "level", *WATERFALL_STEPS]]
