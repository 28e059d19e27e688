"""The customer card: one customer's account, orders, returns, complaints, parcels, documents, wish list and
channel history, as the company sees it and as the customer sees it, side by side.

Every list is read from the workspace's own tables, filtered to the customer in the engine. The two views hold
the same records; the company view adds the internal scores (lifetime value with its range, P(alive), chance
of being a serial returner, segment, hopping affinity, price tier) and internal columns (cost, margin), which
the customer never sees. Personal fields (name, contact data, addresses, tracking numbers) show only where
``allow_personal`` is true; otherwise both views say they are hidden.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from omnimodel.charts.style import format_chance, format_money
from omnimodel.data.queries import line_revenue
from omnimodel.data.schema import PERSONAL_COLUMNS
from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import OmnimodelError

HIDDEN = "(hidden: personal data)"
#: account fields in the order a card lists them; personal ones are hidden unless allowed
ACCOUNT = (
    "customer_id", "name", "email", "phone", "birth_date", "gender", "delivery_address", "billing_address",
    "postal_code", "city", "country", "acquisition_date", "acquisition_channel", "preferred_shipping_method",
    "payment_method", "account_balance", "newsletter_opt_in", "newsletter_frequency", "loyalty_member",
    "loyalty_points", "clothing_size", "shoe_size",
)  # fmt: skip
#: account fields only the company sees
INTERNAL_ACCOUNT = {"segment", "region", "is_business"}
#: lists only the company sees
COMPANY_LISTS = {"channel history (touchpoints)", "deals"}
#: list columns only the company sees
INTERNAL_COLUMNS = {"cost", "margin", "owner"}
SHOWN = 12  # rows per list on the card; the rest are counted


@dataclass
class CustomerCard:
    """One customer's records in two views. ``lists`` maps a list's title to its rows (newest first)."""

    customer_id: str
    account: dict[str, object]
    lists: dict[str, pd.DataFrame]
    scores: dict[str, str] = field(default_factory=dict)
    allow_personal: bool = False
    currency: str | None = None

    def company_view(self) -> dict[str, pd.DataFrame]:
        """Account (internal fields included), every list with internal columns, and the internal scores."""
        out = {"account": _fields(self.account)}
        out.update(self.lists)
        out["internal scores"] = _fields(self.scores)
        return out

    def customer_view(self) -> dict[str, pd.DataFrame]:
        """What the customer may see about themselves: account and lists, no scores or internal columns."""
        account = {k: v for k, v in self.account.items() if k not in INTERNAL_ACCOUNT}
        out = {"account": _fields(account)}
        for title, rows in self.lists.items():
            if title not in COMPANY_LISTS:  # the company's record of their behaviour, and its pipeline
                out[title] = rows.drop(columns=[c for c in rows.columns if c in INTERNAL_COLUMNS])
        return out

    def _repr_html_(self) -> str:
        cur = self.currency
        hidden = (
            ""
            if self.allow_personal
            else " Personal fields are hidden (set show_personal_data to show them)."
        )
        company = {k: v for k, v in self.company_view().items() if k in ("internal scores", "account")}
        customer = {"account": self.customer_view()["account"]}

        def column(title: str, view: dict[str, pd.DataFrame]) -> str:
            parts = [f"<h4>{html.escape(title)}</h4>"]
            for name, rows in view.items():
                parts.append(f"<p><strong>{html.escape(name[:1].upper() + name[1:])}</strong></p>")
                parts.append(_table(rows, cur))
            return "<div style='flex:1 1 380px;min-width:0'>" + "".join(parts) + "</div>"

        records = []
        for name, rows in self.lists.items():
            internal = [c for c in rows.columns if c in INTERNAL_COLUMNS]
            note = " (company only)" if name in COMPANY_LISTS else ""
            if internal and not note:
                note = f" ({', '.join(internal)}: company only)"
            records.append(
                "<div style='flex:1 1 560px;min-width:0;overflow-x:auto'>"
                f"<p><strong>{html.escape(name[:1].upper() + name[1:])}</strong>{html.escape(note)}</p>"
                + _table(rows, cur)
                + "</div>"
            )
        flex = "<div style='display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start'>"
        return (
            f"<div class='omnimodel-card'><p><strong>Customer {html.escape(self.customer_id)}</strong>.{hidden} "
            "Both views list the same records below; the company also sees the internal scores, the costs and "
            "the touchpoints.</p>"
            + flex
            + column("What the company sees", company)
            + column("What the customer sees", customer)
            + "</div><h4>Records</h4>"
            + flex
            + "".join(records)
            + "</div></div>"
        )


def _fields(values: Mapping[str, object]) -> pd.DataFrame:
    rows = [(k.replace("_", " "), v) for k, v in values.items() if v is not None and not _missing(v)]
    return pd.DataFrame(rows, columns=["field", "value"])


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _text(v, money: bool, currency: str | None) -> str:
    if _missing(v):
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (float, np.floating)):
        return format_money(float(v), 2) if money else f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(v)


MONEY_COLUMNS = {"amount", "refund", "cost", "margin", "account balance", "account_balance"}


def _table(rows: pd.DataFrame, currency: str | None) -> str:
    if rows.attrs.get("more"):
        note = f"<p><em>and {rows.attrs['more']:,} more</em></p>"
    else:
        note = ""
    if rows.empty:
        return "<p>none</p>"

    def head(c) -> str:
        words = str(c).replace("_", " ")
        return f"{words} ({currency})" if currency and c in MONEY_COLUMNS else words

    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='white-space:nowrap'>{html.escape(_text(v, c in MONEY_COLUMNS or bool(_unit(c, r, 'x')), currency) + _unit(c, r, currency))}</td>"
            for c, v in r.items()
        )
        + "</tr>"
        for _, r in rows.iterrows()
    )
    heads = "".join(f"<th>{html.escape(head(c))}</th>" for c in rows.columns)
    return f"<table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>{note}"


def _unit(column, row, currency: str | None) -> str:
    """The currency after an account field that holds money (the field/value table has no money column)."""
    if column == "value" and row.get("field") in MONEY_COLUMNS and currency and not _missing(row["value"]):
        return f" {currency}"
    return ""


def _newest(frame: pd.DataFrame, by: str, shown: int = SHOWN) -> pd.DataFrame:
    """The newest ``shown`` rows; a column the source never fills (costs without unit costs) is left out."""
    frame = frame.drop(columns=[c for c in frame.columns if c != by and frame[c].isna().all() and len(frame)])
    out = frame.sort_values(by, ascending=False, kind="stable", ignore_index=True)
    if len(out) > shown:
        more = len(out) - shown
        out = out.head(shown).copy()
        out.attrs["more"] = more
    return out


def _hide(frame: pd.DataFrame, allow: bool) -> pd.DataFrame:
    if allow:
        return frame
    return frame.assign(**{c: HIDDEN for c in frame.columns if c in PERSONAL_COLUMNS})


def customer_lists(
    ws: Workspace, customer_id: str, allow_personal: bool = False, shown: int = SHOWN
) -> dict[str, pd.DataFrame]:
    """Every list of the card, read from the tables the workspace has (a table it lacks gives no list): the
    newest ``shown`` rows of each, the number left out in its ``attrs["more"]``."""
    out: dict[str, pd.DataFrame] = {}
    has_orders = ws.has("orders")
    orders = ws.table("orders").filter(lambda t: t.customer_id == customer_id) if has_orders else None
    if orders is not None and ws.has("order_lines"):
        lines = ws.table("order_lines").join(orders.select("order_id", "order_date", "channel"), "order_id")
        cost = lines.quantity * lines.unit_cost if "unit_cost" in lines.columns else ibis.null("float64")
        lines = lines.mutate(revenue=line_revenue(lines), cost=cost)
        per_order = lines.group_by("order_id").aggregate(
            items=lines.quantity.sum(), amount=lines.revenue.sum(), cost=lines.cost.sum()
        )
        cols = [c for c in ("payment_method", "shipping_method") if c in orders.columns]
        o = orders.select("order_id", "order_date", "channel", *cols).join(per_order, "order_id").execute()
        o["margin"] = o["amount"] - o["cost"]
        o["order_date"] = pd.to_datetime(o["order_date"]).dt.normalize()
        out["orders"] = _newest(o.rename(columns={"order_date": "date"}), "date", shown)
        if ws.has("returns"):
            r = ws.table("returns").join(
                lines.select("order_id", "line_no", "product_id", "revenue", bought="quantity"),
                ["order_id", "line_no"],
            )
            r = r.mutate(refund=r.revenue * ibis.least(r.quantity, r.bought) / r.bought)
            keep = [
                c
                for c in ("return_id", "order_id", "return_date", "product_id", "quantity", "reason")
                if c in r.columns
            ]
            ret = r.select(*keep, "refund").execute()
            out["returns"] = _newest(ret, "return_date" if "return_date" in ret else "return_id", shown)
    if ws.has("complaints"):
        c = ws.table("complaints").filter(lambda t: t.customer_id == customer_id)
        keep = [
            x
            for x in ("complaint_id", "complaint_date", "order_id", "channel", "topic", "resolved")
            if x in c.columns
        ]
        out["complaints"] = _newest(c.select(*keep).execute(), "complaint_date", shown)
    if orders is not None and ws.has("shipments"):
        sh = ws.table("shipments").semi_join(orders.select("order_id"), "order_id").execute()
        out["parcels"] = _newest(
            _hide(sh, allow_personal), "shipped_date" if "shipped_date" in sh else "shipment_id", shown
        )
    if ws.has("invoices"):
        inv = ws.table("invoices").filter(lambda t: t.customer_id == customer_id).execute()
        inv["status"] = (
            inv["paid_date"].isna().map({True: "open", False: "paid"}) if "paid_date" in inv else ""
        )
        out["invoices"] = _newest(inv.drop(columns=["customer_id"]), "invoice_date", shown)
    if ws.has("dunning_notices"):
        d = ws.table("dunning_notices").filter(lambda t: t.customer_id == customer_id).execute()
        out["dunning notices"] = _newest(d.drop(columns=["customer_id"]), "notice_date", shown)
    if ws.has("wishlist"):
        w = ws.table("wishlist").filter(lambda t: t.customer_id == customer_id)
        if ws.has("products", "name"):
            w = w.left_join(ws.table("products").select("product_id", product="name"), "product_id")
        w = w.execute().drop(columns=[c for c in ("customer_id", "product_id_right") if c in w.columns])
        out["wish list"] = _newest(w, "added_at" if "added_at" in w else "product_id", shown)
    if orders is not None:
        o = orders.mutate(year=orders.order_date.year())
        hist = o.group_by(["year", "channel"]).aggregate(orders=o.count()).execute()
        out["channel history (orders)"] = (
            hist.pivot_table(index="year", columns="channel", values="orders", fill_value=0)
            .astype("int64")
            .sort_index(ascending=False)
            .reset_index()
            .rename_axis(columns=None)
        )
    if ws.has("opportunities", "account_id"):  # a business account's deals: the seller's pipeline
        opp = ws.table("opportunities").filter(lambda t: t.account_id == customer_id)
        keep = [c for c in ("opportunity_id", "created_date", "product", "amount", "stage", "owner",
                            "expected_close_date", "closed_date", "outcome") if c in opp.columns]  # fmt: skip
        deals = opp.select(*keep).execute()
        if len(deals):
            out["deals"] = _newest(deals, "created_date", shown)
    if ws.has("touchpoints"):
        tp = ws.table("touchpoints").filter(lambda t: t.customer_id == customer_id)
        hist = tp.group_by(["channel", "kind"]).aggregate(contacts=tp.count(), last=tp.touched_at.max())
        hist = hist.execute().sort_values(["contacts", "channel"], ascending=[False, True], ignore_index=True)
        hist["last"] = pd.to_datetime(hist["last"]).dt.normalize()
        out["channel history (touchpoints)"] = hist
    return out


def internal_scores(
    customer_id: str,
    profile: pd.DataFrame | None = None,
    values: pd.DataFrame | None = None,
    currency: str | None = None,
) -> dict[str, str]:
    """The company-only scores of one customer, in words: from the profile (segment, hopping affinity, price
    tier, recency) and the lifetime-value model's ``values`` (value with its 90 % range, P(alive), chance of
    being a serial returner)."""
    out: dict[str, str] = {}
    if profile is not None:
        row = profile.loc[profile["customer_id"] == customer_id]
        if len(row):
            r = row.iloc[0]
            for col, label in (("preferred_channel", "preferred channel"),
                               ("price_tier", "price tier"), ("recency_days", "days since last order")):  # fmt: skip
                if col in r and not _missing(r[col]):
                    out[label] = str(int(r[col]) if col == "recency_days" else r[col])
            if "hopping_affinity" in r and not _missing(r["hopping_affinity"]):
                out["channel-hopping affinity"] = (
                    f"{float(r['hopping_affinity']):.2f} (0 = one channel, 1 = every order a switch)"
                )
            if "return_rate" in r and not _missing(r["return_rate"]):
                out["units returned so far"] = f"{float(r['return_rate']):.0%}".replace("%", " %")
    if values is not None:
        row = values.loc[values["customer_id"] == customer_id]
        if len(row):
            r = row.iloc[0]
            money = f" {currency}" if currency else ""
            out["lifetime value, next 12 months (profit)"] = (
                f"{format_money(r['value'])}{money} (90 % range {format_money(r['value_p05'])} to "
                f"{format_money(r['value_p95'])})"
            )
            out["chance still active"] = format_chance(float(r["p_alive"]), words=True)
            if "p_serial_returner" in r:
                out["chance of being a serial returner"] = format_chance(
                    float(r["p_serial_returner"]), words=True
                )
        else:
            out["lifetime value"] = "not scored: first purchase after the model's data, or no purchase"
    return out


def deal_scores(ws: Workspace, customer_id: str) -> dict[str, str]:
    """A business account's record with the sales team, in words: deals won, lost and open, the win rate of
    its closed deals and the value still open (all deals, not only the newest the card lists)."""
    if not ws.has("opportunities", "account_id"):
        return {}
    o = ws.table("opportunities").filter(lambda t: t.account_id == customer_id)
    d = o.select(*[c for c in ("outcome", "amount") if c in o.columns]).execute()
    if d.empty:
        return {}
    n = d["outcome"].value_counts()
    won, lost, still = (int(n.get(k, 0)) for k in ("won", "lost", "open"))
    out = {"deals won, lost, open": f"{won:,}, {lost:,}, {still:,}"}
    if won + lost:
        out["win rate of its closed deals"] = f"{won / (won + lost):.0%}".replace("%", " %")
    if "amount" in d and still:
        out["open pipeline"] = (
            f"{format_money(float(d.loc[d['outcome'] == 'open', 'amount'].sum()))} {ws.currency() or ''}".strip()
        )
    return out


def customer_card(
    ws: Workspace,
    customer_id: str,
    profile: pd.DataFrame | None = None,
    values: pd.DataFrame | None = None,
    allow_personal: bool = False,
    shown: int = SHOWN,
) -> CustomerCard:
    """The card of one customer (see the module's description). ``profile`` is the customer profile's frame
    and ``values`` the lifetime-value model's :meth:`~omnimodel.profile.clv.CLVModel.customer_value`.

    Examples
    --------
    >>> customer_card(ws, "C0000042", profile.frame, values)  # doctest: +SKIP
    """
    row = ws.table("customers").filter(lambda t: t.customer_id == str(customer_id)).execute()
    if row.empty:
        raise OmnimodelError(
            f"no customer {customer_id!r}",
            table="customers",
            column="customer_id",
            fix="give a customer_id from the customers table (or None for the card's default customer)",
        )
    r = row.iloc[0]
    account = {c: r[c] for c in ACCOUNT if c in row.columns}
    account.update({c: r[c] for c in sorted(INTERNAL_ACCOUNT) if c in row.columns})
    if not allow_personal:
        account = {
            k: (HIDDEN if k in PERSONAL_COLUMNS and not _missing(v) else v) for k, v in account.items()
        }
    lists = customer_lists(ws, str(customer_id), allow_personal, shown)
    scores = internal_scores(str(customer_id), profile, values, ws.currency())
    scores.update(deal_scores(ws, str(customer_id)))
    return CustomerCard(str(customer_id), account, lists, scores, allow_personal, ws.currency())


def card_customer(profile: pd.DataFrame, ws: Workspace | None = None) -> str:
    """The card's default customer, from the data: the one whose records touch the most tables (orders,
    returns, complaints, parcels, invoices, dunning, wish list, deals), then the most orders or deals, then the
    lowest id."""
    touched = [c for c in ("orders", "returned_units", "complaints", "invoices", "max_dunning_level",
                           "wishlist_items", "social_posts") if c in profile]  # fmt: skip
    if profile.empty:
        raise OmnimodelError(
            "the workspace has no customers", table="customers", fix="ingest a customers table"
        )
    score = (profile[touched].fillna(0) > 0).sum(axis=1) if touched else pd.Series(0, index=profile.index)
    many = profile["orders"].fillna(0) if "orders" in profile else pd.Series(0, index=profile.index)
    if ws is not None and ws.has("opportunities", "account_id"):
        o = ws.table("opportunities")
        deals = o.group_by("account_id").aggregate(n=o.count()).execute().set_index("account_id")["n"]
        n = profile["customer_id"].astype(str).map(deals).fillna(0).to_numpy()
        score, many = score + (n > 0), many + n
    order = pd.DataFrame({"score": score, "orders": many, "id": profile["customer_id"].astype(str)})
    order = order.sort_values(["score", "orders", "id"], ascending=[False, False, True])
    return str(order["id"].iloc[0])
