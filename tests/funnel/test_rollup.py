"""The roll-up by team, manager and owner: it adds up to the total draw by draw, owners are held against their
quotas (else their share of the goal), and people's names can be kept out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.funnel import rollup
from omnimodel.funnel.forecast import forecast_bookings
from omnimodel.funnel.measures import default_target

pytestmark = pytest.mark.slow
PERIOD = "2025Q3"


@pytest.fixture(scope="module")
def forecast(demo_default_workspace, june_fit):
    model, snap = june_fit
    with Workspace(demo_default_workspace) as ws:
        quotas = rollup.quotas_of(ws)
    return snap, forecast_bookings(model, snap, PERIOD, random_seed=2), quotas


def test_managers_and_teams_add_up_to_the_total_draw_by_draw(forecast):
    snap, fc, quotas = forecast
    assert {"owner", "manager", "team"} <= set(fc.by_group)
    for level in ("owner", "manager", "team"):
        np.testing.assert_allclose(fc.by_group[level].sum(axis=1).to_numpy(), fc.total, rtol=1e-9)
    table = rollup.rollup(fc, rollup.owner_targets(snap, PERIOD, "amount", 1.0, quotas))
    for level in ("owner", "manager", "team"):
        assert table.loc[table["level"] == level, "mean"].sum() == pytest.approx(fc.total.mean(), rel=1e-9)
    team_of = snap.deals.drop_duplicates("manager").set_index("manager")["team"]
    managers = table[table["level"] == "manager"]
    assert (managers["team"].to_numpy() == team_of.reindex(managers["name"]).to_numpy()).all()
    # the open deals' amounts by category add up to the open pipeline
    owners = table[table["level"] == "owner"]
    open_amount = fc.deals["amount"].fillna(0).sum()
    assert owners[["commit_amount", "best_case_amount", "pipeline_amount"]].to_numpy().sum() == pytest.approx(
        open_amount
    )


def test_owners_are_held_against_their_quotas_and_managers_against_the_sum(forecast):
    snap, fc, quotas = forecast
    targets = rollup.owner_targets(snap, PERIOD, "amount", 1.0, quotas)
    given = quotas[quotas["period"] == PERIOD].set_index("owner")["quota"]
    assert (targets["source"] == "quota").all() and len(given) > 0
    pd.testing.assert_series_equal(targets["target"].reindex(given.index), given, check_names=False)
    table = rollup.rollup(fc, targets).set_index(["level", "name"])
    for owner, quota in given.items():
        draws = fc.by_group["owner"][owner].to_numpy()
        assert table.loc[("owner", owner), "p_hit"] == pytest.approx((draws >= quota).mean())
    manager_quota = targets.groupby("manager")["target"].sum()
    for manager, quota in manager_quota.items():
        assert table.loc[("manager", manager), "target"] == pytest.approx(quota)


def test_without_quotas_owners_share_the_goal_by_their_recent_bookings(forecast):
    snap, fc, _ = forecast
    goal = default_target(snap, PERIOD, "amount")
    targets = rollup.owner_targets(snap, PERIOD, "amount", goal.value)
    assert (
        targets["target"].sum() == pytest.approx(goal.value)
        and "share of the goal" in targets["source"].iloc[0]
    )
    won = snap.deals[
        (snap.deals["outcome"] == "won") & snap.deals["closed_date"].between("2024-07-01", "2025-06-30")
    ]
    share = won.groupby("owner")["amount"].sum() / won["amount"].sum()
    np.testing.assert_allclose(targets["target"].reindex(share.index), goal.value * share)


def test_people_can_be_kept_out_of_what_is_shown(forecast):
    snap, fc, quotas = forecast
    table = rollup.rollup(fc, rollup.owner_targets(snap, PERIOD, "amount", 1.0, quotas))
    hidden = rollup.pseudonymise(table)
    people = set(snap.deals["owner"]) | set(snap.deals["manager"])
    text = hidden.to_csv()
    assert not any(name in text for name in people if name != "unknown")
    assert set(hidden.loc[hidden["level"] == "owner", "name"]) == {f"Owner {i:02d}" for i in range(1, 13)}
    # the same person gets the same pseudonym in the deal list as in the roll-up, even in a table with only some
    deals = rollup.pseudonymise(fc.deals)
    assert set(deals["manager"]) <= set(hidden.loc[hidden["level"] == "manager", "name"])
    some = table[table["level"] == "owner"].tail(3)
    alone = rollup.pseudonymise(some, snap.deals)["name"].tolist()
    together = rollup.pseudonymise(table, snap.deals).set_index(table.index).loc[some.index, "name"].tolist()
    assert alone == together and alone != rollup.pseudonymise(some)["name"].tolist()


def test_a_team_target_covers_the_owners_without_a_quota(forecast):
    """Quotas for some owners only: the others are held against their share of the goal, so the team's target
    covers the whole team (not 6,000 against a P50 of 236 k)."""
    snap, fc, quotas = forecast
    some = quotas[quotas["period"] == PERIOD].iloc[:2]
    targets = rollup.owner_targets(snap, PERIOD, "amount", 1_000_000.0, some)
    shared = rollup.owner_targets(snap, PERIOD, "amount", 1_000_000.0, None)
    quoted = some.set_index("owner")["quota"]
    assert targets.loc[quoted.index, "target"].tolist() == quoted.tolist()
    others = targets.index.difference(quoted.index)
    assert len(others) and targets.loc[others, "target"].tolist() == shared.loc[others, "target"].tolist()
    assert targets["target"].notna().all()
    assert (
        targets["source"].iloc[0].startswith("quota for 2 owners, share of the goal")
        and "without one" in targets["source"].iloc[0]
    )
