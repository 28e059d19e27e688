"""What the lifetime-value model reads: per-customer sufficient statistics, computed in the engine.

Purchases (repeat purchases ``x``, time of the last ``t_x`` and time observed ``T``, in years), the average
repeat order value *before* returns (the spend model's input: every repeat buyer has one, even one who sent
everything back), and what turns revenue into profit: the order lines bought and sent back (the returns model's
input), the cost of goods as a share of revenue, and the cost to serve as a share of revenue over the channels
the customer bought through. Returns are refunded in full at the price paid.
"""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.queries import channel_kinds, sales_lines
from omnimodel.data.workspace import Workspace

YEAR = 365.25
MONEY = "decimal(38, 6)"  # exact sums of money, whatever order the engine adds them in
#: cost to serve (fulfilment, fees, sales staff) as a share of revenue by channel kind, used for a channel the
#: goals do not price: rough shares of European omnichannel retail; set yours in goals.yaml's channel_cost
DEFAULT_COST_TO_SERVE = {"online": 0.12, "offline": 0.20, "assisted": 0.15, "unknown": 0.15}


def cost_to_serve(ws: Workspace, channel_cost: dict[str, float] | None = None) -> pd.DataFrame:
    """Per channel of the orders: the cost to serve as a share of revenue and where it came from (the goals'
    ``channel_cost``, its ``default`` entry, or :data:`DEFAULT_COST_TO_SERVE` by the channel's kind)."""
    given = dict(channel_cost or {})
    kinds = channel_kinds(ws) or {}
    channels = sorted(
        ws.table("orders").select("channel").distinct().execute()["channel"].dropna().astype(str)
    )
    rows = []
    for ch in channels:
        if ch in given:
            rows.append((ch, float(given[ch]), "goals"))
        elif "default" in given:
            rows.append((ch, float(given["default"]), "goals (default)"))
        else:
            kind = kinds.get(ch, "unknown")
            rows.append(
                (ch, DEFAULT_COST_TO_SERVE.get(kind, DEFAULT_COST_TO_SERVE["unknown"]), f"default ({kind})")
            )
    return pd.DataFrame(rows, columns=["channel", "cost_to_serve", "source"])


def _costed_lines(ws: Workspace) -> ibis.Table:
    """Sales lines with the unit cost where known: the line's own, else the product's list cost."""
    t = sales_lines(ws, known_customers=True)
    costs = [t.unit_cost] if "unit_cost" in t.columns else []
    if ws.has("products", "cost"):
        p = ws.table("products").select("product_id", product_cost="cost")
        t = t.left_join(p, "product_id").drop("product_id_right")
        costs.append(t.product_cost)
    cost = ibis.coalesce(*costs) if len(costs) > 1 else (costs[0] if costs else ibis.null("float64"))
    return t.mutate(unit_cost_known=cost.cast("float64"))


def _profit_inputs(ws: Workspace, t: ibis.Table, cal: pd.Timestamp, serve: pd.DataFrame) -> ibis.Table:
    """Per customer over the calibration period: lines, lines returned, revenue, refunds, cost, cost to serve."""
    t = t.filter(t.order_date < ibis.timestamp(cal + pd.Timedelta(days=1)))
    rates = ibis.memtable(serve[["channel", "cost_to_serve"]])
    t = t.left_join(rates, "channel").drop("channel_right")
    t = t.mutate(
        serve=t.revenue * t.cost_to_serve.fill_null(DEFAULT_COST_TO_SERVE["unknown"]),
        cost=t.quantity * t.unit_cost_known,
        costed_revenue=t.unit_cost_known.notnull().ifelse(t.revenue, 0.0),
    )
    if ws.has("returns"):
        r = ws.table("returns")
        if "return_date" in r.columns:  # a return that arrives after the calibration end is not known then
            r = r.filter(r.return_date.isnull() | (r.return_date <= ibis.date(cal.date())))
        r = r.group_by(["order_id", "line_no"]).aggregate(returned_qty=r.quantity.sum())
        t = t.left_join(r, ["order_id", "line_no"]).drop("order_id_right", "line_no_right")
        qty = ibis.least(t.returned_qty.fill_null(0), t.quantity)  # never more back than was bought
        t = t.mutate(
            returned_line=(qty > 0).cast("int64"),
            refund=t.revenue * qty / t.quantity,
        )
    else:
        t = t.mutate(returned_line=ibis.literal(0), refund=ibis.literal(0.0))
    return t.group_by("customer_id").aggregate(
        lines=t.count(),
        returned_lines=t.returned_line.sum(),
        gross_revenue=t.revenue.cast(MONEY).sum().cast("float64"),
        refunds=t.refund.cast(MONEY).sum().cast("float64"),
        cost_of_goods=t.cost.cast(MONEY).sum().cast("float64"),
        costed_revenue=t.costed_revenue.cast(MONEY).sum().cast("float64"),
        serve_cost=t.serve.cast(MONEY).sum().cast("float64"),
    )


