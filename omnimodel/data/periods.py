"""Periods from the data itself: every default date of a report comes from here, never from the demo's dates.

The data runs through its last order (or the ``data_through`` date an ingest recorded); a year, quarter or
month counts as complete when the data reaches its last day.
"""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ParameterError, WorkspaceError


def parse_period(period: str) -> pd.Period:
    """A forecast period as text: a quarter ``2026Q1``, a month ``2026-01`` or a year ``2026``."""
    text = str(period).strip().upper()
    freq = "Q" if "Q" in text else ("M" if "-" in text else "Y")
    try:
        return pd.Period(text, freq=freq)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"period {period!r} is not a quarter, month or year", fix="write e.g. 2026Q1, 2026-01 or 2026"
        ) from exc


def data_span(ws: Workspace) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First order day and the day the data runs through (``data_through`` from the ingest, else the last
    order day)."""
    if not ws.has("orders"):
        raise WorkspaceError(
            "the workspace has no orders: no period to take defaults from",
            table="orders",
            fix="ingest an order export, or give the period parameters explicitly",
        )
    t = ws.table("orders")
    span = t.aggregate(first=t.order_date.min(), last=t.order_date.max()).execute().iloc[0]
    if pd.isna(span["first"]):
        raise WorkspaceError("the orders table is empty", table="orders", fix="ingest an order export")
    through = ws.meta().get("data_through")
    last = pd.Timestamp(through) if through else pd.Timestamp(span["last"])
    return pd.Timestamp(span["first"]).normalize(), last.normalize()


def latest_complete_year(ws: Workspace) -> int | None:
    """The last calendar year the data covers from its first month to its end (None when not even one).

    A year whose data starts in, say, December is not a year of data (UCI Online Retail starts 2010-12-01):
    the default window is then the last 365 days instead. A year ends with the data when its last order
    day is no further from 31 December than the data's usual gap between order days (a last order on 30
    December of a shop that sells daily ends its year; one on 9 December does not); a ``data_through`` date
    from the ingest says it outright.
    """
    first, through = data_span(ws)
    year_end = pd.Timestamp(f"{through.year}-12-31")
    ends = through >= year_end or (
        not ws.meta().get("data_through") and (year_end - through).days <= usual_gap_days(ws, through)
    )
    year = through.year if ends else through.year - 1
    return year if first <= pd.Timestamp(f"{year}-01-31") else None


def covered_span(ws: Workspace) -> tuple[pd.Timestamp, pd.Timestamp]:
    """:func:`data_span`, its end moved to 31 December where :func:`latest_complete_year` counts the last year
    whole (a last order on 30 December ends the year: growth over that year may be said), and its start to 1
    January where the first order day is within the data's usual gap of it."""
    first, through = data_span(ws)
    if through.month == 12 and latest_complete_year(ws) == through.year:
        through = pd.Timestamp(f"{through.year}-12-31")
    year_start = pd.Timestamp(f"{first.year}-01-01")
    if first != year_start and (first - year_start).days <= usual_gap_days(ws, through):
        first = year_start  # orders from 3 January begin the year as much as orders to 30 December end it
    return first, through


def usual_gap_days(ws: Workspace, through: pd.Timestamp, days: int = 90) -> int:
    """The usual gap between order days in the ``days`` before ``through`` (the 90th percentile, 1 to 7)."""
    t = ws.table("orders")
    start = ibis.timestamp((through - pd.Timedelta(days=days)).isoformat())
    recent = t.filter(t.order_date >= start).select(day=t.order_date.date()).distinct().execute()["day"]
    gaps = pd.Series(pd.to_datetime(recent).sort_values().diff().dt.days.dropna())
    return int(min(7, max(1, gaps.quantile(0.9)))) if len(gaps) else 1


def default_window(ws: Workspace) -> tuple[str, str]:
    """Start and end (ISO dates) of the latest complete year, else of the last 365 days of data."""
    first, through = data_span(ws)
    year = latest_complete_year(ws)
    if year is not None:
        return f"{year}-01-01", f"{year}-12-31"
    return str(max(first, through - pd.Timedelta(days=364)).date()), str(through.date())


def default_holdout(ws: Workspace) -> tuple[str, str]:
    """(calibration end, holdout end) for a lifetime-value check: the last year of data is held out when there
    are at least two years, else the last third of the span."""
    first, through = data_span(ws)
    days = (through - first).days
    held = 365 if days >= 730 else max(1, days // 3)
    return str((through - pd.Timedelta(days=held)).date()), str(through.date())


def default_target_year(ws: Workspace) -> int:
    """The year to set targets for: the one after the latest complete year of order history."""
    year = latest_complete_year(ws)
    if year is None:
        first, through = data_span(ws)
        raise ParameterError(
            f"the orders run from {first.date()} to {through.date()}: not one complete calendar year to plan from",
            fix="targets need a complete prior year; give `year` explicitly once the data covers one",
        )
    return year + 1


def next_quarter(as_of: pd.Timestamp | str) -> str:
    """The first quarter that starts after ``as_of`` (the pipeline forecast's default period)."""
    return str(pd.Timestamp(as_of).to_period("Q") + 1)


def window(ws: Workspace, start: str | None, end: str | None) -> tuple[str, str]:
    """A report's date window: the one given, else :func:`default_window` (either end may be given alone)."""
    default_start, default_end = default_window(ws)
    return start or default_start, end or default_end


def holdout(ws: Workspace, calibration_end: str | None, holdout_end: str | None) -> tuple[str, str]:
    """A lifetime-value check's (calibration end, holdout end): the ones given, else :func:`default_holdout`."""
    default_cal, default_end = default_holdout(ws)
    return calibration_end or default_cal, holdout_end or default_end


def target_year(ws: Workspace, year: int | None) -> int:
    """The target year given, else :func:`default_target_year`."""
    return int(year) if year else default_target_year(ws)
