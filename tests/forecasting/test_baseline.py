"""Baseline forecasts: planted seasonality recovered, coherent reconciled draws, and real-data backtests."""

import numpy as np
import pandas as pd
import pytest

from omnimodel import ConfigError, Workspace
from omnimodel.data import demo
from omnimodel.data.workspace import write_workspace
from omnimodel.forecasting import baseline, series
from omnimodel.forecasting.reconcile import reconcile, reconciliation_matrix
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.slow
AU = SHARED_DATA / "au_tourism_regional"


@pytest.fixture(scope="module")
def demo_default(tmp_path_factory):
    tables, truth = demo.generate("default", seed=7)
    return (
        write_workspace(tmp_path_factory.mktemp("targets") / "demo.duckdb", tables, {"truth": truth}),
        tables,
        truth,
    )


def test_planted_seasonality_is_recovered(demo_default):
    path, tables, truth = demo_default
    with Workspace(path) as ws:
        h = series.workspace_revenue(ws, ("segment",))
    y = h.all_series()
    # The planted monthly order intensity of consumers and of businesses, weighted by their revenue shares.
    share_b = y["business"].sum() / y["total"].sum()
    planted = {k: np.asarray(v) / np.mean(v) for k, v in truth["seasonality"].items()}
    expected = (1 - share_b) * planted["consumer"] + share_b * planted["business"]
    for col, want in (("total", expected), ("business", planted["business"])):
        got = baseline.seasonal_profile(y[col]).to_numpy()
        assert np.abs(got - want).max() < 0.12, (col, got.round(2), want.round(2))
        assert np.corrcoef(got, want)[0, 1] > 0.9


def test_reconciled_draws_add_up_at_every_level(demo_workspace):
    with Workspace(demo_workspace) as ws:
        h = series.workspace_revenue(ws, ("channel", "region"))
    fc = baseline.forecast_hierarchy(h, 6, n_draws=200, seed=1)
    s = h.summing_matrix()
    bottom = fc.draws[s.sum(axis=1) == 1]
    np.testing.assert_allclose(fc.draws, np.einsum("nb,bhd->nhd", s, bottom), rtol=1e-9, atol=1e-6)
    nodes = fc.nodes.set_index("node")
    for channel in h.keys["channel"].unique():
        parts = [i for i, n in enumerate(fc.nodes["node"]) if n.startswith(f"{channel} / ")]
        np.testing.assert_allclose(fc.draws[nodes.index.get_loc(channel)], fc.draws[parts].sum(0), rtol=1e-9)
    assert (fc.quantiles()["p10"] <= fc.quantiles()["p90"]).all()


def test_reconciliation_is_a_projection_that_keeps_coherent_forecasts():
    keys = pd.DataFrame({"a": ["x", "x", "y"], "b": ["1", "2", "3"]})
    h = series.Hierarchy(pd.DataFrame(np.ones((3, 3)), columns=["x/1", "x/2", "y/3"]), keys)
    s = h.summing_matrix()
    g = reconciliation_matrix(s)
    np.testing.assert_allclose(g @ s, np.eye(3), atol=1e-12)
    coherent = s @ np.array([3.0, 5.0, 7.0])
    np.testing.assert_allclose(reconcile(coherent, s), coherent)
    incoherent = coherent + np.array([6.0, 0, 0, 0, 0, 0])  # total too high by 6
    fixed = reconcile(incoherent, s)
    assert np.isclose(fixed[0], fixed[-3:].sum()) and coherent[0] < fixed[0] < incoherent[0]


@pytest.mark.parametrize("loader", [series.au_visitor_nights, series.au_accommodation])
def test_au_tourism_baselines_beat_seasonal_naive(loader):
    h = loader(AU)
    result = baseline.backtest(h, n_select=4, n_score=8)
    o = result.overall
    assert o["mase_model"] < o["mase_seasonal_naive"], result.summary
    assert set(result.summary["node"]) == set(h.nodes()["node"])
    # the scoring origins come after the choosing ones, and every scored model was fitted
    d = result.detail
    assert d.loc[d["phase"] == "choose", "origin"].max() < d.loc[d["phase"] == "score", "origin"].min()
    assert result.summary["mase_model"].notna().all()


def test_mase_against_a_hand_computed_case():
    y = np.array([10.0, 20, 30, 10, 20, 30, 12, 22, 32])
    assert baseline.mase_scale(y[:6], 3) == 1.0  # an exact repeat has no spread: errors stay unscaled
    assert baseline.mase_scale(y, 3) == pytest.approx(1.0)  # seasonal differences 0, 0, 0, 2, 2, 2
    np.testing.assert_array_equal(baseline.seasonal_naive(y, 4, 3), [12, 22, 32, 12])


