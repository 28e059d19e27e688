"""Series beyond months and quarters (weeks with a yearly season, days with a weekly one), a user's own long
frame or CSV, results that depend on names and never on the order of rows or series, and a backtest that
scores the chosen model and seasonal naive on the same origins."""

import json

import numpy as np
import pandas as pd
import pytest

from omnimodel.cli import main
from omnimodel.exceptions import OmnimodelError
from omnimodel.forecasting import Hierarchy
from omnimodel.forecasting.baseline import CANDIDATES, SNAIVE, backtest, forecast_hierarchy, seasonal_naive

WEEKS = 160
LEVEL = {"store": 1000.0, "web": 10.0}


def _planted_week(channel: str, week: np.ndarray) -> np.ndarray:
    """The planted weekly sales: a yearly wave around the channel's level (the store peaks mid-year, web at
    the turn of the year)."""
    phase = 0.0 if channel == "store" else np.pi
    return LEVEL[channel] * (1 + 0.3 * np.sin(2 * np.pi * week / 52 + phase))


def _daily_rows(seed: int = 0) -> pd.DataFrame:
    """Daily sales rows (one per day and channel) whose weekly sums follow the planted pattern."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-01-03", periods=WEEKS * 7, freq="D")  # a Monday: whole weeks
    week = np.arange(len(days)) // 7
    frames = []
    for channel in LEVEL:
        daily = _planted_week(channel, week) / 7 * (1 + 0.02 * rng.standard_normal(len(days)))
        frames.append(pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "channel": channel, "sales": daily}))
    return pd.concat(frames, ignore_index=True)


def test_daily_rows_make_weekly_series_with_a_yearly_season():
    h = Hierarchy.from_frame(_daily_rows(), "day", ["channel"], "sales", freq="W")
    assert h.season_length == 52 and len(h.bottom) == WEEKS
    y = h.bottom["store"].to_numpy()
    # Seasonal naive repeats the same week one year before, not last week.
    np.testing.assert_allclose(seasonal_naive(y, 3, h.season_length), y[-52:-49])
    fc = forecast_hierarchy(h, 13, {n: "ETS(A,N,A)" for n in ("total", "store", "web")}, n_draws=300, seed=1)
    mean = dict(zip(fc.nodes["node"], fc.draws.mean(axis=2), strict=True))
    future = np.arange(WEEKS, WEEKS + 13)
    for channel in LEVEL:
        planted = _planted_week(channel, future)
        assert np.abs(mean[channel] / planted - 1).max() < 0.06, (channel, mean[channel].round(1), planted)


def test_daily_series_have_a_weekly_season():
    rows = _daily_rows()
    weekday = pd.to_datetime(rows["day"]).dt.dayofweek
    rows["sales"] *= np.where(weekday >= 5, 2.0, 1.0)  # weekends sell double
    h = Hierarchy.from_frame(rows, "day", ["channel"], "sales", freq="D")
    assert h.season_length == 7
    y = h.bottom["store"].to_numpy()
    np.testing.assert_allclose(seasonal_naive(y, 7, 7), y[-7:])


def test_from_frame_sums_rows_fills_gaps_and_names_bad_values():
    rows = pd.DataFrame(
        {"period": ["2024-01", "2024-01", "2024-03"], "channel": ["a", "a", "a"], "value": [1, 2, 5]}
    )
    h = Hierarchy.from_frame(rows, "period", ["channel"], "value", freq="M")
    assert h.bottom["a"].tolist() == [3.0, 0.0, 5.0]  # February had no row: 0
    with pytest.raises(OmnimodelError, match=r"\[series.value\] 1 row\(s\) without a value"):
        Hierarchy.from_frame(rows.assign(value=[1, "x", 5]), "period", ["channel"], "value", freq="M")
    with pytest.raises(OmnimodelError, match="no column"):
        Hierarchy.from_frame(rows, "month", ["channel"], "value", freq="M")
    with pytest.raises(OmnimodelError, match="not a period length"):
        Hierarchy.from_frame(rows, "period", ["channel"], "value", freq="Y")


def _two_level_rows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    months = pd.period_range("2019-01", "2025-12", freq="M")
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(len(months)) / 12)
    rows = []
    for channel, region, level in [
        ("web", "N", 10),
        ("web", "S", 40),
        ("shop", "N", 900),
        ("shop", "S", 300),
    ]:
        values = level * season * (1 + 0.05 * rng.standard_normal(len(months)))
        rows.append(
            pd.DataFrame({"month": months.astype(str), "channel": channel, "region": region, "v": values})
        )
    return pd.concat(rows, ignore_index=True)


@pytest.mark.slow
def test_results_depend_on_names_not_on_the_order_of_rows_or_series():
    rows = _two_level_rows()
    given = Hierarchy.from_frame(rows, "month", ["channel", "region"], "v", freq="M")
    shuffled = Hierarchy.from_frame(
        rows.sample(frac=1, random_state=5), "month", ["channel", "region"], "v", freq="M"
    )
    # The same series handed over in reverse order, as a user building a Hierarchy by hand might.
    reverse = given.bottom.columns[::-1]
    by_hand = Hierarchy(given.bottom[reverse], given.keys.iloc[::-1].reset_index(drop=True), "v")
    bt = [
        backtest(h, n_select=1, n_score=2).summary.set_index("node").sort_index()
        for h in (given, shuffled, by_hand)
    ]
    for other in bt[1:]:
        pd.testing.assert_frame_equal(bt[0], other)
    fcs = [
        forecast_hierarchy(h, 6, bt[0]["model"].to_dict(), n_draws=200, seed=2)
        for h in (given, shuffled, by_hand)
    ]
    quantiles = [fc.quantiles().set_index(["node", "period"]).sort_index() for fc in fcs]
    for other in quantiles[1:]:
        pd.testing.assert_frame_equal(quantiles[0], other)
    q = quantiles[0].xs(pd.Period("2026-01", "M"), level="period")["p50"]
    assert q["shop / N"] > 20 * q["web / N"]  # each series keeps its own scale under its own name


def test_model_and_seasonal_naive_are_scored_on_the_same_origins(monkeypatch):
    # A model that cannot be fitted at some scoring origins (here: every other one, forced) is compared with
    # seasonal naive on the origins where both have a forecast, not on seasonal naive's full set.
    from omnimodel.forecasting import models

    fitted = models.forecast

    def every_other(name, train, h, m):
        if name != SNAIVE and len(train) > 14 and len(train) % 2:
            raise ValueError("cannot be fitted here")
        return fitted(name, train, h, m)

    monkeypatch.setattr(models, "forecast", every_other)
    rng = np.random.default_rng(0)
    quarters = pd.period_range("2019Q1", periods=24, freq="Q")
    y = 100 * (1 + 0.3 * np.tile([1, -1, 0.5, -0.5], 6)) + rng.normal(0, 3, 24)
    h = Hierarchy(pd.DataFrame({"a": y}, index=quarters), pd.DataFrame({"channel": ["a"]}))
    result = backtest(h, h=2, n_select=2, n_score=8)
    row = result.summary.set_index("node").loc["a"]
    d = result.detail[(result.detail["node"] == "a") & (result.detail["phase"] == "score")]
    scored = d[d["model"] == row["model"]]["origin"]
    assert row["model"] != SNAIVE and 0 < row["scored_origins"] < 8
    assert row["scored_origins"] == len(scored)
    naive = d[(d["model"] == SNAIVE) & d["origin"].isin(scored)]["mase"].mean()
    assert row["mase_seasonal_naive"] == pytest.approx(naive)
    assert row["mase_model"] == pytest.approx(d[d["model"] == row["model"]]["mase"].mean())


@pytest.mark.slow
def test_the_cli_backtests_a_long_csv_of_weekly_series(tmp_path, capsys):
    path = tmp_path / "sales.csv"
    _daily_rows().rename(columns={"day": "date", "sales": "revenue"}).to_csv(path, index=False)
    args = ["targets", "backtest", "--csv", str(path), "--period-column", "date", "--levels", "channel"]
    assert (
        main(
            [
                *args,
                "--value",
                "revenue",
                "--freq",
                "W",
                "--horizon",
                "4",
                "--choose",
                "1",
                "--score",
                "1",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["season_length"] == 52
    assert {s["node"] for s in out["series"]} == {"total", "store", "web"}
    assert all(s["scored_origins"] == 1 for s in out["series"])
    assert main([*args, "--value", "sales", "--freq", "W"]) == 2
    assert "no column(s) sales" in capsys.readouterr().err


def test_models_that_become_possible_while_choosing_still_compete():
    # 36 months, choosing origins at 22 to 25 months: seasonal models can be fitted from 24 months on. They
    # compete on those origins (with seasonal naive) instead of losing to the one model present at all four.
    rng = np.random.default_rng(1)
    months = pd.period_range("2023-01", periods=36, freq="M")
    t = np.arange(36)
    y = 1000 * (1 + 0.01 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * (1 + 0.02 * rng.standard_normal(36))
    h = Hierarchy(pd.DataFrame({"a": y}, index=months), pd.DataFrame({"channel": ["a"]}))
    row = backtest(h, h=3, n_select=4, n_score=8).summary.set_index("node").loc["a"]
    assert "s" in CANDIDATES[row["model"]][1], row["model"]  # a seasonal ETS model
    assert row["scored_origins"] == 8 and row["mase_model"] < row["mase_seasonal_naive"]


def test_dates_written_day_first_are_read_day_first_and_an_ambiguous_order_is_asked():
    """The trap: a weekly export with dates like 05/02/2010 (5 February, day first). pandas read the ones it
    could month first and the rest day first: 143 weeks spread over 154, 27 of them 0 (checked with pandas
    2.3); read as the values show, they make 143 weeks with none missing. Where no day above 12 tells the
    order, the reading stops and asks."""
    weeks = pd.date_range("2010-02-05", periods=143, freq="7D")
    rows = pd.DataFrame({"date": weeks.strftime("%d/%m/%Y"), "store": "one", "sales": 1.0})
    h = Hierarchy.from_frame(rows, "date", ["store"], "sales", "W")
    assert len(h.bottom) == 143 and (h.bottom["one"] == 1.0).all()
    assert str(h.bottom.index[0].start_time.date()) == "2010-02-01"  # the week of Friday 5 February
    month_first = rows.assign(date=weeks.strftime("%m/%d/%y"))  # 02/05/10: the same dates, US order
    pd.testing.assert_frame_equal(
        Hierarchy.from_frame(month_first, "date", ["store"], "sales", "W").bottom, h.bottom
    )
    with pytest.raises(OmnimodelError, match="day-first dates .* but they were said to be month first"):
        Hierarchy.from_frame(rows, "date", ["store"], "sales", "W", dayfirst=False)
    early = rows.head(1).assign(date="05/02/2010")  # 5 February or 2 May: nothing tells
    with pytest.raises(OmnimodelError, match="read day first or month first alike"):
        Hierarchy.from_frame(early, "date", ["store"], "sales", "W")
    assert (
        str(Hierarchy.from_frame(early, "date", ["store"], "sales", "M", dayfirst=True).bottom.index[0])
        == "2010-02"
    )
    assert (
        str(Hierarchy.from_frame(early, "date", ["store"], "sales", "M", dayfirst=False).bottom.index[0])
        == "2010-05"
    )


def test_the_cli_asks_for_the_date_order_where_the_values_do_not_show_it(tmp_path, capsys):
    months = pd.date_range("2020-01-01", periods=36, freq="MS")  # every day is 01: either order reads
    rows = pd.DataFrame(
        {"date": months.strftime("%d/%m/%Y"), "channel": "web", "value": 100.0 + np.arange(36) % 12}
    )
    path = tmp_path / "sales.csv"
    rows.to_csv(path, index=False)
    args = ["targets", "backtest", "--csv", str(path), "--period-column", "date", "--levels", "channel"]
    args += ["--horizon", "2", "--choose", "1", "--score", "1", "--json"]
    assert main(args) == 2
    assert "--dayfirst or --monthfirst" in capsys.readouterr().err
    assert main([*args, "--dayfirst"]) == 0
    assert json.loads(capsys.readouterr().out)["periods"] == ["2020-01", "2022-12"]
