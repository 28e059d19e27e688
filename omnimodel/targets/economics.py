"""Unit economics per cell (e.g. channel x region) for one year: revenue, gross margin rate and return rate.

Computed in the engine from order lines, orders, customers, products and returns. The margin rate is
(revenue - cost of goods) / revenue after discounts; the return rate is the revenue of returned units over
revenue, attributed to the year of the order. Cells with unknown unit costs get a missing margin rate, never 0.
"""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.queries import attach_columns, line_revenue
from omnimodel.data.workspace import Workspace


def cell_economics(ws: Workspace, year: int, by: tuple[str, ...] = ("channel", "region")) -> pd.DataFrame:
    """Per value combination of ``by`` (columns of orders, customers or products) in ``year``: revenue,
    cost of goods, returned revenue, ``margin_rate`` and ``return_rate`` (0 without a returns table: profits are
    then before returns, which the plan says)."""
    lines, orders = ws.table("order_lines"), ws.table("orders")
    t = lines.join(orders.select("order_id", "customer_id", "order_date", "channel"), "order_id")
    t = attach_columns(ws, t, by)
    t = t.filter(t.order_date.year() == year)
    t = t.mutate(revenue=line_revenue(t), price=line_revenue(t) / t.quantity)
    if ws.has("returns"):
        returns = ws.table("returns")
        returned = returns.group_by(["order_id", "line_no"]).aggregate(returned_units=returns.quantity.sum())
        t = t.left_join(returned, ["order_id", "line_no"])
        t = t.mutate(returned=t.returned_units.fill_null(0).clip(upper=t.quantity) * t.price)
    else:
        t = t.mutate(returned=ibis.literal(0.0))
    if "unit_cost" not in t.columns:  # an export without costs: margins unknown, never 0
        t = t.mutate(unit_cost=ibis.null("float64"))
    t = t.mutate(cogs=t.quantity * t.unit_cost)
    out = (
        t.group_by(list(by))
        .aggregate(
            revenue=t.revenue.sum(),
            cogs=t.cogs.sum(),
            costed=t.unit_cost.count(),
            lines=t.count(),
            returned=t.returned.sum(),
        )
        .execute()
    )
    for c in by:
        out[c] = out[c].fillna("unknown").astype(str)
    full_costs = out["costed"] == out["lines"]
    out["margin_rate"] = ((out["revenue"] - out["cogs"]) / out["revenue"]).where(full_costs)
    out["return_rate"] = out["returned"] / out["revenue"]
    return out.drop(columns=["costed"]).sort_values(list(by), ignore_index=True)
