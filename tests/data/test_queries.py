"""The one order-line revenue query agrees with hand-written SQL, in any date window."""

import duckdb
import pytest

from omnimodel import Workspace
from omnimodel.data import overview
from omnimodel.data.queries import sales_lines


@pytest.mark.parametrize("start,end", [(None, None), ("2024-01-01", "2024-12-31"), ("2025-03-15", None)])
def test_sales_lines_matches_sql(demo_workspace, start, end):
    where = []
    if start:
        where.append(f"o.order_date >= TIMESTAMP '{start}'")
    if end:
        where.append(f"o.order_date < TIMESTAMP '{end}' + INTERVAL 1 DAY")
    sql = (
        "SELECT sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0))), count(*) "
        "FROM order_lines l JOIN orders o USING (order_id)"
        + (" WHERE " + " AND ".join(where) if where else "")
    )
    con = duckdb.connect(str(demo_workspace), read_only=True)
    revenue, lines = con.execute(sql).fetchone()
    con.close()
    with Workspace(demo_workspace) as ws:
        t = sales_lines(ws, start, end)
        got = t.aggregate(revenue=t.revenue.sum(), lines=t.count()).execute().iloc[0]
        by_month = overview.sales_by_month(ws, "channel", start, end)
    assert got["lines"] == lines
    assert got["revenue"] == pytest.approx(revenue, rel=1e-9)
    assert by_month["revenue"].sum() == pytest.approx(revenue, rel=1e-9)


def test_workspace_channels_are_the_datas_own(demo_workspace):
    with Workspace(demo_workspace) as ws:
        channels = ws.channels()
        orders = set(ws.table("orders").channel.execute())
    assert channels == sorted(channels) and orders <= set(channels)


def test_charted_months_leave_out_partial_ones(demo_workspace):
    with Workspace(demo_workspace) as ws:
        every = overview.sales_by_month(ws, "channel", "2024-03-15", "2024-06-20")
        whole = overview.sales_by_month(ws, "channel", "2024-03-15", "2024-06-20", complete_only=True)

    def months(frame):
        return sorted(frame["month"].dt.strftime("%Y-%m").unique())

    assert months(every) == ["2024-03", "2024-04", "2024-05", "2024-06"]
    assert months(whole) == ["2024-04", "2024-05"]
    kept = every[every["month"].dt.strftime("%Y-%m").isin(["2024-04", "2024-05"])]
    assert whole["revenue"].sum() == pytest.approx(kept["revenue"].sum())
