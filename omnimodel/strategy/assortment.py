"""Assortment: breadth and depth by channel and segment, products sold only online or only offline, and where
online and offline assortments could differ (or should converge)."""

from __future__ import annotations

import pandas as pd

from omnimodel.data.queries import channel_kinds, sales_lines
from omnimodel.data.workspace import Workspace
from omnimodel.notice import Skipped


def _sold(ws: Workspace, by: str | None):
    t = sales_lines(ws).join(ws.table("products").select("product_id", "category"), "product_id")
    if by and by not in t.columns:
        t = t.join(ws.table("customers").select("customer_id", by), "customer_id")
    return t


def breadth_and_depth(ws: Workspace, by: str = "channel") -> pd.DataFrame:
    """Per channel (or segment) and category: products sold (depth) and revenue; breadth = categories sold."""
    t = _sold(ws, by)
    out = t.group_by([by, "category"]).aggregate(
        products_sold=t.product_id.nunique(), revenue=t.revenue.sum()
    )
    out = out.execute()
    offered = (
        ws.table("products").group_by("category").aggregate(products_offered=lambda p: p.count()).execute()
    )
    out = out.merge(offered, on="category", how="left")
    out["depth_share"] = out["products_sold"] / out["products_offered"]
    out["breadth"] = out.groupby(by)["category"].transform("nunique")
    return out.sort_values([by, "revenue"], ascending=[True, False], ignore_index=True)


def online_offline(ws: Workspace) -> pd.DataFrame | Skipped:
    """Per category: products sold only online, only offline, in both, and how much the two ranges overlap.

    ``overlap`` is the Jaccard share of products sold in both; a low overlap with revenue on both sides marks a
    category where the online and offline assortments already differ, a high one where they could. Which
    channels are online comes from the workspace's ``channels`` table (kind ``online``; stores and assisted
    channels count as offline); without it the section is skipped and says so.
    """
    kinds = channel_kinds(ws)
    if kinds is None:
        return Skipped(
            "online and offline assortment",
            "the data does not say which channels are online",
            "add a channels table (channel, kind: online, offline or assisted) to the export and ingest again",
        )
    t = _sold(ws, None)
    online = t.channel.isin([c for c, k in kinds.items() if k == "online"])
    per = (
        t.group_by(["category", "product_id"])
        .aggregate(
            online=online.cast("int64").max(),
            offline=(~online).cast("int64").max(),
            revenue_online=t.revenue.sum(where=online),
            revenue_offline=t.revenue.sum(where=~online),
        )
        .execute()
    )
    g = per.groupby("category")
    out = pd.DataFrame(
        {
            "only_online": g.apply(
                lambda d: int(((d["online"] == 1) & (d["offline"] == 0)).sum()), include_groups=False
            ),
            "only_offline": g.apply(
                lambda d: int(((d["online"] == 0) & (d["offline"] == 1)).sum()), include_groups=False
            ),
            "both": g.apply(
                lambda d: int(((d["online"] == 1) & (d["offline"] == 1)).sum()), include_groups=False
            ),
            "revenue_online": g["revenue_online"].sum(),
            "revenue_offline": g["revenue_offline"].sum(),
        }
    )
    out["overlap"] = out["both"] / (out["only_online"] + out["only_offline"] + out["both"])
    out["online_share"] = out["revenue_online"] / (out["revenue_online"] + out["revenue_offline"])
    return out.reset_index().sort_values("overlap", ignore_index=True)
