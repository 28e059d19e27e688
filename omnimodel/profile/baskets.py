"""Basket analysis: association rules between categories (or products), by channel or segment.

Support counts come from one engine query (orders x distinct items, self-joined on the order), so the work
scales with the engine, not with Python. Rules ``A -> B`` carry support (share of baskets with both),
confidence (share of baskets with A that also hold B) and lift (confidence over B's own share), with a 90 %
interval for the lift: lift > 1 exactly when baskets with A hold B more often than baskets without A, so the
interval comes from the risk ratio of those two shares (Katz's log interval) mapped to the lift scale. A rule
is a recommendation only when the whole interval lies above 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import numpy as np
import pandas as pd

from omnimodel.data.queries import customer_columns
from omnimodel.data.workspace import Workspace

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def _baskets(ws: Workspace, level: str, by: str | None) -> ibis.Table:
    lines, orders = ws.table("order_lines"), ws.table("orders")
    t = lines.join(orders.select("order_id", "customer_id", "channel"), "order_id")
    if level != "product_id":
        t = t.join(ws.table("products").select("product_id", level), "product_id")
    if by and by not in t.columns:
        t = t.join(customer_columns(ws, by), "customer_id", how="left")
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
            columns=keys
            + ["antecedent", "consequent", "both", "support", "confidence", "lift", "lift_low", "lift_high"]
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
    out["lift_low"], out["lift_high"] = lift_interval(
        out["both"], out["antecedent_orders"], out["consequent_orders"], out["baskets"]
    )
    out = out[out["support"] >= min_support]
    # strongest lift first; ties by name, so every engine gives the same order
    order = keys + ["lift", "antecedent", "consequent"]
    return out.sort_values(order, ascending=[True] * len(keys) + [False, True, True], ignore_index=True)


Z90 = 1.6449  # two-sided 90 % normal quantile


def lift_interval(
    both: ArrayLike, antecedent: ArrayLike, consequent: ArrayLike, baskets: ArrayLike, z: float = Z90
) -> tuple[np.ndarray, np.ndarray]:
    """90 % interval of the lift of A -> B from the counts: baskets with both, with A, with B, all baskets.

    The risk ratio r = P(B | A) / P(B | not A) gets Katz's log interval. With p_A the share of baskets holding A,
    the lift is r / (p_A r + 1 - p_A), which increases with r, so the bounds map across. Zero cells get half a
    basket (Haldane).
    """
    a, n_a, n_b, n = (np.asarray(v, dtype=float) for v in (both, antecedent, consequent, baskets))
    c, n_not = n_b - a, n - n_a  # B without A, baskets without A
    a_, c_ = np.where(a > 0, a, 0.5), np.where(c > 0, c, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rr = np.log((a_ / n_a) / (c_ / np.maximum(n_not, 0.5)))
        se = np.sqrt(np.clip(1 / a_ - 1 / n_a + 1 / c_ - 1 / np.maximum(n_not, 0.5), 0, None))
    share = n_a / n

    def to_lift(log_r):
        r = np.exp(log_r)
        return r / (share * r + 1 - share)

    return to_lift(log_rr - z * se), to_lift(log_rr + z * se)


def cross_sell_recommendations(
    rules: pd.DataFrame, by: str = "segment", top: int = 3, min_lift: float = 1.2
) -> pd.DataFrame:
    """For each group, the strongest 'customers who buy A also buy B' rules worth acting on: lift at least
    ``min_lift`` and its 90 % interval above 1 (no rule otherwise: nothing stands out)."""
    r = rules[(rules["lift"] >= min_lift) & (rules["lift_low"] > 1)]
    r = r.sort_values([by, "lift"], ascending=[True, False]) if by in r.columns else r
    top_rules = r.groupby(by).head(top) if by in r.columns else r.head(top)
    cols = [by] if by in r.columns else []
    cols += ["antecedent", "consequent", "confidence", "lift", "lift_low", "lift_high", "support"]
    return top_rules[cols].reset_index(drop=True)
