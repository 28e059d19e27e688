"""Why the forecast changed: the parts add up exactly to the change, each part holds the deals it says, the
closed-form expectation agrees with the Monte Carlo forecast, and the ledger only ever grows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.cli import main
from omnimodel.funnel import ledger
from omnimodel.funnel.changes import PARTS, as_recorded, deal_values, forecast_change
from omnimodel.funnel.fits import fitted_model
from omnimodel.funnel.forecast import booked_in, forecast_bookings
from omnimodel.funnel.measures import default_target, level_targets

pytestmark = pytest.mark.slow
SAMPLER = {"draws": 300, "tune": 300}
D1, D2, PERIOD = "2025-05-31", "2025-06-30", "2025Q3"


@pytest.fixture(scope="module")
def month(june_fit, tmp_path_factory):
    """Fits and snapshots at two month-ends of the default demo (the later one shared: ``june_fit``)."""
    later_model, later = june_fit
    assert str(later.as_of.date()) == D2
    earlier = later.rewind(D1)
    fit = {"sampler_config": SAMPLER, "random_seed": 1, "cache_dir": tmp_path_factory.mktemp("fits")}
    return (fitted_model(earlier, **fit), earlier), (later_model, later)


def test_the_parts_add_up_exactly_and_hold_the_deals_they_name(month):
    (m1, s1), (m2, s2) = month
    change = forecast_change((m1, s1), (m2, s2), PERIOD)
    parts = change.parts.set_index("part")["change"]
    assert list(change.parts["part"]) == list(PARTS)
    assert parts.sum() == pytest.approx(change.after - change.before, rel=1e-12, abs=1e-6)
    d1, new1 = deal_values(m1, s1, PERIOD)
    d2, new2 = deal_values(m2, s2, PERIOD)
    assert change.before == pytest.approx(d1["expected"].sum() + new1)
    assert change.after == pytest.approx(d2["expected"].sum() + new2)
    # New deals: exactly the later value of the deals created in between.
    created = s2.deals.loc[s2.deals["created_date"] > s1.as_of, "opportunity_id"]
    assert parts["new deals"] == pytest.approx(d2.set_index("opportunity_id").loc[created, "expected"].sum())
    assert parts["new deals"] > 0 and parts["deals lost"] < 0
    # Each listed deal's part matches what happened to it between the dates.
    state1 = s1.deals.set_index("opportunity_id")
    state2 = s2.deals.set_index("opportunity_id")
    for row in change.deals.itertuples():
        if row.part == "new deals":
            assert row.opportunity_id not in state1.index
        elif row.part == "deals lost":
            assert state1.loc[row.opportunity_id, "outcome"] == "open"
            assert state2.loc[row.opportunity_id, "outcome"] == "lost"
        elif row.part == "stage moves":
            assert state1.loc[row.opportunity_id, "reached"] != state2.loc[row.opportunity_id, "reached"]
    counts = change.deals.groupby("part").size()
    for part, n in counts.items():
        if part != "amount changes":
            assert change.parts.set_index("part").loc[part, "deals"] == n
    # The model update alone: the earlier pipeline valued by both fits.
    refit = deal_values(m2, s1, PERIOD)
    assert parts["model update"] == pytest.approx(
        refit[0]["expected"].sum() + refit[1] - d1["expected"].sum() - new1
    )


def test_the_closed_form_is_what_the_monte_carlo_forecast_averages(month):
    _, (m2, s2) = month
    for period in (PERIOD, "2025Q2"):  # a period to come, and one that has nearly passed (booked so far)
        fc = forecast_bookings(m2, s2, period, random_seed=3, period_noise=False, n_draws=20_000)
        deals, new = deal_values(m2, s2, period)
        standard_error = fc.total.std() / np.sqrt(len(fc.total))
        assert abs(fc.total.mean() - deals["expected"].sum() - new) < 4 * standard_error + 1e-6
    assert fc.booked == booked_in(s2, "2025Q2") > 0 and fc.total.min() >= fc.booked
    for region, booked in fc.booked_by["region"].items():  # per level too, in the level's draws
        assert booked == booked_in(s2, "2025Q2", where={"region": region})
        assert fc.by_group["region"][region].min() >= booked


def test_a_slice_gets_its_share_of_new_deals_and_its_own_target(month):
    """The regions' expectations add up to the company's exactly (new deals included: a slice is not given the
    whole company's arrivals), and a region's chance to hit is against what that region booked."""
    _, (m2, s2) = month
    deals, new = deal_values(m2, s2, PERIOD)
    regions = sorted(s2.deals["region"].unique())
    parts = [deal_values(m2, s2, PERIOD, where={"region": r}) for r in regions]
    assert sum(d["expected"].sum() + n for d, n in parts) == pytest.approx(
        deals["expected"].sum() + new, rel=1e-9
    )
    assert all(0 < n < new for _, n in parts)
    targets = level_targets(s2, PERIOD, "amount", "region")
    company = default_target(s2, PERIOD, "amount")
    for region in regions:
        own = default_target(s2, PERIOD, "amount", where={"region": region})
        assert targets[region] == own.value < company.value and f"region {region}" in own.source
        if "a year earlier" in own.source:
            assert own.value == booked_in(s2, "2024Q3", where={"region": region})
    fc = forecast_bookings(m2, s2, PERIOD, random_seed=3)
    table = fc.to_frame("region", targets=targets).set_index("region")
    for region in regions:
        draws = fc.by_group["region"][region].to_numpy()
        assert table.loc[region, "p_hit"] == pytest.approx((draws >= targets[region]).mean())
    north = forecast_bookings(m2, s2, PERIOD, random_seed=3, where={"region": regions[0]})
    assert north.quantiles()["mean"] == pytest.approx(fc.by_group["region"][regions[0]].mean(), rel=0.05)


def test_recorded_amount_cuts_and_close_date_pushes_are_their_own_parts(month):
    (m1, s1), (m2, s2) = month
    open_both = s1.open_deals.merge(s2.open_deals, on="opportunity_id", suffixes=("_1", "_2"))
    still = open_both[open_both["reached_1"] == open_both["reached_2"]]
    cut, pushed = still["opportunity_id"].iloc[0], still["opportunity_id"].iloc[1]
    end = pd.Period(PERIOD).end_time.normalize()
    s2 = s2.rewind(s2.as_of)  # a copy whose export has the pushed close date
    s2.deals.loc[s2.deals["opportunity_id"] == pushed, "expected_close_date"] = end + pd.Timedelta(days=30)
    a1 = float(s1.deals.set_index("opportunity_id").loc[cut, "amount"])
    state2 = s2.deals.set_index("opportunity_id")
    recorded = pd.DataFrame(
        {
            "opportunity_id": [cut, pushed],
            "amount": [2 * a1, float(s1.deals.set_index("opportunity_id").loc[pushed, "amount"])],
            "expected_close_date": [state2.loc[cut, "expected_close_date"], end - pd.Timedelta(days=10)],
        }
    )
    earlier = as_recorded(s1, recorded)
    change = forecast_change((m1, earlier), (m2, s2), PERIOD)
    parts = change.parts.set_index("part")
    chance = deal_values(m2, earlier, PERIOD)[0].set_index("opportunity_id").loc[cut, "chance"]
    assert parts.loc["amount changes", "change"] == pytest.approx((a1 - 2 * a1) * chance)
    assert parts.loc["amount changes", "deals"] == 1
    assert parts.loc["slipped out", "deals"] == 1
    assert change.deals.set_index("opportunity_id").loc[pushed, "part"] == "slipped out"
    assert parts["change"].sum() == pytest.approx(change.after - change.before, rel=1e-12, abs=1e-6)


def test_the_ledger_only_grows_and_a_failed_forecast_adds_nothing(demo_workspace, tmp_path, capsys):
    path = tmp_path / "ledger.duckdb"
    args = ["pipeline", "forecast", "--workspace", str(demo_workspace), "--draws", "200", "--json"]
    assert main([*args, "--as-of", "2025-05-31", "--period", "2025Q3", "--ledger", str(path)]) == 0
    first = json.loads(capsys.readouterr().out)
    before = ledger.read(path)
    assert main([*args, "--as-of", "2025-06-30", "--period", "2025Q3", "--ledger", str(path)]) == 0
    second = json.loads(capsys.readouterr().out)
    after = ledger.read(path)
    assert first["ledger_run"] != second["ledger_run"]
    assert set(after["run_id"]) == {first["ledger_run"], second["ledger_run"]}
    pd.testing.assert_frame_equal(
        after[after["run_id"] == first["ledger_run"]].reset_index(drop=True), before
    )
    total = after[(after["run_id"] == second["ledger_run"]) & (after["group_by"] == "total")].iloc[0]
    assert total["p50"] == pytest.approx(second["p50"]) and str(total["as_of"])[:10] == "2025-06-30"
    # Means add up over a group's levels (P50s need not).
    regions = after[(after["run_id"] == second["ledger_run"]) & (after["group_by"] == "region")]
    assert regions["mean"].sum() == pytest.approx(total["mean"], rel=1e-9)
    deals = ledger.read(path, "deals")
    assert len(deals[deals["run_id"] == second["ledger_run"]]) > 0
    # A forecast that fails (a period the data cannot give) records nothing.
    assert main([*args, "--period", "not-a-period", "--ledger", str(path)]) != 0
    capsys.readouterr()
    pd.testing.assert_frame_equal(ledger.read(path), after)

    # `pipeline changes` starts from the last recorded forecast: its date, period and deal states.
    changes = ["pipeline", "changes", "--workspace", str(demo_workspace), "--draws", "200", "--json"]
    assert main([*changes, "--to", "2025-07-31", "--ledger", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["from"] == "2025-06-30" and out["period"] == "2025Q3" and out["recorded_deals"] > 0
    assert sum(p["change"] for p in out["parts"]) == pytest.approx(out["change"], abs=1e-6)
    assert main([*changes, "--from", "2025-06-30", "--to", "2025-07-31", "--ledger", "none"]) == 0
    text_free = json.loads(capsys.readouterr().out)
    # without a ledger the deals' states on the earlier date come from the demo's opportunity history alone
    with Workspace(demo_workspace) as ws:
        history = ws.table("opportunity_history").execute()
    known = history[pd.to_datetime(history["recorded_at"]) <= "2025-06-30"]["opportunity_id"].nunique()
    assert text_free["recorded_deals"] == known > 0 and text_free["period"] == "2025Q4"
