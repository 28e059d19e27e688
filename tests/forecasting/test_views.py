"""Forecast horizons, the nodes a fan chart shows, and ETS fits that do not converge are reported."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.forecasting import Hierarchy
from omnimodel.forecasting.baseline import BaselineBacktest, HierarchyForecast, converged


def _hierarchy() -> Hierarchy:
    index = pd.period_range("2023-01", "2025-12", freq="M")
    keys = pd.DataFrame({"channel": ["web", "web", "shop"], "region": ["N", "S", "N"]})
    values = np.arange(3 * len(index)).reshape(len(index), 3) + 10.0
    bottom = pd.DataFrame(values, index=index, columns=["web / N", "web / S", "shop / N"])
    return Hierarchy(bottom, keys, "revenue")


def test_periods_until_counts_to_the_end_of_a_target_year():
    h = _hierarchy()
    assert h.periods_until("2026-12") == 12
    assert h.until("2025-06").periods_until("2026-12") == 18


def test_nodes_to_show_follow_the_levels_not_the_labels():
    nodes = _hierarchy().nodes()
    fc = HierarchyForecast(
        nodes, pd.period_range("2026-01", periods=2, freq="M"), np.zeros((len(nodes), 2, 3)), {}
    )
    assert fc.nodes_to_show() == ["total", "shop", "web"]
    assert fc.nodes_to_show("web") == ["total", "web"]
    assert fc.nodes_to_show(second="N") == ["shop / N", "web / N"]
    assert fc.nodes_to_show("web", "N") == ["web / N"]


def test_a_fit_that_stopped_at_the_iteration_cap_is_reported_as_not_converged():
    from omnimodel.forecasting import models

    rng = np.random.default_rng(1)
    seasonal = 100 + 10 * np.sin(np.arange(48) * np.pi / 6) + rng.normal(0, 2, 48)
    # 17 parameters (damped trend, 12 seasonal states): Nelder-Mead runs out of its 1,000 iterations
    capped = models.fit("ETS(A,Ad,A)", seasonal, 12)
    assert capped.model_["fit"].nit > models.ITERATION_CAP and not converged(capped)
    simple = models.fit("ETS(A,N,N)", 50 + rng.normal(0, 1, 48), 12)  # one smoothing weight and a level
    assert simple.model_["fit"].nit <= models.ITERATION_CAP and converged(simple)


def test_backtest_summary_counts_the_fits_that_did_not_converge():
    detail = pd.DataFrame(
        {
            "node": ["a", "a", "a", "b"],
            "phase": ["choose", "score", "score", "score"],
            "model": ["m", "m", "seasonal naive", "m"],
            "mase": [1.0, 1.0, 1.2, 0.9],
            "converged": [True, False, True, False],
        }
    )
    summary = pd.DataFrame({"node": ["a", "b"], "model": ["m", "m"], "mase_model": [1.0, 0.9]})
    summary["mase_seasonal_naive"] = [1.2, 1.0]
    summary["fits_not_converged"] = [1, 1]
    bt = BaselineBacktest(summary, detail)
    assert bt.overall["fits_not_converged"] == 2
    assert bt.models == {"a": "m", "b": "m"}


def _two_channels(order):
    """Online around 10 a month, offline around 1,000, given in ``order``."""
    index = pd.period_range("2022-01", "2025-12", freq="M")
    level, seed = {"online": 10.0, "offline": 1000.0}, {"online": 1, "offline": 2}
    noise = {c: np.random.default_rng(seed[c]).standard_normal(len(index)) for c in order}
    bottom = pd.DataFrame({c: level[c] * (1 + 0.05 * noise[c]) for c in order}, index=index)
    return Hierarchy(bottom, pd.DataFrame({"channel": list(order)}), "revenue")


def test_a_hierarchy_forecasts_each_series_under_its_own_name_in_any_order():
    from omnimodel.forecasting.baseline import SNAIVE, forecast_hierarchy

    models = {"total": SNAIVE, "online": SNAIVE, "offline": SNAIVE}
    given = forecast_hierarchy(_two_channels(["online", "offline"]), 3, models, n_draws=200, seed=1)
    flipped = forecast_hierarchy(_two_channels(["offline", "online"]), 3, models, n_draws=200, seed=1)
    for fc in (given, flipped):
        mean = dict(zip(fc.nodes["node"], fc.draws.mean(axis=(1, 2)), strict=True))
        assert 5 < mean["online"] < 20 and 900 < mean["offline"] < 1100, mean
        assert mean["total"] == pytest.approx(mean["online"] + mean["offline"])
    order = [list(flipped.nodes["node"]).index(n) for n in given.nodes["node"]]
    np.testing.assert_allclose(given.draws, flipped.draws[order])
