"""Overviews of what a workspace holds: the "data used" section every notebook starts with.

All queries are Ibis expressions, so they run in the engine (DuckDB, Spark, ...) and return small frames.
"""

from __future__ import annotations

import pandas as pd

from omnimodel.data.queries import customer_columns, sales_lines
from omnimodel.data.schema import PERSONAL_COLUMNS, TABLES
from omnimodel.data.workspace import Workspace


def redact(frame: pd.DataFrame, allow_personal: bool = False) -> pd.DataFrame:
    """Drop personal columns (names, e-mails, birthdays, addresses, ...) unless explicitly allowed."""
    if allow_personal:
        return frame
    return frame.drop(columns=[c for c in frame.columns if c in PERSONAL_COLUMNS])


def workspace_summary(ws: Workspace) -> pd.DataFrame:
    """One row per canonical table: rows, columns present, date range and what it is for.

    Examples
    --------
    >>> workspace_summary(Workspace("data/demo.duckdb"))  # doctest: +SKIP
    """
    rows = []
    for name in ws.tables():
        t = ws.table(name)
        spec = TABLES[name]
        # Not a personal date: the customers' span is when they were acquired, never their birth dates.
        dates = [
            c.name
            for c in spec.columns
            if c.dtype in ("date", "timestamp") and c.name in t.columns and not c.personal
        ]
        first = last = None
        if dates:
            agg = t.aggregate(lo=t[dates[0]].min(), hi=t[dates[0]].max()).execute()
            first, last = agg["lo"].iloc[0], agg["hi"].iloc[0]
        rows.append(
            {
                "table": name,
                "rows": int(t.count().execute()),
                "columns": f"{sum(c in t.columns for c in spec.column_names)} of {len(spec.columns)}",
                "from": pd.Timestamp(first).date() if first is not None and pd.notna(first) else None,
                "to": pd.Timestamp(last).date() if last is not None and pd.notna(last) else None,
                "serves": spec.serves,
            }
        )
    return pd.DataFrame(rows)


def sales_by_month(
    ws: Workspace,
    by: str = "channel",
    start: str | None = None,
    end: str | None = None,
    region: str | None = None,
    complete_only: bool = False,
) -> pd.DataFrame:
    """Monthly orders, revenue and gross margin by a column of ``orders`` (channel, country) or of customers.

    ``complete_only`` leaves out a first or last month that the data or the window covers only in part (orders
    from the 9th, or through the 20th): on a chart it would look like a slump.

    Parameters
    ----------
    by : str
        ``channel``, ``country``, or a ``customers`` column such as ``segment`` or ``region``.
    start, end : str, optional
        ISO dates bounding the order date.
    region : str, optional
        Keep only customers of this region.
    """
    t = sales_lines(ws, start, end)
    needs_customers = by not in ws.table("orders").columns or region is not None
    if needs_customers:
        wanted = dict.fromkeys(c for c in (by, "region") if c not in ws.table("orders").columns)
        customers = customer_columns(ws, *wanted)
        t = t.left_join(customers, "customer_id")
    if region:
        t = t.filter(t.region == region)
    cost = (t.quantity * t.unit_cost.fill_null(0)) if "unit_cost" in t.columns else 0
    t = t.mutate(month=t.order_date.truncate("M"), cost=cost)
    agg = t.group_by(["month", by]).aggregate(
        orders=t.order_id.nunique(), revenue=t.revenue.sum(), margin=(t.revenue - t.cost).sum()
    )
    out = agg.order_by(["month", by]).execute()
    out["month"] = pd.to_datetime(out["month"])
    if complete_only and len(out):
        from omnimodel.data.periods import data_span

        first, through = data_span(ws)
        lo = max(first, pd.Timestamp(start)) if start else first
        hi = min(through, pd.Timestamp(end)) if end else through
        month_end = out["month"] + pd.offsets.MonthEnd(0)
        out = out[(out["month"] >= lo) & (month_end <= hi)].reset_index(drop=True)
    return out
