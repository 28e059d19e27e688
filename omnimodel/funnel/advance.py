"""The advance model's two fits: a Laplace fit corrected by importance sampling (the default) and PyMC's NUTS.

For stage ``s`` and a deal with segment, region, source channel and product::

    logit P(advance | s, deal) = stage_logit[s] + sum over factors f of effect_f[level of the deal]
                               + sum over interactions (f, g) of effect_f_x_g[level of f, level of g]

with each effect sum-to-zero normal (an interaction along both its factors) with its own variance, which has
an InverseGamma(a, b) prior; binomial on the cell counts (see :mod:`~omnimodel.funnel.model`).

Both fits integrate each variance out: given it, the effects' coordinates in an orthonormal basis of the
sum-to-zero subspace are independent normals, so without it they are jointly Student-t (2a degrees of freedom,
scale sqrt(b / a)). That posterior has no funnel between a spread and its effects: with the spreads as
parameters the importance weights failed their check wherever the data pinned a spread weakly (Maven, the small
demo, an interaction that is not there: Pareto k 0.76-0.98) and NUTS needed a centred or non-centred form per
factor, chosen by a rule; now both fits pass on every dataset we have. Each spread is then drawn from its exact
conditional, InverseGamma(a + r / 2, b + |w|^2 / 2) for r coordinates ``w``, so the posterior still reports
``sigma_*``. The Laplace fit (:mod:`omnimodel.laplace`) takes about a second and compiles nothing; NUTS pays
PyTensor's compile (about 20 s on a cold cache) and its sampling. Both return an ArviZ InferenceData with the
same ``stage_logit``, ``sigma_*`` and ``effect_*`` variables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel import laplace
from omnimodel.diagnostics import Diagnostics, quiet_sampler


def _codes(model, counts: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        f: np.asarray(pd.Categorical(counts[f], categories=model.levels_[f]).codes)
        for f in model.used_factors_
    }


def zero_sum_basis(levels: int) -> np.ndarray:
    """An orthonormal basis (levels x levels - 1) of the vectors whose entries add up to zero."""
    u, _, _ = np.linalg.svd(np.eye(levels) - 1.0 / levels)
    return u[:, : levels - 1]


def _bases(model) -> dict[str, np.ndarray]:
    """Per term, an orthonormal basis of its sum-to-zero effects (cells x coordinates); an interaction's is the
    Kronecker product of its factors' bases (sum-to-zero along both)."""
    out = {}
    for name, factors in model.terms():
        basis = zero_sum_basis(len(model.levels_[factors[0]]))
        for f in factors[1:]:
            basis = np.kron(basis, zero_sum_basis(len(model.levels_[f])))
        out[name] = basis
    return out


