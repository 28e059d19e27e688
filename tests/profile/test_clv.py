"""Lifetime value: the MBG/NBD estimator recovers planted purchase and dropout rates, and predicts a holdout."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from omnimodel import Workspace
from omnimodel.data import demo
from omnimodel.data.workspace import write_workspace
from omnimodel.profile.clv import CLVModel, mbgnbd_loglik, purchase_summary

pytestmark = pytest.mark.slow


def test_likelihood_maximum_is_at_the_simulated_truth():
    """Maximum likelihood on data simulated straight from the MBG/NBD story lands near the truth."""
    rng = np.random.default_rng(0)
    n, (r, alpha, a, b) = 6000, (1.2, 0.25, 1.0, 6.0)
    lam, p, T = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n), rng.uniform(0.5, 2.0, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = k = 0
        while rng.random() >= p[i]:  # dropout after each purchase, the first included
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            k, t_x[i] = k + 1, t
        x[i] = k
    res = minimize(
        lambda th: -mbgnbd_loglik(*np.exp(th), x, t_x, T).sum(),
        np.zeros(4),
        method="Nelder-Mead",
        options={"maxiter": 4000},
    )
    fit = np.exp(res.x)
    assert abs(fit[0] - r) / r < 0.15 and abs(fit[1] - alpha) / alpha < 0.15
    assert abs(fit[2] / (fit[2] + fit[3]) - a / (a + b)) < 0.03


@pytest.fixture(scope="module")
def flat_demo(tmp_path_factory):
    """The demo company without the seasonal profile: purchases follow MBG/NBD exactly."""
    tables, truth = demo.generate("default", seed=5, seasonality=False)
    return write_workspace(tmp_path_factory.mktemp("clv") / "flat.duckdb", tables, {"truth": truth}), truth


def test_planted_purchase_and_dropout_rates_are_recovered(flat_demo):
    path, truth = flat_demo
    with Workspace(path) as ws:
        summary = purchase_summary(ws, "2024-06-30", "2025-06-30", cohort_start="2023-01-01")
    summary = summary.sample(4000, random_state=1)
    # 2 x 1000 draws: the convergence check asks for ESS >= 400, which 2 x 500 draws meet only just.
    model = CLVModel(sampler_config={"draws": 1000, "tune": 500}).fit(summary, random_seed=1)
    assert model.diagnostics_.converged, model.diagnostics_.message()
    post = model.idata_.posterior.stack(sample=("chain", "draw"))
    misses = []
    for seg, planted in truth["purchase"].items():
        checks = {
            "mean_purchase_rate": planted["r"] / planted["alpha"],
            "mean_dropout": planted["a"] / (planted["a"] + planted["b"]),
            "r": planted["r"],
        }
        for var, value in checks.items():
            lo, hi = np.quantile(post[var].sel(group=seg).to_numpy(), [0.001, 0.999])
            if not lo <= value <= hi:
                misses.append((seg, var, value, round(lo, 3), round(hi, 3)))
    assert not misses, misses
    check = model.check_holdout(summary)
    assert abs(check.relative_error) < 0.1, check.by_frequency


def test_holdout_prediction_on_the_seasonal_demo(demo_workspace):
    with Workspace(demo_workspace) as ws:
        summary = purchase_summary(ws, "2024-06-30", "2025-06-30", cohort_start="2023-01-01")
    model = CLVModel(sampler_config={"draws": 300, "tune": 300}).fit(summary, random_seed=2)
    check = model.check_holdout(summary)
    assert abs(check.relative_error) < 0.25, (check.total_predicted, check.total_actual)
    values = model.customer_value(summary, years=1.0, n_draws=100)
    assert (values["value_p05"] <= values["value"] + 1e-9).all() and (
        values["value"] <= values["value_p95"] + 1e-9
    ).all()
    assert values["p_alive"].between(0, 1).all()
    # more past purchases, more expected future purchases (within a segment, same recency pattern)
    seg = values[values["segment"] == "families"]
    assert np.corrcoef(seg["x"], seg["expected_purchases"])[0, 1] > 0.3
