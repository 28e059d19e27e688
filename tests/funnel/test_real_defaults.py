"""Defaults that hold on the bundled real data: the measure a pipeline forecast counts, where its target comes
from, velocity robust to a few huge deals, and columns or charts that cannot tell anything said so."""

import json

import numpy as np
import pandas as pd
import pytest

from omnimodel.cli import main
from omnimodel.data.workspace import Workspace
from omnimodel.funnel import funnel_for, metrics, phases
from omnimodel.funnel.forecast import booked_in
from omnimodel.funnel.measures import choose_measure, default_target, skew_note
from omnimodel.funnel.snapshot import pipeline_snapshot
from omnimodel.ingest.load import ingest
from omnimodel.notice import Skipped
from omnimodel.profile.channels import transitions_to_show
from omnimodel.profile.clv.tables import informative
from tests.conftest import SHARED_DATA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout"),
]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Snapshots (as of the data's end) of Olist and Maven, and their workspace files."""
    tmp = tmp_path_factory.mktemp("real")
    out = {}
    for name, adapter in (("olist", "olist_funnel"), ("maven", "maven_crm")):
        path = tmp / f"{name}.duckdb"
        ingest(SHARED_DATA / adapter, adapter, path)
        with Workspace(path) as ws:
            out[name] = (path, pipeline_snapshot(ws, funnel_for(ws, None)))
    return out


def test_olist_counts_won_deals_because_few_have_a_value(real):
    _, snap = real["olist"]
    measure, why = choose_measure(snap.deals)
    won = snap.deals[snap.deals["outcome"] == "won"]
    share = won["amount"].notna().mean()
    assert measure == "deals" and share < 0.1
    assert f"{share:.0%} of the {len(won):,} won deals have an amount" in why
    kept, warning = choose_measure(snap.deals, "amount")  # asked for: kept, with the warning
    assert kept == "amount" and "measure=deals" in warning
    # Maven's amounts carry a value forecast.
    assert choose_measure(real["maven"][1].deals)[0] == "amount"


def test_velocity_uses_medians(real):
    _, snap = real["olist"]
    v = metrics.velocity(snap, measure="amount").iloc[0]
    d = snap.deals
    start = snap.as_of - pd.Timedelta(days=90)
    won = d[(d["outcome"] == "won") & (d["closed_date"] > start)]
    expected = len(won) / 90 * won["amount"].median()
    assert v["velocity_per_day"] == pytest.approx(expected)
    # Robust: the largest declared revenue a hundred times larger leaves the velocity as it was.
    bigger = d.copy()
    bigger.loc[won["amount"].idxmax(), "amount"] *= 100
    again = metrics.velocity(type("Snap", (), {"deals": bigger, "as_of": snap.as_of})(), measure="amount")
    assert again.iloc[0]["velocity_per_day"] == pytest.approx(v["velocity_per_day"])
    deals = metrics.velocity(snap, measure="deals").iloc[0]
    assert deals["won_deals_per_day"] == pytest.approx(len(won) / 90)


def test_velocity_takes_every_figure_from_one_window(real):
    """The trap: Olist at the end of May 2018, 5,543 leads open and most of them months old. The textbook formula
    (open x win rate x value / cycle, from different windows) read about 150 won deals a day; 467 were won in the
    90 days before, 5.2 a day."""
    path, _ = real["olist"]
    with Workspace(path) as ws:
        snap = pipeline_snapshot(ws, funnel_for(ws, None), "2018-05-31")
    v = metrics.velocity(snap, measure="deals").iloc[0]
    d = snap.deals
    in_window = d[(d["outcome"] != "open") & (d["closed_date"] > snap.as_of - pd.Timedelta(days=90))]
    won = in_window[in_window["outcome"] == "won"]
    assert v["won_in_window"] == len(won) and v["won_deals_per_day"] == pytest.approx(len(won) / 90)
    assert v["win_rate"] == pytest.approx(len(won) / len(in_window))
    textbook = v["open_deals"] * v["win_rate"] / v["median_cycle_days"]
    assert v["won_deals_per_day"] < 10 < 100 < textbook


def test_outliers_are_listed_with_their_share():
    deals = pd.DataFrame(
        {
            "opportunity_id": [f"o{i}" for i in range(40)],
            "outcome": ["won"] * 40,
            "amount": [1000.0 + i for i in range(39)] + [5_000_000.0],
            "closed_date": pd.Timestamp("2024-01-01"),
        }
    )
    out = metrics.value_outliers(type("Snap", (), {"deals": deals})())
    assert out["opportunity_id"].tolist() == ["o39"]
    assert out["share_of_won_value"].iloc[0] == pytest.approx(5e6 / deals["amount"].sum())


def test_maven_default_target_is_not_its_ramp_up_quarter(real):
    _, snap = real["maven"]
    goal = default_target(snap, "2018Q1", "amount")
    # the usual quarter leaves the ramp-up out (2017Q1 booked 39 % of the others' median)
    quarters = ["2017Q2", "2017Q3", "2017Q4"]
    assert goal.value == pytest.approx(np.median([booked_in(snap, q) for q in quarters]))
    assert "2017Q1 (a year earlier) booked" in goal.warning and "ramp-up" in goal.warning
    assert (
        goal.source == "the median bookings of the 3 periods 2017Q2 to 2017Q4 (2017Q1, a ramp-up, left out)"
    )
    # A comparable year-earlier period is kept, and a given target says so.
    assert (
        default_target(snap, "2018-05", "amount").source
        == "bookings in 2017-05, the same period a year earlier"
    )
    assert default_target(snap, "2018Q1", "amount", given=1e6).as_text() == "Target 1,000,000: given."


def test_olist_forecast_from_the_cli_has_its_mean_inside_p10_p90(real, capsys, tmp_path):
    path, _ = real["olist"]
    ledger = str(tmp_path / "ledger.duckdb")
    assert (
        main(
            ["pipeline", "forecast", "--workspace", str(path), "--draws", "200", "--json", "--ledger", ledger]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["measure"] == "deals" and "won deals, not value" in out["measure_note"]
    assert out["p10"] <= out["mean"] <= out["p90"] and out["mean_note"] is None
    assert out["target_source"] and 0 <= out["p_hit_target"] <= 1
    assert out["at_risk"] and all(
        r["at_stake"] is not None for r in out["at_risk"]
    )  # counted deals, no amounts
    # the text output too (it failed on a deal without an amount, and its 32-character ids)
    assert main(["pipeline", "forecast", "--workspace", str(path), "--draws", "200", "--ledger", "none"]) == 0
    text = capsys.readouterr().out
    first = next(line for line in text.splitlines() if line.startswith("    ") and "in mql for" in line)
    assert len(first.split()[0]) == 32 and "deals at risk" in text


def test_maven_forecast_change_between_month_ends_adds_up(real, capsys):
    """The README's example: the parts add up exactly, and the deals won in June (before 2017Q3) are the
    ones the "won outside the period" part holds."""
    path, snap = real["maven"]
    args = ["pipeline", "changes", "--workspace", str(path), "--from", "2017-05-31", "--to", "2017-06-30"]
    assert main([*args, "--draws", "300", "--json", "--ledger", "none"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["period"] == "2017Q3" and out["measure"] == "amount"
    assert sum(p["change"] for p in out["parts"]) == pytest.approx(out["change"], abs=1e-6)
    parts = {p["part"]: p for p in out["parts"]}
    d = snap.deals
    won_in_june = d[
        (d["closed_date"] > "2017-05-31") & (d["closed_date"] <= "2017-06-30") & (d["outcome"] == "won")
    ]
    opened_before = won_in_june[won_in_june["created_date"] <= "2017-05-31"]
    assert parts["won outside the period"]["deals"] == len(opened_before) > 0
    assert parts["won outside the period"]["change"] < 0 < parts["new deals"]["change"]
    listed = {x["opportunity_id"] for x in out["deals"] if x["part"] == "won outside the period"}
    assert listed == set(opened_before["opportunity_id"])


def test_maven_rolls_up_by_agent_manager_and_office(real):
    """Maven's sales_teams.csv becomes the sales_team table: the forecast by manager adds up to the total draw
    by draw, and each manager sits in their regional office."""
    from omnimodel.funnel import rollup
    from omnimodel.funnel.fits import fitted_model
    from omnimodel.funnel.forecast import forecast_bookings

    _, snap = real["maven"]
    mid = snap.rewind("2017-06-30")
    model = fitted_model(mid, sampler_config={"draws": 300, "tune": 300}, random_seed=1)
    fc = forecast_bookings(model, mid, "2017Q3", random_seed=2)
    teams = pd.read_csv(SHARED_DATA / "maven_crm" / "sales_teams.csv")
    assert set(fc.by_group["manager"].columns) == set(teams["manager"])
    np.testing.assert_allclose(fc.by_group["manager"].sum(axis=1).to_numpy(), fc.total, rtol=1e-9)
    goal = default_target(mid, "2017Q3", "amount")
    table = rollup.rollup(fc, rollup.owner_targets(mid, "2017Q3", "amount", goal.value))
    managers = table[table["level"] == "manager"].set_index("name")
    assert managers["mean"].sum() == pytest.approx(fc.total.mean(), rel=1e-9)
    office = teams.drop_duplicates("manager").set_index("manager")["regional_office"]
    assert (managers["team"] == office.reindex(managers.index)).all()
    assert managers["target"].sum() == pytest.approx(goal.value)


def test_a_mean_above_the_p90_is_explained():
    assert "pull it up" in skew_note({"p10": 1.0, "p50": 2.0, "p90": 3.0, "mean": 5.0})
    assert skew_note({"p10": 1.0, "p50": 2.0, "p90": 3.0, "mean": 2.5}) is None


def test_online_retail_hides_what_cannot_discriminate(online_retail_workspace):
    with Workspace(online_retail_workspace) as ws:
        moves = transitions_to_show(ws)
    assert isinstance(moves, Skipped) and "no move between channels" in moves.reason
    values = pd.DataFrame({"p_alive": np.full(500, 0.999), "value": np.linspace(0, 900, 500)})
    kept, notes = informative(values, ["p_alive", "value"])
    assert kept == ["value"] and notes[0].startswith("p_alive is about 1.00 for almost every customer")


def test_online_retail_recommends_only_cross_sells_above_one(online_retail_workspace):
    from omnimodel.profile import baskets
    from omnimodel.strategy import segments

    with Workspace(online_retail_workspace) as ws:
        rules = baskets.association_rules(ws, by="segment")
        matrix = segments.segment_matrix(ws)
    recommended = baskets.cross_sell_recommendations(rules, by="segment", min_lift=1.0)
    assert len(rules) and len(recommended)
    assert (recommended["lift_low"] > 1).all()  # the whole interval above 1
    for advice in segments.how_to_address(matrix, rules)["best cross-sell"]:
        if advice != "no cross-sell stands out":
            lift = float(advice.rsplit("lift ", 1)[1].rstrip(")"))
            assert lift > 1, advice


@pytest.mark.parametrize("name", ["maven", "olist"])
def test_real_phases_are_measured_or_say_why(real, name):
    """Without an activities table: every measurement point of the bundled definitions computed, or said
    not computable with the reason (response time needs activities)."""
    path, snap = real[name]
    with Workspace(path) as ws:
        assert phases.load_activities(ws) is None
    out = phases.measured_phases(snap, None)
    assert len(out) == sum(len(s.measurements) for s in snap.funnel.stages)
    computed = out["status"].isin(["computed", "target met", "target missed"])
    assert computed.sum() >= 2 and out.loc[computed, "value"].notna().all()
    assert out.loc[~computed, "status"].str.startswith("not computable: ").all()
    if name == "maven":
        win = out.set_index("measurement").loc["win rate by product and office"]
        assert win["status"] == "computed" and "highest" in win["split"]
