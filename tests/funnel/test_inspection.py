"""Deal inspection: the deals flagged at risk are exactly those the rules name, pushes and cuts come from the
ledger's recorded deal states, and the factors shown are the model's own effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnimodel.funnel.forecast import forecast_bookings
from omnimodel.funnel.inspection import STALE_BELOW, deal_factors, deals_at_risk

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(june_fit):
    model, snap = june_fit
    return model, snap, forecast_bookings(model, snap, "2025Q3", random_seed=2)


def test_stalled_and_overdue_deals_are_exactly_the_ones_flagged(fitted):
    model, snap, fc = fitted
    risky = deals_at_risk(model, snap, fc.deals).set_index("opportunity_id")
    d = snap.open_deals.set_index("opportunity_id")
    stalled, overdue = set(), set()
    for deal, row in d.iterrows():
        timing = model.timing_.stages[int(row["reached"])]
        chance = timing.still_advancing(np.array([row["days_in_stage"]], float))[0]
        if row["days_in_stage"] > timing.cut and chance < STALE_BELOW:
            stalled.add(deal)
        if row["expected_close_date"] < snap.as_of:
            overdue.add(deal)
    assert stalled and overdue
    said = risky["reasons"]
    assert set(said[said.str.contains("longer than 90 %")].index) == stalled
    assert set(said[said.str.contains("has passed")].index) == overdue
    assert list(risky["at_stake"]) == sorted(risky["at_stake"], reverse=True)


def test_pushes_and_cuts_come_from_the_recorded_deal_states(fitted):
    model, snap, fc = fitted
    d = snap.open_deals.set_index("opportunity_id")
    pushed, cut = d.index[0], d.index[1]
    close = d.loc[pushed, "expected_close_date"]
    recorded = pd.DataFrame(
        {
            "as_of": ["2025-04-30", "2025-05-31", "2025-06-15", "2025-05-31"],
            "opportunity_id": [pushed, pushed, pushed, cut],
            "expected_close_date": [
                close - pd.Timedelta(days=60),
                close - pd.Timedelta(days=30),
                close,
                None,
            ],
            "amount": [d.loc[pushed, "amount"]] * 3 + [d.loc[cut, "amount"] + 25_000],
        }
    )
    risky = deals_at_risk(model, snap, fc.deals, recorded).set_index("opportunity_id")
    assert (
        f"close date pushed 2 times (from {(close - pd.Timedelta(days=60)).date()}"
        in risky.loc[pushed, "reasons"]
    )
    assert (
        f"amount cut from {d.loc[cut, 'amount'] + 25_000:,.0f} to {d.loc[cut, 'amount']:,.0f}"
        in risky.loc[cut, "reasons"]
    )
    once = recorded[recorded["as_of"] != "2025-04-30"]  # one push is not "again and again"
    again = deals_at_risk(model, snap, fc.deals, once).set_index("opportunity_id")
    assert "pushed" not in again["reasons"].get(pushed, "")


def test_the_factors_shown_are_the_models_posterior_mean_effects(fitted):
    model, snap, _ = fitted
    deals = snap.open_deals.reset_index(drop=True)
    effects = deal_factors(model, deals)
    post = model.idata_.posterior
    for f in model.advance_.used_factors:
        mean = post[f"effect_{f}"].mean(("chain", "draw")).to_series()
        np.testing.assert_allclose(effects[f], mean.reindex(deals[f].astype(str)).fillna(0).to_numpy())


def test_the_demos_planted_pushes_and_cuts_are_flagged_from_its_opportunity_history(
    demo_default_workspace, demo_model, demo_snapshot
):
    import json
    from pathlib import Path

    from omnimodel import Workspace
    from omnimodel.funnel.history import recorded_states

    truth = json.loads(Path(demo_default_workspace).with_suffix(".truth.json").read_text())[
        "opportunity_history"
    ]
    fc = forecast_bookings(demo_model, demo_snapshot, "2026Q1", n_draws=300, random_seed=1)
    with Workspace(demo_default_workspace) as ws:
        recorded = recorded_states(ws, demo_snapshot.as_of)
    risky = deals_at_risk(demo_model, demo_snapshot, fc.deals, recorded).set_index("opportunity_id")
    said = risky["reasons"]
    pushed = said[said.str.contains("close date pushed")]
    assert set(pushed.index) == set(truth["pushed"])  # every planted deal, pushed 2-4 times, and no other
    for deal, times in truth["pushed"].items():
        assert f"close date pushed {times} times" in pushed[deal]
    assert set(said[said.str.contains("amount cut")].index) == set(truth["cut"])
    # without the history (and no ledger) no push or cut can be seen
    plain = deals_at_risk(demo_model, demo_snapshot, fc.deals)["reasons"]
    assert not plain.str.contains("pushed|amount cut").any()
