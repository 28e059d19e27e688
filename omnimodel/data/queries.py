"""Feature queries written once in Ibis: they run in whichever engine holds the workspace.

Each function takes a :class:`~omnimodel.data.workspace.Workspace` and returns an Ibis expression (not yet
executed), so the same code runs on DuckDB, PySpark or a warehouse. :data:`QUERY_SET` lists the ones the
engine-parity test and the benchmark run on every backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pandas as pd

from omnimodel.data.workspace import Workspace


def line_revenue(lines: ibis.Table) -> ibis.Value:
    """Net revenue of an order line: quantity x unit price x (1 - discount)."""
    discount = lines.discount.fill_null(0) if "discount" in lines.columns else 0
    return lines.quantity * lines.unit_price * (1 - discount)


#: the one value a customers column takes when the data has no such column (a shop without segments is one)
NOT_IN_DATA = "(not in the data)"


def customer_columns(ws: Workspace, *columns: str) -> ibis.Table:
    """``customers`` with ``customer_id`` and ``columns``; a column the data lacks (segment and region are
    optional) comes as the single value :data:`NOT_IN_DATA`, so analyses by it still run and say so."""
    customers = ws.table("customers")
    values = {c: customers[c] if c in customers.columns else ibis.literal(NOT_IN_DATA) for c in columns}
    return customers.select(customer_id=customers.customer_id, **values)


def attach_columns(ws: Workspace, t: ibis.Table, columns: Sequence[str]) -> ibis.Table:
    """Order lines ``t`` (with ``customer_id`` and ``product_id``) joined with the ``columns`` they lack, from
    customers (an optional one the data lacks, segment or region, as :data:`NOT_IN_DATA`) or products."""
    customers, products = ws.table("customers"), ws.table("products")
    optional = {"segment", "region"}
    cust = [c for c in columns if c not in t.columns and (c in customers.columns or c in optional)]
    if cust:
        t = t.join(customer_columns(ws, *cust), "customer_id")
    prod = [c for c in columns if c not in t.columns]
    unknown = [c for c in prod if c not in products.columns]
    if unknown:
        from omnimodel.exceptions import ConfigError

        raise ConfigError(
            f"level(s) {', '.join(unknown)} are not columns of orders, customers or products",
            fix="use e.g. channel, country, region, segment or category",
        )
    if prod:
        t = t.join(products.select("product_id", *prod), "product_id")
    return t


def sales_lines(
    ws: Workspace, start: str | None = None, end: str | None = None, known_customers: bool = False
) -> ibis.Table:
    """Order lines with their order's columns and net ``revenue``, ordered from ``start`` to ``end``.

    The one query behind every revenue figure. ``start`` and ``end`` are ISO dates (both days included);
    ``known_customers`` keeps only orders with a customer id.

    Examples
    --------
    >>> sales_lines(ws, "2025-01-01", "2025-12-31").revenue.sum().execute()  # doctest: +SKIP
    """
    lines, orders = ws.table("order_lines"), ws.table("orders")
    t = lines.join(orders, "order_id")
    if known_customers:
        t = t.filter(t.customer_id.notnull())
    if start:
        t = t.filter(t.order_date >= ibis.timestamp(pd.Timestamp(start)))
    if end:
        t = t.filter(t.order_date < ibis.timestamp(pd.Timestamp(end) + pd.Timedelta(days=1)))
    return t.mutate(revenue=line_revenue(t))


def channel_kinds(ws: Workspace) -> dict[str, str] | None:
    """What kind each channel is (online, offline, assisted) as the workspace's ``channels`` table declares;
    None when it declares none (the online/offline analyses then say so). A demo workspace built before the
    table existed gets the demo's kinds."""
    if ws.has("channels"):
        t = ws.table("channels").execute()
        return dict(zip(t["channel"].astype(str), t["kind"].astype(str), strict=True))
    if ws.meta().get("adapter") == "demo":
        from omnimodel.data.demo import CHANNEL_KIND

        return dict(CHANNEL_KIND)
    return None


