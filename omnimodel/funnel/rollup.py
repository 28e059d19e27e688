"""The forecast rolled up by team, manager and owner, each against its own target.

A sales leader's forecast call goes owner by owner: what each one's deals will book (P10, P50, P90 and mean,
from the same forecast draws, so managers and teams add up to the total draw by draw), the amounts of their
open deals by forecast category (commit, best case, pipeline), and the chance to reach their target. A target is
the owner's quota for the period where the optional ``quotas`` table gives one; otherwise the owner's share of
the goal: the company's target times the owner's share of the bookings of the last four complete periods. A
manager's and a team's target is the sum of their owners'.

Owner and manager names are people's names: :func:`pseudonymise` replaces them for reports that must not show
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.data.periods import parse_period
from omnimodel.funnel.forecast import BookingsForecast
from omnimodel.funnel.snapshot import TEAM, PipelineSnapshot

if TYPE_CHECKING:
    from omnimodel.data.workspace import Workspace

#: the levels of the roll-up, widest first
LEVELS = ("team", "manager", "owner")
SHARE_PERIODS = 4


def quotas_of(ws: Workspace) -> pd.DataFrame | None:
    """The workspace's optional ``quotas`` table (owner, period, quota), or None."""
    return ws.table("quotas").execute() if ws.has("quotas") else None


def owner_targets(
    snapshot: PipelineSnapshot,
    period: str,
    measure: str,
    goal: float,
    quotas: pd.DataFrame | None = None,
    where: dict | None = None,
) -> pd.DataFrame:
    """Per owner (of the deals of ``where``): target and its source ("quota", or "share of the goal"), and the
    owner's manager and team."""
    from omnimodel.funnel.forecast import _keep

    deals = _keep(snapshot.deals, {k: v for k, v in (where or {}).items() if v is not None})
    owners = deals[[c for c in TEAM if c in deals]].drop_duplicates("owner").set_index("owner")
    p = parse_period(period)
    given = pd.Series(dtype=float)
    if quotas is not None and len(quotas):
        given = quotas[quotas["period"].astype(str) == str(p)].groupby("owner")["quota"].sum()
        given = given.reindex(owners.index).dropna()
        if len(given) == len(owners):
            return owners.assign(target=given, source="quota")
    # the last complete periods of the same length before the as-of date
    current = pd.Period(snapshot.as_of, p.freq)
    last = current if snapshot.as_of.normalize() >= current.end_time.normalize() else current - 1
    window_start, window_end = (last - SHARE_PERIODS + 1).start_time, last.end_time
    won = deals[(deals["outcome"] == "won") & deals["closed_date"].between(window_start, window_end)]
    value = pd.Series(1.0, index=won.index) if measure == "deals" else won["amount"].fillna(0.0)
    by_owner = value.groupby(won["owner"]).sum().reindex(owners.index, fill_value=0.0)
    share = by_owner / by_owner.sum() if by_owner.sum() > 0 else by_owner
    source = f"share of the goal (bookings {last - SHARE_PERIODS + 1} to {last})"
    if not len(given):
        return owners.assign(target=goal * share, source=source)
    # quotas for some owners only: the others' targets are their share of the goal, so a team's covers all of it
    target = (goal * share).where(~owners.index.isin(given.index), given.reindex(owners.index))
    missing = len(owners) - len(given)
    return owners.assign(
        target=target, source=f"quota for {len(given)} owners, {source} for the {missing} without one"
    )


def rollup(fc: BookingsForecast, targets: pd.DataFrame) -> pd.DataFrame:
    """One row per team, manager and owner (those the forecast was split by): ``level``, ``name``, the team and
    manager above it, P10/P50/P90/mean, the amounts of open deals by forecast category, target and the chance
    to reach it (``targets``: :func:`owner_targets`)."""
    people = targets.reset_index()  # owner, manager, team, target
    deals = fc.deals.assign(amount=fc.deals["amount"].fillna(0.0))
    rows = []
    for level in (lv for lv in LEVELS if lv in fc.by_group and lv in people):
        target = people.groupby(people[level].astype(str))["target"].sum(min_count=1)
        category = deals.pivot_table(
            index=level, columns="category", values="amount", aggfunc="sum", fill_value=0.0
        )
        for name, draws in fc.by_group[level].items():
            x = draws.to_numpy()
            members = people[people[level].astype(str) == str(name)]
            goal = float(target.get(str(name), np.nan))
            rows.append(
                {
                    "level": level,
                    "name": name,
                    "team": _first(members, "team") if level != "team" else None,
                    "manager": _first(members, "manager") if level == "owner" else None,
                    **fc.quantiles(x),
                    **{
                        f"{c.replace(' ', '_')}_amount": float(category[c].get(name, 0.0))
                        if c in category
                        else 0.0
                        for c in ("commit", "best case", "pipeline")
                    },
                    "target": goal,
                    "p_hit": float((x >= goal).mean()) if goal > 0 else None,
                }
            )
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["level"] = pd.Categorical(out["level"], categories=list(LEVELS), ordered=True)
    return out.sort_values(["level", "p50"], ascending=[True, False], ignore_index=True)


def _first(frame: pd.DataFrame, column: str):
    return frame[column].iloc[0] if column in frame and len(frame) else None


def pseudonymise(
    frame: pd.DataFrame, everyone: pd.DataFrame | None = None, columns: Sequence[str] = ("owner", "manager")
) -> pd.DataFrame:
    """``frame`` with people's names replaced by "Owner 01", "Manager 02" ... in the named columns and in ``name``
    where ``level`` says it is one. Numbered by sorted name among ``everyone``'s (e.g. the snapshot's deals),
    so the same person has the same pseudonym in every table; by the frame's own names without it."""
    out = frame.copy()
    for column in columns:
        values = set()
        source = everyone if everyone is not None and column in everyone else out
        if column in source:
            values |= set(source[column].dropna().astype(str))
        if everyone is None and "level" in out:
            values |= set(out.loc[out["level"] == column, "name"].astype(str))
        width = max(2, len(str(len(values))))
        names = {v: f"{column.capitalize()} {i:0{width}d}" for i, v in enumerate(sorted(values), 1)}
        if column in out:
            out[column] = out[column].map(lambda v, m=names: m.get(str(v), v) if pd.notna(v) else v)
        if "level" in out:
            mask = out["level"] == column
            out.loc[mask, "name"] = out.loc[mask, "name"].astype(str).map(lambda v, m=names: m.get(v, v))
    return out
