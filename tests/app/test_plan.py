"""The channel plan: one object behind notebooks 04 and 05 and ``omnimodel targets``."""

import json

import numpy as np
import pandas as pd
import pytest

from omnimodel.exceptions import ConfigError
from tests.conftest import SHARED_DATA


def _series(start: str = "2021-01"):
    from omnimodel.forecasting.series import Hierarchy

    months = pd.period_range(start, "2024-12", freq="M").astype(str)
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


def test_the_goals_year_is_used_and_else_the_datas(demo_workspace, tmp_path, monkeypatch):
    """A year in goals.yaml was read and then replaced by the data's default; now it holds (a notebook's `year`
    parameter still overrides it), and a goals file without one takes the data's."""
    from omnimodel.app.plan import ChannelPlan

    monkeypatch.chdir(tmp_path)
    (tmp_path / "goals.yaml").write_text("year: 2025\ngrowth: {default: 0.1}\n")
    assert ChannelPlan(demo_workspace).year == 2025 and ChannelPlan(demo_workspace).targets_apply
    assert ChannelPlan(demo_workspace, year=2026).year == 2026
    (tmp_path / "goals.yaml").write_text("growth: {default: 0.1}\n")
    plan = ChannelPlan(demo_workspace)
    assert plan.year == 2026 and plan.goals is not None and plan.goals.year == 2026 and plan.targets_apply


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")
def test_without_a_complete_year_the_plan_is_the_baseline_and_says_why(
    online_retail_workspace, tmp_path, monkeypatch
):
    """The trap: Online Retail runs from 1 Dec 2010 to 9 Dec 2011, no complete calendar year to grow. The goals
    `omnimodel init` writes then leave the year out; report 04 gives the baseline forecasts and says why in a line,
    instead of failing on the goals file."""
    from omnimodel.app import plan_sections
    from omnimodel.app.plan import ChannelPlan

    monkeypatch.chdir(tmp_path)
    (tmp_path / "goals.yaml").write_text("growth: {default: 0.05}\n")
    plan = ChannelPlan(online_retail_workspace)
    assert not plan.targets_apply and plan.goals is None and plan.year is None
    said = plan_sections.data_used(plan).text()
    assert said.startswith("Baseline forecasts only: targets grow last year's revenue, but the orders")
    assert "(01 Dec 2010 to 09 Dec 2011) hold no complete calendar year" in said


def test_a_short_history_is_backtested_on_the_origins_it_holds():
    """The trap: 18 months of orders leave 12 months before the target year, too few for the default 4 choosing
    and 6 scoring origins of horizon 3 ("12 periods are too few for 10 origins", settings a user never saw). The
    plan backtests on the 6 origins the history holds, in the same proportion, and says so."""
    from omnimodel.app import plan_sections as show
    from omnimodel.app.plan import ChannelPlan

    plan = ChannelPlan(hierarchy=_series("2024-01"), goals=None, horizon=3, draws=100)
    assert (plan.choose_origins, plan.score_origins) == (4, 6) and plan.origins == (2, 4)
    said = show.backtest(plan).text()
    assert (
        "The history holds 12 periods: the backtest chooses each model on 2 origins and scores it on 4"
        in said
    )
    assert plan.backtest_report("sales.csv").to_dict()["origins"] == {"choose": 2, "score": 4}
    long = ChannelPlan(hierarchy=_series(), goals=None, horizon=3, draws=100)
    assert long.origins == (4, 6) and long.origins_note is None  # a history that holds them: as asked
