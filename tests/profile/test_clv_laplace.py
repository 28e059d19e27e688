"""The lifetime-value model's fast fit: closed forms, a posterior it must refuse, and agreement with NUTS."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from omnimodel import Workspace, diagnostics
from omnimodel.profile import clv_laplace
from omnimodel.profile.clv import PARAMETERS, RETURN_PARAMETERS, CLVModel, purchase_summary
from omnimodel.profile.clv_likelihood import gamma_gamma_loglik, mbgnbd_loglik


def _fit(block, priors, n=2000, seed=0):
    fit = clv_laplace.fit([block], priors, n, seed)
    return fit, fit.blocks[0].draws


def test_a_beta_binomial_posterior_matches_its_closed_form():
    """Beta(2, 8) prior, 7 of 40 advanced: the posterior is Beta(9, 41). The fit works on the log-odds with the
    Jacobian, so its draws must have the closed form's quantiles (a skewed posterior the normal alone misses)."""
    k, n = 7.0, 40.0
    block = clv_laplace.Block(
        (("chance", 1),), lambda v: (k * np.log(v["chance"]) + (n - k) * np.log1p(-v["chance"]))[:, 0]
    )
    fit, draws = _fit(block, {"chance": ("beta", (2.0, 8.0))}, n=4000)
    assert fit.ok and fit.pareto_k <= 0.7
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    np.testing.assert_allclose(np.quantile(draws["chance"][:, 0], q), stats.beta(9, 41).ppf(q), rtol=0.04)


def test_a_lognormal_posterior_matches_its_closed_form():
    """LogNormal prior on a rate and normal observations of its log: conjugate, so the log rate's posterior is
    normal with a known mean and sd, for two parameters at once (one of them sized 3)."""
    rng = np.random.default_rng(1)
    obs = {"a": rng.normal(0.7, 0.5, 30), "b": rng.normal([[-1.0, 0.0, 2.0]], 0.5, (12, 3))}

    def loglik(v):
        la, lb = np.log(v["a"]), np.log(v["b"])
        return -0.5 * (((obs["a"][None, :] - la) / 0.5) ** 2).sum(1) - 0.5 * (
            ((obs["b"][None] - lb[:, None, :]) / 0.5) ** 2
        ).sum((1, 2))

    priors = {"a": ("lognormal", (0.0, 1.0)), "b": ("lognormal", (0.0, 1.0))}
    fit, draws = _fit(clv_laplace.Block((("a", 1), ("b", 3)), loglik), priors, n=4000)
    assert fit.ok
    for name, data in (("a", obs["a"][:, None]), ("b", obs["b"])):
        precision = 1.0 + len(data) / 0.25
        mean, sd = data.sum(axis=0) / 0.25 / precision, precision**-0.5
        got = np.log(draws[name])
        np.testing.assert_allclose(got.mean(axis=0), mean, atol=0.1 * sd)
        np.testing.assert_allclose(got.std(axis=0), sd, rtol=0.08)


def test_a_posterior_unlike_a_normal_is_refused():
    """Half the mass in a sharp spike and half in a broad shoulder: the curvature at the mode describes only the
    spike, the importance weights of the shoulder's draws blow up, and the check refuses the fit."""
    block = clv_laplace.Block(
        (("rate", 1),),
        lambda v: np.logaddexp(
            stats.norm.logpdf(np.log(v["rate"]), 0, 0.005), stats.norm.logpdf(np.log(v["rate"]), 0, 2)
        )[:, 0],
    )
    for seed in range(3):
        fit, _ = _fit(block, {"rate": ("lognormal", (0.1, 10.0))}, seed=seed)
        assert not fit.ok and fit.pareto_k > 0.7


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
    assert fast.diagnostics_.method == "laplace" and fast.diagnostics_.converged, fast.diagnostics_.message()
    assert fast.fit_note_ == ""
    monkeypatch.setattr(diagnostics, "MAX_PARETO_K", -np.inf)  # every check fails
    slow = CLVModel(sampler_config=settings).fit(summary, random_seed=3, max_customers=1500)
    assert slow.diagnostics_.method == "nuts" and "sampled with NUTS" in slow.fit_note_
    assert slow.diagnostics_.converged, slow.diagnostics_.message()
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