def test_choosing_per_level_gives_one_model_per_level(demo_workspace, capsys):
    with Workspace(demo_workspace) as ws:
        h = series.workspace_revenue(ws, ("channel", "region")).until("2025-12")
    per_series = baseline.backtest(h, h=3, n_select=2, n_score=1, progress=True)
    n = len(h.all_series().columns)
    assert f"{n}/{n}" in capsys.readouterr().err  # the progress bar counted every series
    per_level = baseline.backtest(h, h=3, n_select=2, n_score=1, choose_by="level")
    depth = h.nodes().set_index("node")["depth"]
    models = per_level.summary.set_index("node")["model"]
    assert (models.groupby(depth).nunique() == 1).all()
    # The level's model is the one with the lowest mean MASE over the level's series on the choosing origins.
    choose = per_level.detail[per_level.detail["phase"] == "choose"]
    cells = choose[choose["node"].map(depth) == 2].pivot_table(index="node", columns="model", values="mase")
    assert models[depth[depth == 2].index[0]] == cells.dropna(axis=1).mean().idxmin()
    assert per_series.summary["mase_seasonal_naive"].equals(per_level.summary["mase_seasonal_naive"])
    with pytest.raises(ValueError, match="choose_by"):
        baseline.backtest(h, choose_by="global")


@pytest.fixture(scope="module")
def demo_continued(tmp_path_factory):
    """The demo company generated one year further (as-of 2026-12-31): 2026 is the planted process continued,
    the truth a forecast made from 2023-2025 must hit."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "END", pd.Timestamp("2026-12-31"))
        tables, truth = demo.generate("default", seed=11)
    path = write_workspace(tmp_path_factory.mktemp("continued") / "demo.duckdb", tables, {"truth": truth})
    with Workspace(path) as ws:
        return series.workspace_revenue(ws, ("channel", "region"))


def test_planted_trend_is_recovered_a_year_ahead(demo_continued):
    history = demo_continued.until("2025-12")
    actual = demo_continued.all_series()
    last, truth = actual.loc["2025"].sum()["total"], actual.loc["2026"].sum()["total"]
    models = baseline.choose_models(history, h=3, n_select=4)
    fc = baseline.forecast_hierarchy(history, 12, models, n_draws=1000, seed=1)
    draws = fc.period_total("2026-01", "2026-12")[list(fc.nodes["node"]).index("total")]
    # Planted: 15 % more new customers a year and 3 % price inflation on a growing base; realised 2026: +26 %.
    growth = np.median(draws) / last - 1
    assert abs(growth - (truth / last - 1)) < 0.06, (growth, truth / last - 1)
    assert np.quantile(draws, 0.05) < truth < np.quantile(draws, 0.95)


def test_product_groups_are_a_level_and_totals_agree(demo_workspace):
    with Workspace(demo_workspace) as ws:
        by_region = series.workspace_revenue(ws, ("channel", "region")).all_series()
        by_group = series.workspace_revenue(ws, ("channel", "category")).all_series()
        with pytest.raises(ConfigError, match="colour"):
            series.workspace_revenue(ws, ("channel", "colour"))
    assert {"webshop / electronics", "stores / apparel"} <= set(by_group.columns)
    np.testing.assert_allclose(by_group["total"], by_region["total"])
    np.testing.assert_allclose(by_group["webshop"], by_region["webshop"])


@pytest.mark.parametrize(
    "failure",
    [np.linalg.LinAlgError("singular matrix"), NotImplementedError("tiny datasets"), ZeroDivisionError("0")],
    ids=["singular", "statsforecast tiny series", "division"],
)
def test_a_fit_that_fails_is_counted_per_series_and_a_bug_is_raised(monkeypatch, failure):
    from omnimodel.forecasting import models

    months = pd.period_range("2021-01", "2024-12", freq="M").astype(str)
    rng = np.random.default_rng(1)
    rows = [
        {"period": p, "channel": c, "value": 100 + 10 * (i % 12) + rng.normal(0, 3)}
        for i, p in enumerate(months)
        for c in ("shop", "web")
    ]
    h = series.Hierarchy.from_frame(pd.DataFrame(rows), "period", ["channel"], "value", "M", name="revenue")
    real = models.forecast

    def theta_fails(name, train, horizon, m):
        if name.startswith("Theta"):
            raise failure
        return real(name, train, horizon, m)

    monkeypatch.setattr(models, "forecast", theta_fails)
    result = baseline.backtest(h, n_select=2, n_score=2)
    thetas = result.failed[result.failed["model"].str.startswith("Theta")]
    assert len(thetas) == len(result.failed) > 0 and not result.detail["model"].str.startswith("Theta").any()
    assert not result.summary["model"].str.startswith("Theta").any()  # a model that failed did not compete
    assert result.summary["fits_failed"].sum() == len(thetas) == result.overall["fits_failed"]

    def bug(name, train, horizon, m):
        raise TypeError("a bug, not a series the model cannot describe")

    monkeypatch.setattr(models, "forecast", bug)
    with pytest.raises(TypeError, match="a bug"):
        baseline.backtest(h, n_select=2, n_score=2)


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")
def test_online_retail_countries_backtest_with_the_fits_statsforecast_refuses(online_retail_workspace):
    """Real data with tiny series (countries with a few orders a month over 12 months): ETS refuses some of them,
    the backtest counts those fits and chooses among the rest (report 04's Online Retail run)."""
    with Workspace(online_retail_workspace) as ws:
        h = series.workspace_revenue(ws, ("region", "country"))
    result = baseline.backtest(h, h=1, n_select=2, n_score=4)
    assert result.summary["model"].notna().all() and result.overall["fits_failed"] > 0
    assert set(result.failed["node"]) <= set(result.summary["node"])
