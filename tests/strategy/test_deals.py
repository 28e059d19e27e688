"""A CRM's accounts with their deals: per account and per segment, region and country, counted in the engine and
checked against the same counts done by hand on the demo company's tables."""

from __future__ import annotations

import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.profile.accounts import accounts_with_deals
from omnimodel.strategy.deals import deals_by_account_level


def _deals(demo_small) -> pd.DataFrame:
    tables, _ = demo_small
    levels = ["segment", "region", "country"]
    opp = tables["opportunities"].drop(columns=levels, errors="ignore")  # the account's, not the deal's
    customers = tables["customers"][["customer_id", *[c for c in levels if c in tables["customers"]]]]
    return opp.merge(customers, left_on="account_id", right_on="customer_id")


def test_accounts_with_their_deals_and_activities_agree_with_a_hand_count(demo_workspace, demo_small):
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        shown = accounts_with_deals(ws, top=5)
    assert shown is not None and shown["won_value"].is_monotonic_decreasing
    deals = _deals(demo_small)
    for row in shown.itertuples():
        mine = deals[deals["account_id"] == row.account]
        won = mine[mine["outcome"] == "won"]
        assert (row.won_deals, row.open_deals) == (len(won), int((mine["outcome"] == "open").sum()))
        assert row.won_value == won["amount"].fillna(0).sum()
        acts = tables["activities"]
        assert row.activities == acts["opportunity_id"].isin(mine["opportunity_id"]).sum()


def test_deals_by_segment_and_country_agree_with_a_hand_count(demo_workspace, demo_small):
    with Workspace(demo_workspace) as ws:
        levels = deals_by_account_level(ws)
    deals = _deals(demo_small)
    assert "country" in levels and "segment" not in levels  # every demo account with deals is a business
    for level, frame in levels.items():
        won = deals[deals["outcome"] == "won"].groupby(level)["amount"].sum()
        got = frame.set_index(level)["won_value"]
        pd.testing.assert_series_equal(got.sort_index(), won.reindex(got.index).fillna(0).sort_index(),
                                       check_names=False, check_dtype=False)  # fmt: skip
        closed = (
            deals[deals["outcome"] != "open"].groupby(level)["outcome"].apply(lambda s: (s == "won").mean())
        )
        assert (
            frame.set_index(level)["win_rate"].round(9).to_dict()
            == closed.reindex(frame[level]).round(9).to_dict()
        )
