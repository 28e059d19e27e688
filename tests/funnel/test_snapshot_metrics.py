"""Snapshots see nothing from after their date; metrics add up."""

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.exceptions import ConfigError
from omnimodel.funnel import metrics, pipeline_snapshot
from omnimodel.funnel.definition import load_funnel


def test_snapshot_uses_no_information_from_after_its_date(demo_workspace):
    funnel = load_funnel("demo")
    with Workspace(demo_workspace) as ws:
        final = pipeline_snapshot(ws, funnel)
        early = pipeline_snapshot(ws, funnel, "2024-06-30")
    cut = pd.Timestamp("2024-06-30")
    assert (early.deals["created_date"] <= cut).all()
    closed = early.deals[early.deals["outcome"] != "open"]
    assert (closed["closed_date"] <= cut).all()
    # deals that were still open on that day but closed later are open in the snapshot
    later = final.deals.set_index("opportunity_id")
    reopened = early.open_deals["opportunity_id"]
    assert (later.loc[reopened, "outcome"] != "open").any()
    assert (early.stays["entered_at"] <= cut).all()
    # rewinding the final snapshot gives the same as building it from the workspace
    rewound = final.rewind(cut)
    pd.testing.assert_frame_equal(
        rewound.deals.sort_values("opportunity_id").reset_index(drop=True)[
            ["opportunity_id", "stage", "outcome"]
        ],
        early.deals.sort_values("opportunity_id").reset_index(drop=True)[
            ["opportunity_id", "stage", "outcome"]
        ],
    )


def test_transitions_agree_with_outcomes(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snap = pipeline_snapshot(ws, load_funnel("demo"))
    last = snap.transitions[snap.transitions["stage_rank"] == 3]
    won = (snap.deals["outcome"] == "won").sum()
    assert (last["result"] == "advanced").sum() == won
    lost = (snap.deals["outcome"] == "lost").sum()
    assert (snap.transitions["result"] == "lost").sum() == lost


def test_metrics_are_consistent(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snap = pipeline_snapshot(ws, load_funnel("demo"))
    conv = metrics.conversion(snap)
    assert conv["entered"].iloc[0] == len(snap.deals)
    assert (conv["entered"].diff().dropna() <= 0).all()  # a funnel narrows
    assert np.allclose(conv["entered"], conv["advanced"] + conv["lost"] + conv["still_open"])
    assert conv["to_win"].iloc[-1] == pytest.approx(conv["conversion"].iloc[-1])
    times = metrics.time_in_phase(snap)
    assert (times["median_days"] >= 0).all() and len(times) == 4
    vel = metrics.velocity(snap, by="segment")
    assert set(vel["segment"]) == set(snap.deals["segment"]) and (vel["velocity_per_day"] > 0).all()
    cov = metrics.coverage(snap, target=1_000_000, win_probability=np.full(len(snap.open_deals), 0.5))
    assert cov["weighted_value"] == pytest.approx(cov["open_value"] / 2)


def test_waterfall_balances(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snap = pipeline_snapshot(ws, load_funnel("demo"))
    before = snap.rewind("2025-09-30")
    steps = metrics.waterfall(before, snap).set_index("step")
    flow = steps.loc[["start", "new", "won", "lost"], "value"].sum()
    assert flow == pytest.approx(steps.loc["end", "value"])
    # By region: every region balances on its own and the regions add up to the total, step by step.
    by = metrics.waterfall(before, snap, by="region")
    wide = by.pivot_table(index="region", columns="step", values="value", aggfunc="sum").fillna(0)
    assert wide[["start", "new", "won", "lost"]].sum(axis=1).to_numpy() == pytest.approx(
        wide["end"].to_numpy()
    )
    assert wide.sum().reindex(steps.index, fill_value=0).to_numpy() == pytest.approx(
        steps["value"].to_numpy()
    )
    assert (
        by.groupby("step")["deals"].sum().reindex(steps.index, fill_value=0).tolist()
        == steps["deals"].tolist()
    )


def test_slippage_by_dimension_adds_up(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snap = pipeline_snapshot(ws, load_funnel("demo"), "2025-06-30")
    by_stage, by_channel = metrics.slippage(snap), metrics.slippage(snap, by="source_channel")
    assert set(by_channel["source_channel"]) == set(snap.open_deals["source_channel"])
    for column in ("open_deals", "overdue", "overdue_value"):
        assert by_channel[column].sum() == pytest.approx(by_stage[column].sum())
    assert by_stage["overdue"].sum() == (snap.open_deals["expected_close_date"] < snap.as_of).sum() > 0


def test_unknown_funnel_is_a_clear_error():
    with pytest.raises(ConfigError, match="not found"):
        load_funnel("no_such_funnel")


def test_the_tables_by_every_dimension_add_up_per_dimension(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snap = pipeline_snapshot(ws, load_funnel("demo"), "2025-06-30")
    before = snap.rewind("2025-03-31")
    total = metrics.slippage(snap)
    slipped = metrics.slippage_by_dimension(snap)
    assert list(dict.fromkeys(slipped["dimension"])) == metrics.dimensions(snap, open_only=True)
    for _, part in slipped.groupby("dimension"):
        assert part["overdue_value"].sum() == pytest.approx(total["overdue_value"].sum())
        assert part["overdue_value"].is_monotonic_decreasing
    steps = metrics.waterfall(before, snap).set_index("step")["value"]
    moved = metrics.waterfall_by_dimension(before, snap)
    for _, part in moved.groupby("dimension"):
        for step in ("start", "new", "won", "lost", "end"):
            assert part[step].sum() == pytest.approx(steps.get(step, 0.0), abs=len(part))  # rounded to units


def test_the_sources_lost_rule_holds_at_every_as_of_date(demo_workspace):
    """A source that records wins only (Olist) calls a deal lost after so many days; a snapshot on any date
    applies that rule as it stood that day, even to a deal that happened to win later."""
    import dataclasses

    funnel = load_funnel("demo")
    ruled = dataclasses.replace(funnel, lost_after_days=45)
    cut = pd.Timestamp("2024-06-30")
    with Workspace(demo_workspace) as ws:
        plain = pipeline_snapshot(ws, funnel, cut).deals.set_index("opportunity_id")
        early = pipeline_snapshot(ws, ruled, cut).deals.set_index("opportunity_id")
    overdue = plain[(plain["outcome"] == "open") & (cut - plain["created_date"] >= pd.Timedelta(days=45))]
    assert len(overdue) >= 5  # the trap: deals open past the rule
    assert (early.loc[overdue.index, "outcome"] == "lost").all()
    assert (early.loc[overdue.index, "closed_date"] == overdue["created_date"] + pd.Timedelta(days=45)).all()
    assert (early.loc[overdue.index, "final_outcome"] == "won").any()  # some won later, unknown that day
    young = plain.index.difference(overdue.index)
    pd.testing.assert_series_equal(early.loc[young, "outcome"], plain.loc[young, "outcome"])


def test_a_lost_rule_must_be_whole_days():
    from omnimodel.funnel.definition import parse_funnel

    assert parse_funnel({"stages": ["mql"], "lost_after_days": 180}).lost_after_days == 180
    assert load_funnel("olist_funnel").lost_after_days == 180
    with pytest.raises(ConfigError, match="lost_after_days"):
        parse_funnel({"stages": ["mql"], "lost_after_days": "half a year"})
