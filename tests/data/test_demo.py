"""The demo company: seeded, consistent, and faithful to the truth saved beside it."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.data import demo
from omnimodel.data.schema import CHANNELS, TABLES
from omnimodel.ingest import validation


def test_same_seed_same_data_other_seed_other_data(demo_small):
    tables, _ = demo_small
    again, _ = demo.generate("small", seed=42)
    other, _ = demo.generate("small", seed=43)
    for name in tables:
        pd.testing.assert_frame_equal(tables[name], again[name])
    assert not tables["order_lines"].equals(other["order_lines"])


def test_every_canonical_table_is_there_and_valid(demo_small):
    tables, _ = demo_small
    assert set(tables) == set(TABLES)
    assert validation.validate(tables, stages=demo.STAGES) == []


def test_shape_of_the_company(demo_small):
    tables, truth = demo_small
    c, o = tables["customers"], tables["orders"]
    assert set(o["channel"]) == set(CHANNELS)
    assert c["country"].nunique() == 8 and c["region"].nunique() == 3 and c["segment"].nunique() == 4
    dates = o["order_date"]
    assert dates.min() >= pd.Timestamp(truth["start"]) and dates.max() <= pd.Timestamp(
        truth["as_of"]
    ) + pd.Timedelta(days=1)
    assert (dates.max() - dates.min()).days > 3 * 365 - 10
    opp = tables["opportunities"]
    assert {"won", "lost", "open"} == set(opp["outcome"])
    assert (opp.loc[opp.outcome == "open", "closed_date"].isna()).all()
    for t in ("returns", "complaints", "dunning_notices", "touchpoints", "wishlist", "shipments"):
        assert len(tables[t]) > 0, t


@pytest.fixture(scope="module")
def demo_default():
    return demo.generate("default", seed=7)


def test_planted_channel_transitions_are_in_the_data(demo_default):
    """The empirical consumer transition matrix matches the planted one (binomial error at n>=500 rows)."""
    tables, truth = demo_default
    o = tables["orders"].merge(tables["customers"][["customer_id", "is_business"]])
    o = o[~o["is_business"]].sort_values(["customer_id", "order_date"])
    o["prev"] = o.groupby("customer_id")["channel"].shift()
    o = o.dropna(subset=["prev"])
    counts = pd.crosstab(o["prev"], o["channel"]).reindex(index=CHANNELS, columns=CHANNELS, fill_value=0)
    planted = np.array(truth["channel_transitions"]["consumer"])
    for i, ch in enumerate(CHANNELS):
        n = counts.loc[ch].sum()
        if n < 500:
            continue
        observed = counts.loc[ch].to_numpy() / n
        se = np.sqrt(planted[i] * (1 - planted[i]) / n)
        assert np.all(np.abs(observed - planted[i]) <= 4 * se + 1e-9), (ch, observed.round(3), planted[i])


def test_planted_cross_sell_pairs_have_the_highest_lift(demo_default):
    tables, truth = demo_default
    lines = tables["order_lines"].merge(tables["products"][["product_id", "category"]])
    basket = pd.crosstab(lines["order_id"], lines["category"]) > 0
    support = basket.mean()
    both = (basket.T.astype(int) @ basket.astype(int)) / len(basket)
    lift = both / np.outer(support, support)
    planted = {(p["from"], p["to"]) for p in truth["cross_sell"]["planted"]}
    planted_lifts = [lift.loc[a, b] for a, b in planted]
    other = [
        lift.loc[a, b]
        for a in lift.index
        for b in lift.columns
        if a != b and (a, b) not in planted and (b, a) not in planted
    ]
    # Most baskets hold one category, so lifts between categories are low unless cross-sell was planted.
    assert min(planted_lifts) > max(other), (sorted(planted_lifts), max(other))


def test_build_writes_workspace_with_truth_inside_and_beside(demo_workspace):
    from omnimodel import Workspace

    with Workspace(demo_workspace) as ws:
        assert ws.truth()["purchase"]["families"]["r"] == demo.PURCHASE["families"]["r"]
        assert set(ws.tables()) == set(TABLES)
        assert ws.table("order_lines").count().execute() > 5000
    assert demo_workspace.with_suffix(".truth.json").exists()
