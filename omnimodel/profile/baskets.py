"""Basket analysis: association rules between categories (or products), by channel or segment.

Support counts come from one engine query (orders x distinct items, self-joined on the order), so the work
scales with the engine, not with Python. Rules ``A -> B`` carry support (share of baskets with both),
confidence (share of baskets with A that also hold B) and lift (confidence over B's own share).
"""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.workspace import Workspace


def _baskets(ws: Workspace, level: str, by: str | None) -> ibis.Table:
    lines, orders = ws.table("order_lines"), ws.table("orders")
    t = lines.join(orders.select("order_id", "customer_id", "channel"), "order_id")
    if level != "product_id":
        t = t.join(ws.table("products").select("product_id", level), "product_id")
    if by and by not in t.columns:
        t = t.join(ws.table("customers").select("customer_id", by), "customer_id", how="left")
    cols = ["order_id", level] + ([by] if by else [])
    return t.select(*cols).rename(item=level).distinct()


def association_rules(
    ws: Workspace,
    level: str = "category",
    by: str | None = None,
    min_support: float = 0.002,
    min_orders: int = 20,
) -> pd.DataFrame:
    """Rules A -> B with support, confidence and lift, strongest lift first.

    Parameters
    ----------
    level : str
        ``category``, ``brand`` or ``product_id``.
    by : str, optional
        ``channel`` or a customers column such as ``segment``: rules are computed within each value.
    min_support, min_orders : float, int
        Drop pairs seen in fewer baskets (share, count).

    Examples
    --------
    >>> association_rules(Workspace("data/demo.duckdb"), by="segment").head()  # doctest: +SKIP
    """
    b = _baskets(ws, level, by)
    keys = [by] if by else []
    n_orders = (
        b.group_by(keys).aggregate(baskets=b.order_id.nunique())
        if keys
        else b.aggregate(baskets=b.order_id.nunique())
    )
    items = b.group_by(keys + ["item"]).aggregate(item_orders=b.order_id.nunique())
    right = b.view()
    cond = [b.order_id == right.order_id, b.item != right.item] + ([b[by] == right[by]] if by else [])
    pairs = b.join(right, cond).select(
        *([b[by]] if by else []), antecedent=b.item, consequent=right.item, order_id=b.order_id
    )
    pair_counts = pairs.group_by(keys + ["antecedent", "consequent"]).aggregate(both=pairs.count())
    pair_counts = pair_counts.filter(pair_counts.both >= min_orders)
    out = pair_counts.execute()
    totals = n_orders.execute()
    singles = items.execute()
    if out.empty:
        return pd.DataFrame(
            columns=keys + ["antecedent", "consequent", "both", "support", "confidence", "lift"]
        )
    if by:
        out = out.merge(totals, on=by)
    else:
        out["baskets"] = int(totals["baskets"].iloc[0])
    a = singles.rename(columns={"item": "antecedent", "item_orders": "antecedent_orders"})
    c = singles.rename(columns={"item": "consequent", "item_orders": "consequent_orders"})
    out = out.merge(a, on=keys + ["antecedent"]).merge(c, on=keys + ["consequent"])
    out["support"] = out["both"] / out["baskets"]
    out["confidence"] = out["both"] / out["antecedent_orders"]
    out["lift"] = out["confidence"] / (out["consequent_orders"] / out["baskets"])
    out = out[out["support"] >= min_support]
    return out.sort_values(keys + ["lift"], ascending=[True] * len(keys) + [False], ignore_index=True)


def cross_sell_recommendations(
    rules: pd.DataFrame, by: str = "segment", top: int = 3, min_lift: float = 1.2
) -> pd.DataFrame:
    """For each group, the strongest 'customers who buy A also buy B' rules worth acting on."""
    r = rules[rules["lift"] >= min_lift]
    r = r.sort_values([by, "lift"], ascending=[True, False]) if by in r.columns else r
    top_rules = r.groupby(by).head(top) if by in r.columns else r.head(top)
    cols = ([by] if by in r.columns else []) + ["antecedent", "consequent", "confidence", "lift", "support"]
    return top_rules[cols].reset_index(drop=True)
