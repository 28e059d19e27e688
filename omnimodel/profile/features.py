"""The customer profile: one row per customer, computed in the engine from every table the workspace has.

Each block below reads one table, aggregates it per customer in the engine, and is left-joined onto the
customers; a table the workspace lacks is skipped and listed in ``skipped``. :data:`CHECKLIST` maps each item
of the customer-profile checklist to the columns that answer it, and says which view shows it:
``customer`` (what the customer may see about themselves) or ``company`` (internal scores and affinities).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import pandas as pd

from omnimodel.data.overview import redact
from omnimodel.data.queries import NOT_IN_DATA, sales_lines
from omnimodel.data.workspace import Workspace
from omnimodel.profile.channels import hopping_affinity

#: checklist item -> (columns, view)
CHECKLIST: dict[str, tuple[tuple[str, ...], str]] = {
    "customer number": (("customer_id",), "customer"),
    "birth date, gender, contact data, addresses": (
        ("birth_date", "gender", "email", "phone", "delivery_address", "billing_address"),
        "customer",
    ),
    "shipping and payment method": (("preferred_shipping_method", "payment_method"), "customer"),
    "account balance": (("account_balance",), "customer"),
    "wish list": (("wishlist_items",), "customer"),
    "newsletter settings": (("newsletter_opt_in", "newsletter_frequency"), "customer"),
    "loyalty points, individual sizes": (
        ("loyalty_member", "loyalty_points", "clothing_size", "shoe_size"),
        "customer",
    ),
    "orders overview": (("orders", "revenue", "first_order", "last_order"), "customer"),
    "returns overview": (("returned_units", "return_rate"), "customer"),
    "complaints overview": (("complaints", "open_complaints"), "customer"),
    "shipment tracking": (("shipments_in_transit", "shipments_lost"), "customer"),
    "documents: invoices, dunning notices": (("invoices", "open_invoices", "max_dunning_level"), "customer"),
    "media use: preferred channels": (("preferred_channel", "channels_used"), "company"),
    "channel dependencies and hopping": (("hopping_affinity", "channel_switches"), "company"),
    "cross-/up-sell affinity": (("categories_bought", "avg_unit_price_index"), "company"),
    "purchase frequency": (("orders_per_year", "recency_days"), "company"),
    "price behaviour": (("discount_share", "price_tier"), "company"),
    "payment behaviour": (("late_payments", "late_payment_share"), "company"),
    "movement data": (("countries_seen",), "company"),
    "brand engagement and membership": (("brands_bought", "top_brand_share"), "company"),
    "loyalty programme": (("loyalty_member", "loyalty_points"), "customer"),
    "social-media activity": (("social_posts",), "company"),
    "event participation": (("events",), "company"),
}


@dataclass
class CustomerProfile:
    """Profiles with what was skipped for lack of data."""

    frame: pd.DataFrame
    skipped: list[str] = field(default_factory=list)

    def company_view(self, allow_personal: bool = False) -> pd.DataFrame:
        """Everything, personal columns left out unless allowed."""
        return redact(self.frame, allow_personal)

    def customer_view(self, customer_id: str) -> pd.DataFrame:
        """What one customer may see about themselves (their own personal data included, internal scores not)."""
        cols = [c for cols, view in CHECKLIST.values() if view == "customer" for c in cols if c in self.frame]
        row = self.frame.loc[self.frame["customer_id"] == customer_id, list(dict.fromkeys(cols))]
        return row.T.rename(columns=lambda _: "value")

    def top(self, n: int = 10, allow_personal: bool = False) -> pd.DataFrame:
        """The company view of the ``n`` customers with the most revenue (the first ``n`` by id without
        orders)."""
        view = self.company_view(allow_personal)
        by = "revenue" if "revenue" in view else "customer_id"
        return view.sort_values(by, ascending=by == "customer_id", kind="stable").head(n)

    def checklist(self) -> pd.DataFrame:
        """The checklist items, the columns answering each, its view, and whether the data allowed it."""
        rows = []
        for item, (cols, view) in CHECKLIST.items():
            present = [c for c in cols if c in self.frame.columns and self.frame[c].notna().any()]
            rows.append(
                {
                    "checklist item": item,
                    "columns": ", ".join(cols),
                    "view": view,
                    "available": "yes" if len(present) == len(cols) else ("partly" if present else "no"),
                }
            )
        return pd.DataFrame(rows)


def require_orders(
    ws: Workspace, needed_by: str = "channel mix and hopping, baskets and revenue by channel need"
) -> None:
    """Stop a report with one line when the workspace has no orders (a CRM export of accounts and deals):
    ``needed_by`` says what needs them (by default the profile's sections after the customer card)."""
    from omnimodel.notice import ReportStopped

    if not (ws.has("orders") and ws.has("order_lines")):
        raise ReportStopped(
            f"No orders in this workspace: {needed_by} an order export",
            fix="ingest the shop's or ERP's orders and order lines",
        )


def _sales(ws: Workspace, as_of) -> ibis.Table:
    t = sales_lines(ws, known_customers=True)
    return t if as_of is None else t.filter(t.order_date <= ibis.timestamp(as_of))


def customer_profile(ws: Workspace, as_of: str | None = None) -> CustomerProfile:
    """Build the profile of every customer as of a date (default: everything in the workspace).

    Examples
    --------
    >>> profile = customer_profile(Workspace("data/demo.duckdb"))  # doctest: +SKIP
    >>> profile.checklist()  # doctest: +SKIP
    """
    as_of_ts = pd.Timestamp(as_of) if as_of else None
    customers = ws.table("customers")
    # Segment and region are optional: without them every customer is in the one group "(not in the data)".
    missing = {c: ibis.literal(NOT_IN_DATA) for c in ("segment", "region") if c not in customers.columns}
    out = customers.mutate(**missing) if missing else customers
    skipped: list[str] = []
    blocks: list[ibis.Table] = []

    def attach(block: ibis.Table):
        # every block keyed by its own name, joined in one chain at the end: Ibis builds and compiles one
        # join of n blocks in a fraction of the time of n nested joins (0.5 s of 0.8 s at 20,000 customers)
        key = f"_key{len(blocks)}"
        blocks.append(block.rename({key: "customer_id"}))

    if ws.has("orders") and ws.has("order_lines"):
        s = _sales(ws, as_of_ts)
        o = ws.table("orders").filter(lambda t: t.customer_id.notnull())
        if as_of_ts is not None:
            o = o.filter(o.order_date <= ibis.timestamp(as_of_ts))
        o = o.semi_join(ws.table("order_lines").select("order_id"), "order_id")  # orders with lines
        # Counts and dates from the orders table; sums from one pass over the lines.
        attach(
            o.group_by("customer_id").aggregate(
                orders=o.count(), first_order=o.order_date.min(), last_order=o.order_date.max()
            )
        )
        discount = s.discount.fill_null(0) if "discount" in s.columns else ibis.literal(0.0)
        lines = s.mutate(disc=(discount > 0).cast("float64"))
        attach(
            lines.group_by("customer_id").aggregate(
                revenue=lines.revenue.sum(), discount_share=lines.disc.mean(), units=lines.quantity.sum()
            )
        )
        ch = o.group_by(["customer_id", "channel"]).aggregate(n=o.count())
        w = ibis.window(group_by="customer_id", order_by=[ibis.desc(ch.n), ch.channel])
        top = ch.mutate(rank=ibis.row_number().over(w)).filter(lambda t: t["rank"] == 0)
        attach(top.select("customer_id", preferred_channel=top.channel))
        hop = hopping_affinity(ws)
        attach(hop.select("customer_id", "channels_used", "hopping_affinity", channel_switches=hop.switches))
        if ws.has("products"):
            p = ws.table("products")
            cols = ["product_id", "category"] + (["brand"] if "brand" in p.columns else [])
            sp = s.select("customer_id", "product_id", "unit_price").join(p.select(*cols), "product_id")
            # price index: unit price relative to the category's average unit price (1 = average)
            cat_avg = sp.group_by("category").aggregate(cat_price=sp.unit_price.mean())
            sp = sp.join(cat_avg, "category")
            agg = {
                "categories_bought": sp.category.nunique(),
                "avg_unit_price_index": (sp.unit_price / sp.cat_price).mean(),
            }
            if "brand" in sp.columns:
                agg["brands_bought"] = sp.brand.nunique()
            attach(sp.group_by("customer_id").aggregate(**agg))
            if "brand" in sp.columns:
                b = sp.group_by(["customer_id", "brand"]).aggregate(n=sp.count())
                b = b.group_by("customer_id").aggregate(top_brand_share=b.n.max() / b.n.sum())
                attach(b)
        else:
            skipped.append("products: no category, price index or brand behaviour")
    else:
        skipped.append("orders/order_lines: no order overview, purchase frequency, channels or baskets")

    if ws.has("returns") and ws.has("orders"):
        r, o = ws.table("returns"), ws.table("orders").select("order_id", "customer_id")
        rr = r.join(o, "order_id")
        attach(rr.group_by("customer_id").aggregate(returned_units=rr.quantity.sum()))
    else:
        skipped.append("returns")
    if ws.has("complaints"):
        c = ws.table("complaints")
        open_c = (~c.resolved.fill_null(False)).cast("int64") if "resolved" in c.columns else ibis.literal(0)
        attach(c.group_by("customer_id").aggregate(complaints=c.count(), open_complaints=open_c.sum()))
    else:
        skipped.append("complaints")
    if ws.has("shipments") and ws.has("orders"):
        sh = ws.table("shipments").join(ws.table("orders").select("order_id", "customer_id"), "order_id")
        attach(
            sh.group_by("customer_id").aggregate(
                shipments_in_transit=(sh.status == "in_transit").cast("int64").sum(),
                shipments_lost=(sh.status == "lost").cast("int64").sum(),
            )
        )
    else:
        skipped.append("shipments")
    if ws.has("invoices"):
        inv = ws.table("invoices")
        late = (inv.paid_date.isnull() & (inv.due_date < inv.invoice_date.max().over())) | (
            inv.paid_date > inv.due_date
        )
        inv = inv.mutate(late=late.fill_null(False).cast("int64"), open=inv.paid_date.isnull().cast("int64"))
        attach(
            inv.group_by("customer_id").aggregate(
                invoices=inv.count(), open_invoices=inv.open.sum(), late_payments=inv.late.sum()
            )
        )
    else:
        skipped.append("invoices: no payment behaviour")
    if ws.has("dunning_notices"):
        d = ws.table("dunning_notices")
        attach(d.group_by("customer_id").aggregate(max_dunning_level=d.level.max()))
    else:
        skipped.append("dunning_notices")
    if ws.has("touchpoints"):
        tp = ws.table("touchpoints")
        agg = {
            "social_posts": (tp.kind == "social_post").cast("int64").sum(),
            "events": (tp.kind == "event").cast("int64").sum(),
            "newsletter_clicks": (tp.kind == "newsletter_click").cast("int64").sum(),
        }
        if "country" in tp.columns:
            agg["countries_seen"] = tp.country.nunique()
        attach(tp.group_by("customer_id").aggregate(**agg))
    else:
        skipped.append("touchpoints: no social media, events or movement data")
    if ws.has("wishlist"):
        wl = ws.table("wishlist")
        attach(wl.group_by("customer_id").aggregate(wishlist_items=wl.count()))
    else:
        skipped.append("wishlist")

    # Arrow to pandas directly: ibis' own conversion of a million wide rows costs as much as the query.
    for block in blocks:
        key = next(c for c in block.columns if c.startswith("_key"))
        out = out.left_join(block, out.customer_id == block[key])
    frame = out.drop(*[c for c in out.columns if c.startswith("_key")]).to_pyarrow().to_pandas()
    return CustomerProfile(
        derived_columns(frame, as_of_ts).sort_values("customer_id", ignore_index=True), skipped
    )


COUNTS = (
    "orders",
    "returned_units",
    "complaints",
    "open_complaints",
    "invoices",
    "open_invoices",
    "late_payments",
    "wishlist_items",
    "social_posts",
    "events",
    "newsletter_clicks",
    "shipments_in_transit",
    "shipments_lost",
)


def derived_columns(frame: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per-customer ratios and tiers from the aggregated columns (counts of nothing become 0)."""
    end = as_of or (pd.Timestamp(frame["last_order"].max()) if "last_order" in frame else None)
    if "orders" in frame:
        counts = [c for c in COUNTS if c in frame]
        frame[counts] = frame[counts].fillna(0).astype("int64")
        years = ((end - pd.to_datetime(frame["first_order"])).dt.days / 365.25).clip(lower=1 / 12)
        frame["orders_per_year"] = frame["orders"] / years
        frame["avg_order_value"] = frame["revenue"] / frame["orders"].where(frame["orders"] > 0)
        frame["recency_days"] = (end - pd.to_datetime(frame["last_order"])).dt.days
        if "returned_units" in frame and "units" in frame:
            units = pd.to_numeric(frame["units"], errors="coerce").astype(float)
            frame["return_rate"] = frame["returned_units"] / units.where(units > 0)
        if "avg_unit_price_index" in frame:
            frame["price_tier"] = pd.cut(
                frame["avg_unit_price_index"],
                [0, 0.85, 1.15, float("inf")],
                labels=["value", "mid", "premium"],
            ).astype("string")
    if "late_payments" in frame and "invoices" in frame:
        frame["late_payment_share"] = frame["late_payments"] / frame["invoices"].where(frame["invoices"] > 0)
    return frame
