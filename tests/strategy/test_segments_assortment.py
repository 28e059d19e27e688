"""Segments, segment matrix and assortment on the small demo, cross-checked with pandas."""

import numpy as np
import pandas as pd

from omnimodel import Workspace
from omnimodel.profile import baskets
from omnimodel.profile.features import customer_profile
from omnimodel.strategy import assortment, segments


def test_rfm_scores_tiers_and_labels(demo_workspace):
    with Workspace(demo_workspace) as ws:
        p = customer_profile(ws).frame
    r = segments.rfm(p)
    buyers = r[r["value_tier"] != "none"]
    assert len(r) == len(p) and buyers["R"].between(1, 5).all()
    rev = p.set_index("customer_id")["revenue"]
    tier_rev = rev.loc[buyers["customer_id"]].groupby(buyers.set_index("customer_id")["value_tier"]).sum()
    assert tier_rev["A"] / tier_rev.sum() <= 0.5 + 1e-9 and tier_rev["A"] > tier_rev["C"] / 10
    # A customers buy more on average than C customers
    assert (
        rev.loc[buyers.loc[buyers["value_tier"] == "A", "customer_id"]].mean()
        > rev.loc[buyers.loc[buyers["value_tier"] == "C", "customer_id"]].mean()
    )
    assert (r.loc[r["value_tier"] == "none", "rfm_label"] == "no orders").all()


def test_behaviour_segments_are_seeded_and_ranked(demo_workspace):
    with Workspace(demo_workspace) as ws:
        p = customer_profile(ws).frame
    a, summary = segments.behaviour_segments(p, k=4, seed=3)
    b, _ = segments.behaviour_segments(p, k=4, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert summary["customers"].sum() == (p["orders"] > 0).sum()
    assert summary["revenue"].is_monotonic_decreasing


def test_segment_matrix_adds_up_to_total_revenue(demo_small, demo_workspace):
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        m = segments.segment_matrix(ws)
        rules = baskets.association_rules(ws, by="segment", min_orders=5)
    lines = tables["order_lines"].merge(tables["orders"], on="order_id")
    total = (lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])).sum()
    assert np.isclose(m["revenue"].sum(), total)
    plan = segments.how_to_address(m, rules)
    assert set(plan["segment"]) == set(tables["customers"]["segment"])
    assert plan["preferred channels"].str.contains("%").all()


def test_assortment_breadth_depth_and_online_offline(demo_workspace):
    with Workspace(demo_workspace) as ws:
        bd = assortment.breadth_and_depth(ws)
        oo = assortment.online_offline(ws)
        products = ws.table("products").count().execute()
    assert (bd["products_sold"] <= bd["products_offered"]).all() and (bd["breadth"] <= 8).all()
    assert (oo[["only_online", "only_offline", "both"]].sum(axis=1) <= products).all()
    assert oo["overlap"].between(0, 1).all() and oo["online_share"].between(0, 1).all()


def test_without_costs_margin_is_unknown_and_short_history_has_no_growth(tmp_path, demo_small):
    from omnimodel.data.workspace import write_workspace

    tables, _ = demo_small
    keep = {k: tables[k].copy() for k in ("customers", "products", "orders", "order_lines")}
    keep["order_lines"] = keep["order_lines"].drop(columns=["unit_cost"])
    keep["orders"] = keep["orders"][keep["orders"]["order_date"] >= "2025-01-01"]
    keep["order_lines"] = keep["order_lines"][
        keep["order_lines"]["order_id"].isin(keep["orders"]["order_id"])
    ]
    with Workspace(write_workspace(tmp_path / "w.duckdb", keep)) as ws:
        m = segments.segment_matrix(ws)
    assert m["margin"].isna().all() and m["growth"].isna().all()
    plan = segments.how_to_address(m)
    assert plan["margin_rate"].isna().all() and plan["growth"].isna().all()
