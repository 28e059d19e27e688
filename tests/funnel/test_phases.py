"""Measured phases: every measurement point of a funnel definition is computed from the data or said not to
be, with the reason; the planted helpful activity is found and the neutral ones are not."""

from __future__ import annotations

import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.exceptions import ConfigError
from omnimodel.funnel import funnel_for, phases, pipeline_snapshot
from omnimodel.funnel.definition import parse_funnel


@pytest.fixture(scope="module")
def demo_phases(demo_workspace):
    with Workspace(demo_workspace) as ws:
        snapshot = pipeline_snapshot(ws, funnel_for(ws))
        return snapshot, phases.load_activities(ws, snapshot.as_of)


def test_every_measurement_point_is_computed_or_says_why(demo_phases):
    snapshot, activities = demo_phases
    out = phases.measured_phases(snapshot, activities, "EUR")
    listed = [(s.name, m) for s in snapshot.funnel.stages for m in s.measurements]
    assert list(zip(out["phase"], out["measurement"], strict=True)) == listed
    computed = out["status"].isin(["computed", "target met", "target missed"])
    assert (computed | out["status"].str.startswith("not computable: ")).all()
    assert out.loc[computed, "value"].notna().all()
    reasons = out.set_index("measurement")["status"]
    assert "no discount column" in reasons["discount granted"]  # the canonical opportunities have none
    assert computed.sum() == len(out) - 1
    assert reasons["lead-to-qualified rate"] in ("target met", "target missed")  # demo.yaml sets targets


def test_a_rate_and_a_count_agree_with_the_stage_history(demo_phases, demo_small):
    snapshot, activities = demo_phases
    out = phases.measured_phases(snapshot, activities).set_index("measurement")["value"]
    tables, truth = demo_small
    ev = tables["stage_events"].sort_values(["opportunity_id", "entered_at"], kind="stable")
    ev["next"] = ev.groupby("opportunity_id")["stage"].shift(-1)
    ev["left"] = ev.groupby("opportunity_id")["entered_at"].shift(-1)
    year = snapshot.as_of - pd.DateOffset(years=1)
    left = ev[
        (ev["stage"] == "lead") & ev["left"].notna() & (ev["left"] > year) & (ev["left"] <= snapshot.as_of)
    ]
    assert out["lead-to-qualified rate"] == pytest.approx((left["next"] != "lost").mean())
    created = tables["opportunities"]["created_date"]
    assert out["leads per source channel"] == ((created > year) & (created <= snapshot.as_of)).sum()
    # response time: the planted first call comes a couple of days after a lead is created
    assert 0 <= out["response time"] <= 2 * truth["activities"]["first_call_mean_days"]


def test_the_planted_helpful_activity_is_found_and_the_neutral_ones_are_not(demo_phases, demo_small):
    snapshot, activities = demo_phases
    _, truth = demo_small
    out = phases.activity_association(snapshot, activities, seed=1).set_index(["phase", "activity"])
    helpful = truth["activities"]["helpful"]
    assert out.loc[(helpful["stage"], helpful["type"]), "association"] == "goes with advancing"
    neutral = [tuple(p) for p in truth["activities"]["neutral"] if tuple(p) in out.index]
    assert len(neutral) >= 6
    assert (out.loc[neutral, "association"] == "no clear association").all(), out.loc[neutral]
    counts = phases.activity_counts(snapshot, activities)
    assert counts.loc[counts["type"] == helpful["type"], "in_definition"].all()
    first = counts[
        (counts["phase"] == "lead") & (counts["type"] == "first call")
    ]  # "first call within 2 ..."
    assert (
        first["in_definition"].all()
        and not counts.loc[counts["phase"] != "lead"].query("type == 'first call'")["in_definition"].any()
    )


def test_words_name_metrics_and_a_stage_can_say_them():
    assert phases.metric_of("lead-to-qualified rate") == "rate"
    assert phases.metric_of("win rate by product and office") == "win_rate"
    assert phases.split_of("win rate by product and office") == "product"
    assert phases.split_of("prospects per agent") == "owner"
    assert phases.metric_of("days to close") == "days_to_close"
    assert phases.metric_of("gut feeling") is None
    raw = {"stages": [{"name": "lead", "measurements": ["gut feeling", "deal size"],
                       "metrics": {"gut feeling": "age"}, "targets": {"deal size": 1000}}]}  # fmt: skip
    stage = parse_funnel(raw).stages[0]
    assert stage.metrics == {"gut feeling": "age"} and stage.targets == {"deal size": 1000.0}
    with pytest.raises(ConfigError, match="not among its measurements"):
        parse_funnel({"stages": [{"name": "lead", "measurements": ["x"], "targets": {"y": 1}}]})


def test_a_definition_without_measurement_points_says_so_in_one_line(demo_phases):
    import dataclasses

    from omnimodel.notice import Skipped

    snapshot, activities = demo_phases
    bare = dataclasses.replace(
        snapshot.funnel,
        stages=tuple(dataclasses.replace(s, measurements=(), targets={}) for s in snapshot.funnel.stages),
    )
    empty = dataclasses.replace(snapshot, funnel=bare)
    assert phases.measured_phases(empty, activities).empty
    out = phases.phases_table(empty, activities)
    assert isinstance(out, Skipped) and "no measurement points" in str(out)
    table = phases.phases_table(snapshot, activities)
    assert "metric" not in table and len(table) == sum(len(s.measurements) for s in snapshot.funnel.stages)
