"""The two ways to fit the lifetime-value model, both from its one definition in
:mod:`~omnimodel.profile.clv.likelihood`: a Laplace approximation in numpy (the default, about a second) and
PyMC's NUTS (``method="nuts"``, or where the Laplace check fails). Both return an ArviZ InferenceData with the
same variables, so everything downstream reads either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from omnimodel import laplace
from omnimodel.diagnostics import Diagnostics, quiet_sampler
from omnimodel.profile.clv.likelihood import (
    PURCHASE,
    RETURNS,
    SERIAL,
    SPEND,
    derived,
    gamma_gamma_loglik,
    mbgnbd_loglik,
    purchase_parameters,
    returns_loglik,
    spend_parameters,
)


def _codes(frame: pd.DataFrame, by: str, groups: list) -> np.ndarray:
    return np.asarray(pd.Categorical(frame[by], categories=groups).codes)


@dataclass(frozen=True)
class Fitting:
    """What a fit needs of the lifetime-value model: its groups, the column that names them, the sampler."""

    groups: list[str]
    by: str
    sampler_config: dict[str, Any]


def _columns(frame: pd.DataFrame, *names: str) -> list[np.ndarray]:
    return [frame[c].to_numpy(float) for c in names]


def fit_nuts(model: Fitting, summary: pd.DataFrame, spenders: pd.DataFrame, spec: dict, seed: int) -> Any:
    """Sample the model with PyMC's NUTS; returns the InferenceData."""
    import pymc as pm
    import pytensor.tensor as pt

    groups = model.groups
    idx, sidx = _codes(summary, model.by, groups), _codes(spenders, model.by, groups)
    with pm.Model(coords={"group": groups}):
        v = {}
        for name, (kind, args) in spec.items():
            dims = None if name in SERIAL else "group"
            if kind == "lognormal":
                v[name] = pm.LogNormal(name, *args, dims=dims)
            elif kind == "beta":
                v[name] = pm.Beta(name, *args, dims=dims)
            else:
                v[name] = pm.Uniform(name, *args, dims=dims)
        for name, value in derived(v).items():
            pm.Deterministic(name, value, dims="group")
        per_customer = {k: (x if k in SERIAL else x[idx]) for k, x in v.items()}
        x, t_x, T = _columns(summary, "x", "t_x", "T")
        pm.Potential("purchases", mbgnbd_loglik(*purchase_parameters(per_customer), x, t_x, T, xp=pt).sum())
        per_spender = {k: v[k][sidx] for k in SPEND}
        x, m = _columns(spenders, "x", "repeat_value")
        pm.Potential("spend", gamma_gamma_loglik(*spend_parameters(per_spender), x, m, xp=pt).sum())
        if "mean_return" in spec:
            k, n = _columns(summary, "returned_lines", "lines")
            pm.Potential("returns", returns_loglik(per_customer, k, n, xp=pt).sum())
        settings = {key: value for key, value in model.sampler_config.items() if key != "method"}
        with quiet_sampler():
            return pm.sample(
                random_seed=seed, progressbar=False, compute_convergence_checks=False, **settings
            )


def _blocks(model: Fitting, summary: pd.DataFrame, spenders: pd.DataFrame, spec: dict) -> list[laplace.Block]:
    """The posterior's independent parts: purchases and spend per group, and the returns of everybody."""
    groups = model.groups
    idx, sidx = _codes(summary, model.by, groups), _codes(spenders, model.by, groups)
    blocks = []

    def purchases(x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
        return lambda v: mbgnbd_loglik(*purchase_parameters(v), x, t_x, T).sum(axis=1)

    def spend(x: np.ndarray, m: np.ndarray):
        return lambda v: gamma_gamma_loglik(*spend_parameters(v), x, m).sum(axis=1)

    for g in range(len(groups)):
        x, t_x, T = (c[idx == g] for c in _columns(summary, "x", "t_x", "T"))
        blocks.append(laplace.Block(tuple((name, 1) for name in PURCHASE), purchases(x, t_x, T), group=g))
        x, m = (c[sidx == g] for c in _columns(spenders, "x", "repeat_value"))
        blocks.append(laplace.Block(tuple((name, 1) for name in SPEND), spend(x, m), group=g))
    if "mean_return" in spec:
        # customers with the same group, lines and lines returned have the same likelihood: one row each
        cells = pd.DataFrame({"g": idx, "k": summary["returned_lines"], "n": summary["lines"]})
        cells = cells.value_counts().reset_index()
        g, k, n, weight = (cells[c].to_numpy() for c in ("g", "k", "n", "count"))

        def returns(v: dict) -> np.ndarray:
            per_cell = {name: (v[name] if name in SERIAL else v[name][:, g]) for name in v}
            return returns_loglik(per_cell, k.astype(float), n.astype(float)) @ weight

        blocks.append(
            laplace.Block((*((name, len(groups)) for name in RETURNS), *((s, 1) for s in SERIAL)), returns)
        )
    return blocks


def fit_laplace(
    model: Fitting, summary: pd.DataFrame, spenders: pd.DataFrame, spec: dict, seed: int
) -> tuple[Any, Diagnostics]:
    """The Laplace fit (see :mod:`omnimodel.laplace`); returns the InferenceData and its card."""
    import arviz as az

    n_draws = int(model.sampler_config["draws"]) * int(model.sampler_config["chains"])
    groups = model.groups
    blocks = _blocks(model, summary, spenders, spec)
    fit = laplace.fit(blocks, spec, n_draws, seed)
    if not fit.problems:
        post: dict[str, np.ndarray] = {name: np.zeros((n_draws, len(groups))) for name in (*PURCHASE, *SPEND)}
        for block, done in zip(blocks, fit.blocks, strict=True):
            for name, values in done.draws.items():
                if block.group is None:  # the returns block: every group's values, and the shared ones
                    post[name] = values[:, 0] if name in SERIAL else values
                else:
                    post[name][:, block.group] = values[:, 0]
        post |= derived(post)
    else:  # nothing to draw from: the card says why, and "auto" samples with NUTS instead
        post = {name: np.full((n_draws, len(groups)), np.nan) for name in (*PURCHASE, *SPEND)}
    dims = {name: ([] if name in SERIAL else ["group"]) for name in post}
    idata = az.from_dict(
        posterior={name: values[None] for name, values in post.items()}, coords={"group": groups}, dims=dims
    )
    return idata, Diagnostics.from_laplace(fit.pareto_k, fit.ess, n_draws)
