"""Segments: RFM scores and value tiers, a model-based segmentation, the segment matrix and how to address each.

Inputs are the per-customer profile (``omnimodel.profile.features``) and engine aggregates; everything here
works on one row per customer or on small aggregates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from omnimodel.data.queries import customer_columns, sales_lines
from omnimodel.data.workspace import Workspace

RFM_LABELS = {  # (R, F+M band) -> label, the usual RFM vocabulary
    "champions": lambda r, fm: (r >= 4) & (fm >= 4),
    "loyal": lambda r, fm: (r >= 3) & (fm >= 3),
    "promising": lambda r, fm: (r >= 4) & (fm < 3),
    "at risk": lambda r, fm: (r <= 2) & (fm >= 3),
    "hibernating": lambda r, fm: (r <= 2) & (fm < 3),
}


def rfm(profile: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency and monetary quintile scores (5 = best), an RFM label and a value tier.

    Value tiers split customers by cumulative revenue: ``A`` brings the first 50 % of revenue, ``B`` the next
    30 %, ``C`` the rest (customers without orders are ``none``).
    """
    p = profile[profile["orders"] > 0].copy()

    def score(values: pd.Series, ascending: bool) -> pd.Series:
        ranks = values.rank(method="first", ascending=ascending)
        return pd.qcut(ranks, 5, labels=[1, 2, 3, 4, 5]).astype(int)

    p["R"] = score(-p["recency_days"], True)
    p["F"] = score(p["orders_per_year"], True)
    p["M"] = score(p["revenue"], True)
    fm = (p["F"] + p["M"]) / 2
    p["rfm_label"] = "needs attention"
    for label, rule in reversed(list(RFM_LABELS.items())):
        p.loc[rule(p["R"], fm), "rfm_label"] = label
    order = p["revenue"].sort_values(ascending=False)
    share = order.cumsum() / order.sum()
    tier = pd.Series(np.select([share <= 0.5, share <= 0.8], ["A", "B"], "C"), index=order.index)
    p["value_tier"] = tier.reindex(p.index)
    out = profile[["customer_id"]].merge(
        p[["customer_id", "R", "F", "M", "rfm_label", "value_tier"]], on="customer_id", how="left"
    )
    out["value_tier"] = out["value_tier"].fillna("none")
    out["rfm_label"] = out["rfm_label"].fillna("no orders")
    return out


BEHAVIOUR = [
    "orders_per_year",
    "avg_order_value",
    "discount_share",
    "hopping_affinity",
    "return_rate",
    "avg_unit_price_index",
]


def behaviour_segments(profile: pd.DataFrame, k: int = 4, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Model-based segmentation: k-means on standardised log behaviour features of customers with orders.

    Returns (one row per customer with its cluster, one row per cluster with its average behaviour and size).
    Clusters are numbered by average revenue, largest first, so the same seed gives the same labels.
    """
    p = profile[profile["orders"] > 0].copy()
    cols = [c for c in BEHAVIOUR if c in p]
    x = p[cols].astype(float).fillna(p[cols].astype(float).median())
    x = np.log1p(x.clip(lower=0))
    z = ((x - x.mean()) / x.std(ddof=0).replace(0, 1)).to_numpy()
    _, labels = kmeans2(z, k, seed=seed, minit="++")
    p["cluster"] = labels
    rank = p.groupby("cluster")["revenue"].mean().sort_values(ascending=False).index
    p["cluster"] = p["cluster"].map({c: f"cluster {i + 1}" for i, c in enumerate(rank)})
    summary = p.groupby("cluster")[cols + ["revenue"]].mean()
    summary.insert(0, "customers", p.groupby("cluster").size())
    return p[["customer_id", "cluster"]], summary.reset_index()


def segment_matrix(ws: Workspace, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Revenue, margin, customers and growth by segment x region x channel x category (in the engine).

    Growth compares the last 12 months of the window with the 12 months before.
    """
    import ibis

    t = sales_lines(ws, start, end).join(ws.table("products").select("product_id", "category"), "product_id")
    t = t.join(customer_columns(ws, "segment", "region"), "customer_id")
    last = t.order_date.max().over()
    t = t.mutate(
        # no unit cost in the data: margin is unknown, not equal to revenue
        cost=t.quantity * t.unit_cost.fill_null(0)
        if "unit_cost" in t.columns
        else ibis.null().cast("float64"),
        recent=(t.order_date > last - ibis.interval(days=365)),
        before=(t.order_date <= last - ibis.interval(days=365))
        & (t.order_date > last - ibis.interval(days=730)),
    )
    keys = ["segment", "region", "channel", "category"]
    out = (
        t.group_by(keys)
        .aggregate(
            revenue=t.revenue.sum(),
            margin=(t.revenue - t.cost).sum(),
            customers=t.customer_id.nunique(),
            revenue_last_12m=t.revenue.sum(where=t.recent),
            revenue_prior_12m=t.revenue.sum(where=t.before),
        )
        .execute()
    )
    span = t.aggregate(first=t.order_date.min(), last=t.order_date.max()).execute()
    covered = (pd.Timestamp(span["last"].iloc[0]) - pd.Timestamp(span["first"].iloc[0])).days >= 729
    # growth needs two full years of data; with less, the "prior 12 months" are partly empty
    prior = out["revenue_prior_12m"].where((out["revenue_prior_12m"] > 0) & covered)
    out["growth"] = out["revenue_last_12m"] / prior - 1
    out["margin_rate"] = out["margin"] / out["revenue"].where(out["revenue"] != 0)
    return out.sort_values(["revenue", *keys], ascending=[False, True, True, True, True], ignore_index=True)


def how_to_address(
    matrix: pd.DataFrame,
    rules: pd.DataFrame | None = None,
    clv: pd.DataFrame | None = None,
    by: str = "segment",
) -> pd.DataFrame:
    """Per segment: preferred channels, categories with the most revenue, best cross-sell, value at stake."""
    rows = []
    for seg, part in matrix.groupby(by):
        channels = part.groupby("channel")["revenue"].sum().sort_values(ascending=False)
        cats = part.groupby("category")["revenue"].sum().sort_values(ascending=False)
        row = {
            by: seg,
            "revenue": part["revenue"].sum(),
            "margin_rate": part["margin"].sum(min_count=1) / part["revenue"].sum(),
            "growth": part["revenue_last_12m"].sum() / part["revenue_prior_12m"].sum() - 1
            if part["growth"].notna().any()
            else float("nan"),
            "preferred channels": ", ".join(
                f"{c} {v / channels.sum():.0%}".replace("%", " %") for c, v in channels.head(2).items()
            ),
            "top categories": ", ".join(cats.head(3).index),
        }
        if rules is not None and by in rules.columns:
            # Only a rule whose lift is above 1 with its whole interval is advice; otherwise say so.
            mine = rules[rules[by] == seg]
            if "lift_low" in mine:
                mine = mine[mine["lift_low"] > 1]
            r = mine.sort_values("lift", ascending=False).head(1)
            row["best cross-sell"] = (
                (f"{r['antecedent'].iloc[0]} -> {r['consequent'].iloc[0]} (lift {r['lift'].iloc[0]:.2f})")
                if len(r)
                else "no cross-sell stands out"
            )
        if clv is not None and by in clv.columns:
            row["value next 12 months"] = clv.loc[clv[by] == seg, "value"].sum()
        rows.append(row)
    return pd.DataFrame(rows).sort_values("revenue", ascending=False, ignore_index=True)
