"""Judgement as data: the owners' planted call biases are recovered within their intervals, the intervals hold
the truth as often as they say, and calibrated calls are the calls times each owner's factor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data.demo_planted import CALL_FACTORS
from omnimodel.funnel import calls


@pytest.fixture(scope="module")
def called(demo_default_workspace, demo_snapshot):
    with Workspace(demo_default_workspace) as ws:
        table = calls.forecast_calls(ws)
    return table, calls.calibration(calls.track_record(table, demo_snapshot))


@pytest.mark.slow
def test_the_planted_optimist_and_sandbagger_are_recovered(called):
    _, cal = called
    cal = cal.set_index("owner")
    for owner in cal.index:
        truth = -np.log(CALL_FACTORS.get(owner, 1.0))  # booked = commit / factor
        if owner in CALL_FACTORS:
            assert cal.loc[owner, "bias_low"] <= truth <= cal.loc[owner, "bias_high"], owner
        else:
            assert cal.loc[owner, "reading"] == "calls as booked", owner
    assert cal.loc["Rep 03", "reading"].startswith("calls too high")
    assert cal.loc["Rep 07", "reading"].startswith("sandbags")


def test_the_intervals_hold_the_truth_as_often_as_they_say():
    """Biases drawn from the model's own assumptions: the 90 % intervals hold 90 % of them."""
    rng = np.random.default_rng(5)
    held = total = 0
    for r in range(150):
        tau, mu = rng.uniform(0.01, 0.3), rng.uniform(-0.1, 0.1)
        truth = pd.Series(rng.normal(mu, tau, 12), index=[f"o{j:02d}" for j in range(12)])
        record = pd.DataFrame(
            [(o, t + rng.normal(0, 0.15)) for o, t in truth.items() for _ in range(10)],
            columns=["owner", "log_ratio"],
        )
        out = calls.calibration(record, draws=1000, seed=r).set_index("owner").reindex(truth.index)
        held += int(((out["bias_low"] <= truth) & (truth <= out["bias_high"])).sum())
        total += len(truth)
    assert 0.86 <= held / total <= 0.94


@pytest.mark.slow
def test_calibrated_calls_are_the_calls_times_each_owners_factor(called, demo_snapshot):
    table, cal = called
    out = calls.calibrated_calls(table, cal, "2026Q1", demo_snapshot.as_of).set_index("owner")
    made = table[table["period"].isin(["2026-01", "2026-02", "2026-03"])]
    factor = cal.set_index("owner")["factor"]
    expected = (made["commit"] * made["owner"].map(factor)).groupby(made["owner"]).sum()
    pd.testing.assert_series_equal(out["calibrated"], expected, check_names=False)
    assert (out["calibrated_p10"] < out["calibrated"]).all() and (
        out["calibrated"] < out["calibrated_p90"]
    ).all()
    # calls made after the as-of date or for periods not closed yet are not in the record
    record = calls.track_record(table, demo_snapshot.rewind("2025-06-29"))  # June not closed yet
    assert record["period"].max() <= "2025-05"