def _posterior(model, draws: dict[str, np.ndarray], bases: dict[str, np.ndarray], seed: int, chains: int = 1):
    """InferenceData from draws (chain-major rows) of the stage log-odds and each term's coordinates ``w_*``: the
    effects, and each spread drawn from its conditional given the coordinates."""
    import arviz as az

    a, b = (float(v) for v in model.model_config["effect_variance_prior"])
    rng = np.random.default_rng([seed, 1])
    post = {"stage_logit": draws["stage_logit"]}
    dims: dict[str, list[str]] = {"stage_logit": ["stage"]}
    for name, factors in model.terms():
        w = draws[f"w_{name}"]
        shape = (len(w), *(len(model.levels_[f]) for f in factors))
        post[f"effect_{name}"], dims[f"effect_{name}"] = (w @ bases[name].T).reshape(shape), list(factors)
        variance = (b + (w**2).sum(axis=1) / 2) / rng.gamma(a + w.shape[1] / 2, size=len(w))
        post[f"sigma_{name}"], dims[f"sigma_{name}"] = np.sqrt(variance), []
    coords = {"stage": model.stages_, **{f: model.levels_[f] for f in model.used_factors_}}
    per_chain = {k: v.reshape(chains, len(v) // chains, *v.shape[1:]) for k, v in post.items()}
    return az.from_dict(posterior=per_chain, coords=coords, dims=dims)


def fit_nuts(model, counts: pd.DataFrame, seed: int, progressbar: bool = False):
    """Sample the advance model (or, with ``pooling="none"``, one Beta(1, 1) per cell) with NUTS."""
    import pymc as pm

    with pm.Model() as pm_model:
        if model.pooling == "partial":
            a, b = (float(v) for v in model.model_config["effect_variance_prior"])
            bases = _bases(model)
            stage = pm.Normal(
                "stage_logit", 0.0, model.model_config["stage_logit_sigma"], shape=len(model.stages_)
            )
            logit = stage[counts["stage_rank"].to_numpy()]
            codes = _codes(model, counts)
            for name, factors in model.terms():
                r = bases[name].shape[1]
                w = pm.MvStudentT(f"w_{name}", nu=2 * a, mu=np.zeros(r), scale=np.eye(r) * b / a)
                cells = model.term_index(codes, factors)
                logit = logit + pm.math.dot(bases[name][cells], w)
            pm.Binomial(
                "advanced", n=counts["n"].to_numpy(), logit_p=logit, observed=counts["advanced"].to_numpy()
            )
        else:
            pm_model.add_coord("cell", np.arange(len(counts)))
            p = pm.Beta("p_cell", 1.0, 1.0, dims="cell")
            pm.Binomial("advanced", n=counts["n"].to_numpy(), p=p, observed=counts["advanced"].to_numpy())
        settings = {k: v for k, v in model.sampler_config.items() if k != "method"}
        with quiet_sampler():
            idata = pm.sample(
                random_seed=seed, progressbar=progressbar, compute_convergence_checks=False, **settings
            )
    if model.pooling != "partial":
        return idata
    post = idata.posterior.stack(sample=("chain", "draw"))  # chain-major
    names = ["stage_logit", *(f"w_{name}" for name, _ in model.terms())]
    draws = {v: post[v].transpose("sample", ...).to_numpy() for v in names}
    out = _posterior(model, draws, bases, seed, chains=idata.posterior.sizes["chain"])
    out.add_groups({"sample_stats": idata.sample_stats})  # divergences, for the diagnostics card
    return out


def fit_laplace(model, counts: pd.DataFrame, seed: int):
    """The Laplace fit of the partially pooled model; returns the InferenceData and its diagnostics card."""
    cfg = model.model_config
    stage_rank = counts["stage_rank"].to_numpy()
    n, k = counts["n"].to_numpy(float), counts["advanced"].to_numpy(float)
    codes = _codes(model, counts)
    bases = _bases(model)
    cells = {name: model.term_index(codes, fs) for name, fs in model.terms()}
    a, b = (float(v) for v in cfg["effect_variance_prior"])
    priors = {"stage_logit": ("normal", (0.0, float(cfg["stage_logit_sigma"])))}
    parameters: list[tuple[str, int]] = [("stage_logit", len(model.stages_))]
    for name, basis in bases.items():
        priors[f"w_{name}"] = ("flat", (0.0, 0.0))  # its Student-t prior is in the likelihood below
        parameters.append((f"w_{name}", basis.shape[1]))

    def loglik(v: dict) -> np.ndarray:
        logit = v["stage_logit"][:, stage_rank]
        prior = np.zeros(len(logit))
        for name, basis in bases.items():
            w = v[f"w_{name}"]
            logit = logit + (w @ basis.T)[:, cells[name]]
            prior -= (a + w.shape[1] / 2) * np.log1p((w**2).sum(axis=1) / (2 * b))  # constants left out
        return (k * logit - n * np.logaddexp(0.0, logit)).sum(axis=1) + prior

    n_draws = int(model.sampler_config["draws"]) * int(model.sampler_config["chains"])
    fit = laplace.fit([laplace.Block(tuple(parameters), loglik)], priors, n_draws, seed)
    card = Diagnostics.from_laplace(fit.pareto_k, fit.ess, n_draws)
    draws = fit.blocks[0].draws
    if not draws:  # no mode: nothing to draw (the card says so, and "auto" samples with NUTS)
        draws = {name: np.full((n_draws, size), np.nan) for name, size in parameters}
    return _posterior(model, draws, bases, seed), card
