"""The lifetime-value model's two fits: likelihoods exact in the tails, and the fast fit agrees with NUTS."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from omnimodel import Workspace, diagnostics
from omnimodel.profile.clv import PARAMETERS, RETURN_PARAMETERS, CLVModel, purchase_summary
from omnimodel.profile.clv.likelihood import gamma_gamma_loglik, mbgnbd_loglik


def test_the_likelihoods_stay_exact_far_in_the_tails():
    """Huge shapes (a proposal's tail) must not cancel large log-gammas against each other. Reference: the
    MBG/NBD written with the dropout term as a finite sum, log B(a, b + x + 1) - log B(a, b) =
    sum_{j <= x} log1p(-a / (a + b + j)), exact for whole x; before the rewrite one such point scored 800 above
    the mode."""
    x, t_x, T = np.array([0.0, 3.0, 20.0]), np.array([0.0, 0.5, 1.5]), np.array([2.0, 2.0, 2.0])
    r, alpha = 0.5, 0.2
    for a, b in ((np.exp(21.7), np.exp(33.3)), (0.8, 5.0), (np.exp(-20.0), np.exp(10.0))):
        dropout = np.array([np.log1p(-a / (a + b + np.arange(k + 1))).sum() for k in x.astype(int)])
        rates = (
            special.gammaln(r + x)
            - special.gammaln(r)
            + r * np.log(alpha / (alpha + T))
            - x * np.log(alpha + T)
        )
        gone = np.log(a / (b + x)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
        exact = rates + dropout + np.logaddexp(gone, 0)
        # one parameter point per row, as the Laplace fit evaluates it (the exact path)
        point = mbgnbd_loglik(r, alpha, np.full((1, 1), a), np.full((1, 1), b), x, t_x, T)
        np.testing.assert_allclose(point[0], exact, rtol=1e-12)
        if b < 1e6:  # per-customer parameters (log-betas) agree where they are not in a far tail
            np.testing.assert_allclose(mbgnbd_loglik(r, alpha, a, b, x, t_x, T), exact, rtol=1e-9)
    # Gamma-Gamma with a huge q: finite and smooth (close to its neighbour at e^29)
    got = gamma_gamma_loglik(2.0, np.exp(30.0), np.exp(30.0) * 50 / 2.0, np.array([3.0]), np.array([40.0]))
    near = gamma_gamma_loglik(2.0, np.exp(29.0), np.exp(29.0) * 50 / 2.0, np.array([3.0]), np.array([40.0]))
    assert np.isfinite(got).all() and abs(got[0] - near[0]) < 1e-3


@pytest.mark.slow
def test_the_fast_fit_agrees_with_nuts_and_falls_back_to_it(demo_workspace, monkeypatch):
    """On the demo, every parameter's Laplace median lies inside NUTS's 90 % interval and their interquartile
    ranges agree within 30 % (the tails of 1,000 NUTS draws of a skewed concentration are too noisy to compare);
    a check that fails makes ``auto`` sample with NUTS and say so."""
    with Workspace(demo_workspace) as ws:
        summary = purchase_summary(ws, "2024-12-31", "2025-12-31")
    settings = {"draws": 500, "tune": 500}
    fast = CLVModel(sampler_config=settings).fit(summary, random_seed=3, max_customers=1500)
    assert fast.diagnostics_.method == "laplace" and fast.diagnostics_.converged, fast.diagnostics_.as_text()
    assert fast.fit_note_ == ""
    monkeypatch.setattr(diagnostics, "MAX_PARETO_K", -np.inf)  # every check fails
    slow = CLVModel(sampler_config=settings).fit(summary, random_seed=3, max_customers=1500)
    assert slow.diagnostics_.method == "nuts" and "sampled with NUTS" in slow.fit_note_
    assert slow.diagnostics_.converged, slow.diagnostics_.as_text()
    a = fast.idata_.posterior.stack(sample=("chain", "draw"))
    b = slow.idata_.posterior.stack(sample=("chain", "draw"))
    misses = []
    for name in (*PARAMETERS, *RETURN_PARAMETERS):
        rows = zip(
            a[name].to_numpy().reshape(-1, a.sizes["sample"]),
            b[name].to_numpy().reshape(-1, b.sizes["sample"]),
            strict=True,
        )
        for got, ref in rows:
            lo, hi = np.quantile(ref, [0.05, 0.95])
            width = np.subtract(*np.quantile(got, [0.75, 0.25])) / np.subtract(
                *np.quantile(ref, [0.75, 0.25])
            )
            if not (lo <= np.median(got) <= hi and 0.7 <= width <= 1.3):
                misses.append(
                    (name, round(float(np.median(got)), 3), round(lo, 3), round(hi, 3), round(width, 2))
                )
    assert not misses, misses