def _sales_lines(ws: Workspace) -> ibis.Table:
    t = sales_lines(ws)
    cost = t.quantity * t.unit_cost.fill_null(0) if "unit_cost" in t.columns else ibis.literal(0.0)
    return t.mutate(cost=cost)


def customer_orders(ws: Workspace) -> ibis.Table:
    """Per customer: orders, units, revenue, margin, first and last order, distinct channels."""
    t = _sales_lines(ws).filter(lambda t: t.customer_id.notnull())
    return t.group_by("customer_id").aggregate(
        orders=t.order_id.nunique(),
        units=t.quantity.sum(),
        revenue=t.revenue.sum(),
        margin=(t.revenue - t.cost).sum(),
        first_order=t.order_date.min(),
        last_order=t.order_date.max(),
        channels=t.channel.nunique(),
    )


def revenue_by_channel_country_month(ws: Workspace) -> ibis.Table:
    """Revenue, margin, orders and customers by channel, country and month."""
    t = _sales_lines(ws)
    t = t.mutate(month=t.order_date.truncate("M").cast("date"))
    return t.group_by(["channel", "country", "month"]).aggregate(
        revenue=t.revenue.sum(),
        margin=(t.revenue - t.cost).sum(),
        orders=t.order_id.nunique(),
        customers=t.customer_id.nunique(),
    )


def channel_mix(ws: Workspace) -> ibis.Table:
    """Orders per customer and channel (the input of channel-mix shares and preferred channel)."""
    o = ws.table("orders").filter(lambda t: t.customer_id.notnull())
    return o.group_by(["customer_id", "channel"]).aggregate(orders=o.count())


def category_pairs(ws: Workspace) -> ibis.Table:
    """Orders containing each pair of categories (the support counts of basket rules)."""
    lines, products = ws.table("order_lines"), ws.table("products")
    cats = lines.join(products, "product_id").select("order_id", "category").distinct()
    right = cats.view()
    pairs = cats.join(right, [cats.order_id == right.order_id, cats.category < right.category])
    pairs = pairs.select(first=cats.category, second=right.category, order_id=cats.order_id)
    return pairs.group_by(["first", "second"]).aggregate(orders=pairs.count())


def returns_by_category_channel(ws: Workspace) -> ibis.Table:
    """Units sold and returned by category and channel."""
    lines, orders, products, returns = (ws.table(n) for n in ("order_lines", "orders", "products", "returns"))
    sold = lines.join(orders, "order_id").join(products, "product_id")
    sold = sold.group_by(["category", "channel"]).aggregate(units=sold.quantity.sum())
    ret = returns.join(lines, [returns.order_id == lines.order_id, returns.line_no == lines.line_no])
    ret = ret.join(orders, ret.order_id == orders.order_id).join(products, "product_id")
    ret = ret.group_by(["category", "channel"]).aggregate(returned=ret.quantity.sum())
    out = sold.left_join(ret, ["category", "channel"])
    return out.select(sold.category, sold.channel, sold.units, returned=out.returned.fill_null(0))


def stage_reach(ws: Workspace) -> ibis.Table:
    """Opportunities that reached each stage, by segment and region (funnel counts)."""
    ev, opp = ws.table("stage_events"), ws.table("opportunities")
    t = ev.join(opp.select("opportunity_id", "segment", "region"), "opportunity_id")
    return t.group_by(["stage", "segment", "region"]).aggregate(opportunities=t.opportunity_id.nunique())


QUERY_SET = {
    "customer_orders": customer_orders,
    "revenue_by_channel_country_month": revenue_by_channel_country_month,
    "channel_mix": channel_mix,
    "category_pairs": category_pairs,
    "returns_by_category_channel": returns_by_category_channel,
    "stage_reach": stage_reach,
}
