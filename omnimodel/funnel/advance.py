"""The advance model's two fits: PyMC's NUTS and a Laplace fit corrected by importance sampling (the default).

For stage ``s`` and a deal with segment, region, source channel and product::

    logit P(advance | s, deal) = stage_logit[s] + sum over factors f of effect_f[level of the deal]

with each ``effect_f`` sum-to-zero normal with a learned spread ``sigma_f``, binomial on the cell counts (see
:mod:`~omnimodel.funnel.model`). A factor whose levels the data pin is written centred (the effects themselves),
the others non-centred (standard normal ``z_f`` scaled by ``sigma_f``), in both fits. The Laplace fit
(:mod:`omnimodel.laplace`) writes the effects in an orthonormal basis of the sum-to-zero subspace, where the
ZeroSumNormal is an ordinary normal; it takes about a second and compiles nothing, where NUTS pays PyTensor's
compile (about 20 s on a cold cache) and its sampling. Both return an ArviZ InferenceData with the same
``stage_logit``, ``sigma_*`` and ``effect_*`` variables.
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


def fit_nuts(model, counts: pd.DataFrame, seed: int, progressbar: bool = False):
    """Sample the advance model (or, with ``pooling="none"``, one Beta(1, 1) per cell) with NUTS."""
    import pymc as pm

    coords = {"stage": model.stages_, **{f: model.levels_[f] for f in model.used_factors_}}
    with pm.Model(coords=coords) as pm_model:
        if model.pooling == "partial":
            logit = pm.Normal("stage_logit", 0.0, model.model_config["stage_logit_sigma"], dims="stage")[
                counts["stage_rank"].to_numpy()
            ]
            shape, rate = model.model_config["factor_sigma_gamma"]
            for f, idx in _codes(model, counts).items():
                # A boundary-avoiding Gamma prior on the spread: with 3-10 levels a HalfNormal lets sigma fall
                # to 0 and opens a funnel; this keeps the sampler out of it whichever parameterisation is used.
                sigma = pm.Gamma(f"sigma_{f}", alpha=shape, beta=rate)
                if model.centred_[f]:
                    effect = pm.ZeroSumNormal(f"effect_{f}", sigma=sigma, dims=f)
                else:
                    z = pm.ZeroSumNormal(f"z_{f}", sigma=1.0, dims=f)
                    effect = pm.Deterministic(f"effect_{f}", sigma * z, dims=f)
                logit = logit + effect[idx]
            pm.Binomial(
                "advanced", n=counts["n"].to_numpy(), logit_p=logit, observed=counts["advanced"].to_numpy()
            )
        else:
            pm_model.add_coord("cell", np.arange(len(counts)))
            p = pm.Beta("p_cell", 1.0, 1.0, dims="cell")
            pm.Binomial("advanced", n=counts["n"].to_numpy(), p=p, observed=counts["advanced"].to_numpy())
        settings = {k: v for k, v in model.sampler_config.items() if k != "method"}
        with quiet_sampler():
            return pm.sample(
                random_seed=seed, progressbar=progressbar, compute_convergence_checks=False, **settings
            )


def fit_laplace(model, counts: pd.DataFrame, seed: int):
    """The Laplace fit of the partially pooled model; returns the InferenceData and its diagnostics card."""
    import arviz as az

    cfg = model.model_config
    stage_rank = counts["stage_rank"].to_numpy()
    n, k = counts["n"].to_numpy(float), counts["advanced"].to_numpy(float)
    codes = _codes(model, counts)
    bases = {f: zero_sum_basis(len(model.levels_[f])) for f in codes}
    shape, rate = cfg["factor_sigma_gamma"]
    priors = {"stage_logit": ("normal", (0.0, float(cfg["stage_logit_sigma"])))}
    parameters: list[tuple[str, int]] = [("stage_logit", len(model.stages_))]
    for f, basis in bases.items():
        priors[f"sigma_{f}"] = ("gamma", (float(shape), float(rate)))
        # centred: the effects' own coordinates, their prior N(0, sigma) in the likelihood below
        priors[f"w_{f}"] = ("flat", (0.0, 0.0)) if model.centred_[f] else ("normal", (0.0, 1.0))
        parameters += [(f"sigma_{f}", 1), (f"w_{f}", basis.shape[1])]

    def effects(v: dict) -> dict[str, np.ndarray]:
        out = {}
        for f, basis in bases.items():
            effect = v[f"w_{f}"] @ basis.T
            out[f] = effect if model.centred_[f] else v[f"sigma_{f}"] * effect
        return out

    def loglik(v: dict) -> np.ndarray:
        logit = v["stage_logit"][:, stage_rank]
        prior = np.zeros(len(logit))
        for f, effect in effects(v).items():
            logit = logit + effect[:, codes[f]]
            if model.centred_[f]:
                w, sigma = v[f"w_{f}"], v[f"sigma_{f}"]
                prior += (-0.5 * (w / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)).sum(axis=1)
        return (k * logit - n * np.logaddexp(0.0, logit)).sum(axis=1) + prior

    n_draws = int(model.sampler_config["draws"]) * int(model.sampler_config["chains"])
    fit = laplace.fit([laplace.Block(tuple(parameters), loglik)], priors, n_draws, seed)
    card = Diagnostics.from_laplace(fit.pareto_k, fit.ess, n_draws)
    draws = fit.blocks[0].draws
    if not draws:  # no mode: nothing to draw (the card says so, and "auto" samples with NUTS)
        draws = {name: np.full((n_draws, size), np.nan) for name, size in parameters}
    post = {"stage_logit": draws["stage_logit"]}
    dims = {"stage_logit": ["stage"]}
    for f, effect in effects(draws).items():
        post[f"sigma_{f}"], post[f"effect_{f}"] = draws[f"sigma_{f}"][:, 0], effect
        dims[f"sigma_{f}"], dims[f"effect_{f}"] = [], [f]
        if not model.centred_[f]:
            post[f"z_{f}"], dims[f"z_{f}"] = draws[f"w_{f}"] @ bases[f].T, [f]
    coords = {"stage": model.stages_, **{f: model.levels_[f] for f in codes}}
    idata = az.from_dict(posterior={k: v[None] for k, v in post.items()}, coords=coords, dims=dims)
    return idata, card
