"""One plan per run: the backtest and the plan's draws are computed once per data, goals, settings and code,
and every later report (or one running at the same time) gets exactly the same numbers."""

import dataclasses
import multiprocessing
import time

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.targets import shared_plan
from omnimodel.targets.goals import load_strategy_goals
from omnimodel.targets.plan import plan_targets

pytestmark = pytest.mark.slow
SMALL = {"horizon": 2, "choose_origins": 1, "score_origins": 1, "draws": 200, "seed": 3}


def _goals():
    # Baseline only: the pipeline model's part of the plan is the same code path and costs a PyMC compile.
    return dataclasses.replace(load_strategy_goals("goals.yaml"), year=2026, pipeline="ignored")


def _plan(workspace, cache, **settings):
    with Workspace(workspace) as ws:
        return shared_plan(ws, _goals(), cache_dir=cache, **{**SMALL, **settings})


def test_a_second_report_reuses_the_plan_and_gets_the_same_numbers(demo_workspace, tmp_path):
    first = _plan(demo_workspace, tmp_path)
    again = _plan(demo_workspace, tmp_path)
    assert not first.reused and again.reused
    np.testing.assert_array_equal(first.inputs.baseline, again.inputs.baseline)
    pd.testing.assert_frame_equal(first.inputs.cells, again.inputs.cells)
    pd.testing.assert_frame_equal(first.backtest.summary, again.backtest.summary)
    goals = _goals()
    pd.testing.assert_frame_equal(
        plan_targets(first.inputs, goals).table, plan_targets(again.inputs, goals).table
    )
    assert "reused" in again.as_text() and "computed" in first.as_text()
    # Other settings are another plan, never the stored one.
    other = _plan(demo_workspace, tmp_path, seed=4)
    assert not other.reused
    assert not np.array_equal(other.inputs.baseline, first.inputs.baseline)


def _worker(args):
    workspace, cache = args
    start = time.monotonic()
    plan = _plan(workspace, cache)
    return plan.reused, time.monotonic() - start, float(plan.inputs.baseline.sum())


def test_reports_running_at_once_fit_once(demo_workspace, tmp_path):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_worker, [(demo_workspace, tmp_path)] * 2)
    assert sorted(r[0] for r in results) == [False, True]  # one computed, the other waited and reused
    assert results[0][2] == results[1][2]
    assert not list(tmp_path.glob(".plan-*"))  # no half-written plan left behind
