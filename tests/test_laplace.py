"""The fast fit of Bayesian models (Laplace corrected by importance sampling): closed forms, and a posterior it
must refuse."""

from __future__ import annotations

import numpy as np
from scipy import stats

from omnimodel import laplace


def _fit(block, priors, n=2000, seed=0):
    fit = laplace.fit([block], priors, n, seed)
    return fit, fit.blocks[0].draws


def test_a_beta_binomial_posterior_matches_its_closed_form():
    """Beta(2, 8) prior, 7 of 40 advanced: the posterior is Beta(9, 41). The fit works on the log-odds with the
    Jacobian, so its draws must have the closed form's quantiles (a skewed posterior the normal alone misses)."""
    k, n = 7.0, 40.0
    block = laplace.Block(
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
    fit, draws = _fit(laplace.Block((("a", 1), ("b", 3)), loglik), priors, n=4000)
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
    block = laplace.Block(
        (("rate", 1),),
        lambda v: np.logaddexp(
            stats.norm.logpdf(np.log(v["rate"]), 0, 0.005), stats.norm.logpdf(np.log(v["rate"]), 0, 2)
        )[:, 0],
    )
    for seed in range(3):
        fit, _ = _fit(block, {"rate": ("lognormal", (0.1, 10.0))}, seed=seed)
        assert not fit.ok and fit.pareto_k > 0.7


def test_an_unknown_method_is_a_clear_error():
    import pytest

    from omnimodel.exceptions import OmnimodelError

    assert laplace.check_method("nuts") == "nuts"
    with pytest.raises(OmnimodelError, match="not one of auto, laplace, nuts"):
        laplace.check_method("vi")
