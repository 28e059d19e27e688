"""The channel plan: one object behind notebooks 04 and 05 and ``omnimodel targets``."""

import json

import numpy as np
import pandas as pd
import pytest

from omnimodel.exceptions import ConfigError


def _series():
    from omnimodel.forecasting.series import Hierarchy

    months = pd.period_range("2021-01", "2024-12", freq="M").astype(str)
    rng = np.random.default_rng(1)
    rows = [
        {"period": m, "channel": c, "value": 100 + 10 * (i % 12) + rng.normal(0, 3)}
        for i, m in enumerate(months)
        for c in ("shop", "web")
    ]
    return Hierarchy.from_frame(pd.DataFrame(rows), "period", ["channel"], "value", "M", name="revenue")


def test_a_plan_of_other_series_is_a_baseline_forecast_and_says_so():
    from omnimodel.app import plan_sections as show
    from omnimodel.app.plan import ChannelPlan

    plan = ChannelPlan(
        hierarchy=_series(), goals=None, horizon=2, choose_origins=1, score_origins=2, draws=100
    )
    assert not plan.targets_apply
    assert show.targets(plan).parts == [] and show.bridges(plan).parts == []  # nothing to show, nothing drawn
    with pytest.raises(ConfigError, match="targets need a workspace"):
        _ = plan.inputs
    report = plan.backtest_report("sales.csv")
    data = report.to_dict()
    assert data["origins"] == {"choose": 1, "score": 2} and data["periods"] == ["2021-01", "2024-12"]
    assert (
        json.loads(report.to_json())["overall"]["series"] == len(data["series"]) == 3
    )  # two channels, the total
    text = report.as_text()
    assert text.startswith("Baseline backtest of sales.csv (2021-01 to 2024-12, horizon 2)")
    assert f"{data['overall']['mase_model']:.3f}" in text
    summary = plan.summary()  # the baseline's answer: its accuracy against seasonal naive
    assert (
        summary.title == "Summary: revenue forecast"
        and summary.cards[1].label == "Forecast error (mean MASE)"
    )


@pytest.mark.slow
def test_reports_04_and_05_read_one_plan(demo_workspace, tmp_path, monkeypatch):
    from omnimodel.app.plan import ChannelPlan

    monkeypatch.chdir(tmp_path)  # the shared plan is kept in this project's .cache
    (tmp_path / "goals.yaml").write_text("year: 2026\ngrowth: {default: 0.1}\npipeline: ignored\n")
    small = {"horizon": 2, "choose_origins": 1, "score_origins": 1, "draws": 200, "seed": 3}
    targets, whatif = ChannelPlan(demo_workspace, **small), ChannelPlan(demo_workspace, **small)
    assert targets.targets_apply and targets.year == 2026
    assert not targets.shared.reused and whatif.shared.reused
    total = targets.outcome.level("total").iloc[0]
    assert whatif.under_goals.level("total").iloc[0]["p_hit"] == total["p_hit"]
    assert whatif.scenarios.iloc[0]["p_hit"] == total["p_hit"]  # the first scenario is the goals as set
    assert targets.summary().cards[2].label == "Chance to reach the revenue target"