def purchase_summary(
    ws: Workspace,
    calibration_end: str,
    holdout_end: str | None = None,
    cohort_start: str | None = None,
    by: str = "segment",
    channel_cost: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Per customer: x, t_x, T (years), repeat order value before returns, what turns it into profit, and
    holdout purchases.

    Purchases are orders on distinct days. ``cohort_start`` keeps customers whose first purchase in the data
    is on or after it (their first purchase is really their first, which BG/NBD assumes). ``channel_cost`` is
    the goals' cost to serve per channel (see :func:`cost_to_serve`). Columns beyond the purchases: ``lines``
    and ``returned_lines`` (order lines bought and sent back in the calibration period), ``cost_rate`` (cost
    of goods over revenue where unit costs are known; empty where none is) and ``serve_rate`` (cost to serve
    over revenue). The cost-to-serve table used is in ``attrs["cost_to_serve"]``.
    """
    cal = pd.Timestamp(calibration_end)
    lines = ws.table("order_lines")
    costed = _costed_lines(ws)
    t = costed.mutate(day=costed.order_date.cast("date"))
    # Money is summed as exact decimals: floating-point sums run in parallel in the engine and differ in the
    # last bits from run to run, which moved repeat values across a rounding step and so the seeded posterior.
    value = t.group_by(["customer_id", "order_id"]).aggregate(
        value=t.revenue.cast(MONEY).sum(), day=t.day.min()
    )
    days = value.group_by(["customer_id", "day"]).aggregate(value=value.value.sum())
    net = value  # the holdout's value is after returns
    if ws.has("returns"):
        r = ws.table("returns").join(lines, ["order_id", "line_no"])
        r = r.group_by("order_id").aggregate(
            returned=(r.quantity * r.unit_price * (1 - r.discount.fill_null(0))).cast(MONEY).sum()
        )
        net = value.left_join(r, "order_id").drop("order_id_right")
        net = net.mutate(value=net.value - net.returned.fill_null(0))
    net_days = net.group_by(["customer_id", "day"]).aggregate(value=net.value.sum())
    cal_days = days.filter(days.day <= ibis.date(cal.date()))
    first = cal_days.group_by("customer_id").aggregate(first=cal_days.day.min())
    joined = cal_days.join(first, "customer_id")
    repeat = joined.filter(joined.day > joined.first)
    stats = joined.group_by("customer_id").aggregate(
        first=joined.first.min(), last=joined.day.max(), purchases=joined.count()
    )
    spend = repeat.group_by("customer_id").aggregate(repeat_value=repeat.value.mean().cast("float64"))
    out = stats.left_join(spend, "customer_id").drop("customer_id_right")
    serve = cost_to_serve(ws, channel_cost)
    out = out.left_join(_profit_inputs(ws, costed, cal, serve), "customer_id").drop("customer_id_right")
    if holdout_end:
        hold = net_days.filter(
            (net_days.day > ibis.date(cal.date()))
            & (net_days.day <= ibis.date(pd.Timestamp(holdout_end).date()))
        )
        hold = hold.group_by("customer_id").aggregate(
            holdout_purchases=hold.count(), holdout_value=hold.value.sum().cast("float64")
        )
        out = out.left_join(hold, "customer_id").drop("customer_id_right")
    if ws.has("customers", by):
        cols = ["customer_id", by] + (["acquisition_date"] if ws.has("customers", "acquisition_date") else [])
        frame = out.join(ws.table("customers").select(*cols), "customer_id").execute()
    else:  # no segments in the data: one parameter set for everybody
        frame = out.execute().assign(**{by: "all customers"})
    frame["first"], frame["last"] = pd.to_datetime(frame["first"]), pd.to_datetime(frame["last"])
    if cohort_start:
        # A customer acquired before the cohort whose first purchase *in the data* falls after it is a survivor,
        # not a newcomer: where the acquisition date is known, it decides.
        start = pd.Timestamp(cohort_start)
        keep = frame["first"] >= start
        if "acquisition_date" in frame:
            acquired = pd.to_datetime(frame["acquisition_date"])
            keep &= acquired.isna() | (acquired >= start)
        frame = frame[keep]
    # Rounded to a thousandth of a unit: the model needs no more, and Spark and DuckDB then agree exactly.
    frame["repeat_value"] = frame["repeat_value"].astype(float).round(3)
    frame["x"] = frame["purchases"] - 1
    frame["t_x"] = (frame["last"] - frame["first"]).dt.days / YEAR
    frame["T"] = (cal - frame["first"]).dt.days / YEAR
    frame[["lines", "returned_lines"]] = frame[["lines", "returned_lines"]].fillna(0).astype("int64")
    revenue = frame["gross_revenue"].where(frame["gross_revenue"] > 0)
    # Cost of goods: of the lines whose cost is known, as a share of their revenue; returned units come back.
    frame["cost_rate"] = (
        frame["cost_of_goods"] / frame["costed_revenue"].where(frame["costed_revenue"] > 0)
    ).round(6)
    frame["serve_rate"] = (frame["serve_cost"] / revenue).round(6)
    frame["refund_share"] = (frame["refunds"] / revenue).round(6)
    frame = frame.drop(columns=["cost_of_goods", "costed_revenue", "serve_cost"])
    if holdout_end:
        frame[["holdout_purchases", "holdout_value"]] = frame[["holdout_purchases", "holdout_value"]].fillna(
            0
        )
        frame["holdout_years"] = (pd.Timestamp(holdout_end) - cal).days / YEAR
    frame[by] = frame[by].astype("string").fillna("unknown")
    frame = frame[frame["T"] > 0]
    out_frame = frame.sort_values("customer_id", ignore_index=True)
    out_frame.attrs["cost_to_serve"] = serve.to_dict("records")  # records: a frame in attrs breaks pandas
    return out_frame
