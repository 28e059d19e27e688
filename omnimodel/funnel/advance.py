"""The advance posterior, the pipeline model's first part: the chance to advance out of each stage, and its two
fits, a Laplace fit corrected by importance sampling (the default) and PyMC's NUTS.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from omnimodel import laplace
from omnimodel.diagnostics import Diagnostics, quiet_sampler
from omnimodel.exceptions import OmnimodelError
from omnimodel.funnel.snapshot import PipelineSnapshot
from omnimodel.laplace import check_method, fallback_note


def cell_counts(snapshot: PipelineSnapshot, factors: tuple[str, ...]) -> pd.DataFrame:
    """Sufficient statistics: per stage and factor combination, deals that left the stage and advanced."""
    t = snapshot.transitions[snapshot.transitions["result"] != "open"]
    grouped = t.groupby(["stage_rank", *factors], observed=True)["result"]
    return grouped.agg(n="size", advanced=lambda r: int((r == "advanced").sum())).reset_index()


@dataclass
class AdvancePosterior:
    """The chance to advance out of each stage: the posterior (``idata``) of the stage log-odds and of the
    effects of each factor and interaction used, with the cell counts it was fitted on. ``pooling="none"``: one
    Beta(1, 1) per cell instead (``p_cell``), to check the sampler against its closed form."""

    pooling: str
    stages: list[str]
    levels: dict[str, list[str]]  # each factor's levels, sorted
    used_factors: list[str]  # the factors with two levels or more (partial pooling only)
    interactions: list[tuple[str, ...]]  # the pairs of used factors with their own effect
    counts: pd.DataFrame  # per stage and cell: deals that left the stage (n) and advanced
    idata: Any = None
    diagnostics: Diagnostics | None = None
    fit_note: str = ""  # the fast fit's check failed and NUTS sampled instead

    @classmethod
    def fit(
        cls,
        snapshot: PipelineSnapshot,
        factors: tuple[str, ...],
        pooling: str,
        model_config: dict[str, Any],
        sampler_config: dict[str, Any],
        random_seed: int,
        progressbar: bool = False,
    ) -> AdvancePosterior:
        """Fit on a snapshot's cell counts: the Laplace fit, NUTS where its check fails (``method`` "auto"),
        or either alone. The unpooled model is always sampled."""
        method = check_method(sampler_config.get("method", "auto"))
        counts = cell_counts(snapshot, factors)
        if counts.empty:
            raise OmnimodelError(
                "no deal has left any stage yet: nothing to learn advance rates from",
                table="stage_events",
                fix="use a later as-of date or more history",
            )
        levels = {f: sorted(snapshot.deals[f].unique()) for f in factors}
        used = [f for f in factors if len(levels[f]) > 1] if pooling == "partial" else []
        pairs = [tuple(p) for p in model_config["interactions"] if set(p) <= set(used)]
        part = cls(pooling, list(snapshot.funnel.stage_names), levels, used, pairs, counts)
        if pooling == "partial" and method != "nuts":
            part.idata, part.diagnostics = fit_laplace(part, model_config, sampler_config, random_seed)
            if not part.diagnostics.converged and method == "auto":
                part.fit_note = fallback_note(part.diagnostics)
        if pooling == "none" or method == "nuts" or part.fit_note:
            part.idata = fit_nuts(part, model_config, sampler_config, random_seed, progressbar)
            part.diagnostics = Diagnostics.from_idata(part.idata)
        return part

    def to_state(self) -> dict[str, Any]:
        """Everything but the posterior, as JSON-able data (the posterior is saved as NetCDF)."""
        assert self.diagnostics is not None
        return {
            "pooling": self.pooling,
            "stages": self.stages,
            "levels": self.levels,
            "used_factors": self.used_factors,
            "interactions": [list(p) for p in self.interactions],
            "counts": self.counts.to_dict(orient="list"),
            "diagnostics": self.diagnostics.__dict__,
            "fit_note": self.fit_note,
        }

    @classmethod
    def from_state(cls, idata: Any, state: dict[str, Any]) -> AdvancePosterior:
        """The part :meth:`to_state` saved, with its posterior."""
        return cls(
            state["pooling"],
            state["stages"],
            state["levels"],
            state["used_factors"],
            [tuple(p) for p in state["interactions"]],
            pd.DataFrame(state["counts"]),
            idata,
            Diagnostics(**state["diagnostics"]),
            state["fit_note"],
        )

    def n_draws(self) -> int:
        """Posterior draws (chains x draws per chain)."""
        post = self.idata.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def level_codes(self, deals: pd.DataFrame, factor: str) -> np.ndarray:
        """Index of each deal's level of a factor in the fitted levels (-1 for a level never seen)."""
        values = deals[factor].astype("string").fillna("unknown").to_numpy(dtype=object)
        return pd.Index(self.levels[factor]).get_indexer(values)

    def terms(self) -> list[tuple[str, tuple[str, ...]]]:
        """The effects as (name, factors): each factor used, then each interaction ("a_x_b")."""
        return [(f, (f,)) for f in self.used_factors] + [("_x_".join(p), tuple(p)) for p in self.interactions]

    def term_index(self, codes: dict[str, np.ndarray], factors: tuple[str, ...]) -> np.ndarray:
        """Each deal's cell in a term's flattened effect, from its level codes (-1 where a level is unseen)."""
        index = np.zeros(len(codes[factors[0]]), dtype=np.int64)
        unseen = np.zeros(len(codes[factors[0]]), bool)
        for f in factors:
            index = index * len(self.levels[f]) + np.maximum(codes[f], 0)
            unseen |= codes[f] < 0
        return np.where(unseen, -1, index)

    def effect_draws(self, post: Any, name: str, factors: tuple[str, ...]) -> np.ndarray:
        """A term's effect draws over its cells (flattened), then a zero column: a level never seen gets the
        average effect, 0 under sum-to-zero, and index -1 picks it. ``post``: the posterior stacked to
        ``sample``. Array (draws, cells + 1)."""
        effect = post[f"effect_{name}"].transpose("sample", *factors).to_numpy()
        effect = effect.reshape(effect.shape[0], -1)
        return np.concatenate([effect, np.zeros((effect.shape[0], 1))], axis=1)

    def logits(self, deals: pd.DataFrame) -> np.ndarray:
        """Posterior draws of the advance log-odds: array (draws, deals, stages)."""
        if self.pooling == "none":
            raise OmnimodelError(
                "per-deal probabilities need pooling='partial'",
                fix="the unpooled model is for checking against the closed form",
            )
        post = self.idata.posterior.stack(sample=("chain", "draw"))
        base = post["stage_logit"].transpose("sample", "stage").to_numpy()  # (D, S)
        shift = np.zeros((base.shape[0], len(deals)))
        codes = {f: self.level_codes(deals, f) for f in self.used_factors}
        for name, factors in self.terms():
            shift += self.effect_draws(post, name, factors)[:, self.term_index(codes, factors)]
        return base[:, None, :] + shift[:, :, None]

    def win_from_start(self, cells: np.ndarray) -> np.ndarray:
        """P(win from the first stage) per posterior draw and cell of level codes (one column per used
        factor): array (draws, cells)."""
        post = self.idata.posterior.stack(sample=("chain", "draw"))
        logit = post["stage_logit"].transpose("sample", "stage").to_numpy()[:, None, :]  # (D, 1, S)
        codes = {f: cells[:, i] for i, f in enumerate(self.used_factors)}
        for name, factors in self.terms():
            effect = self.effect_draws(post, name, factors)
            logit = logit + effect[:, self.term_index(codes, factors)][:, :, None]
        return (1.0 / (1.0 + np.exp(-logit))).prod(axis=2)

    def stage_conversion(self) -> pd.DataFrame:
        """Average advance probability per stage (all cells, weighted as in the data) with 90 % intervals."""
        c = self.counts
        if self.pooling == "none":
            draws = self.idata.posterior["p_cell"].stack(sample=("chain", "draw")).to_numpy()  # (cells, D)
        else:
            logits = self.logits(c[list(self.levels)])  # (D, cells, S)
            draws = 1.0 / (1.0 + np.exp(-logits[:, np.arange(len(c)), c["stage_rank"].to_numpy()])).T
        rows = []
        for r, name in enumerate(self.stages):
            sel = c["stage_rank"].to_numpy() == r
            if not sel.any():
                continue
            w = c.loc[sel, "n"].to_numpy()
            avg = (draws[sel] * w[:, None]).sum(axis=0) / w.sum()
            rows.append(
                {
                    "stage": name,
                    "deals_left": int(w.sum()),
                    "advanced": int(c.loc[sel, "advanced"].sum()),
                    "observed_rate": c.loc[sel, "advanced"].sum() / w.sum(),
                    "mean": avg.mean(),
                    "p05": np.quantile(avg, 0.05),
                    "p95": np.quantile(avg, 0.95),
                }
            )
        return pd.DataFrame(rows)


def _codes(part: AdvancePosterior, counts: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        f: np.asarray(pd.Categorical(counts[f], categories=part.levels[f]).codes) for f in part.used_factors
    }


def zero_sum_basis(levels: int) -> np.ndarray:
    """An orthonormal basis (levels x levels - 1) of the vectors whose entries add up to zero."""
    u, _, _ = np.linalg.svd(np.eye(levels) - 1.0 / levels)
    return u[:, : levels - 1]


def _bases(part: AdvancePosterior) -> dict[str, np.ndarray]:
    """Per term, an orthonormal basis of its sum-to-zero effects (cells x coordinates); an interaction's is the
    Kronecker product of its factors' bases (sum-to-zero along both)."""
    out = {}
    for name, factors in part.terms():
        basis = zero_sum_basis(len(part.levels[factors[0]]))
        for f in factors[1:]:
            basis = np.kron(basis, zero_sum_basis(len(part.levels[f])))
        out[name] = basis
    return out


def _posterior(
    part: AdvancePosterior,
    variance_prior: tuple[float, float],
    draws: dict[str, np.ndarray],
    bases: dict[str, np.ndarray],
    seed: int,
    chains: int = 1,
) -> Any:
    """InferenceData from draws (chain-major rows) of the stage log-odds and each term's coordinates ``w_*``: the
    effects, and each spread drawn from its conditional given the coordinates."""
    import arviz as az

    a, b = (float(v) for v in variance_prior)
    rng = np.random.default_rng([seed, 1])
    post = {"stage_logit": draws["stage_logit"]}
    dims: dict[str, list[str]] = {"stage_logit": ["stage"]}
    for name, factors in part.terms():
        w = draws[f"w_{name}"]
        shape = (len(w), *(len(part.levels[f]) for f in factors))
        post[f"effect_{name}"], dims[f"effect_{name}"] = (w @ bases[name].T).reshape(shape), list(factors)
        variance = (b + (w**2).sum(axis=1) / 2) / rng.gamma(a + w.shape[1] / 2, size=len(w))
        post[f"sigma_{name}"], dims[f"sigma_{name}"] = np.sqrt(variance), []
    coords = {"stage": part.stages, **{f: part.levels[f] for f in part.used_factors}}
    per_chain = {k: v.reshape(chains, len(v) // chains, *v.shape[1:]) for k, v in post.items()}
    return az.from_dict(posterior=per_chain, coords=coords, dims=dims)


def fit_nuts(
    part: AdvancePosterior,
    model_config: dict[str, Any],
    sampler_config: dict[str, Any],
    seed: int,
    progressbar: bool = False,
) -> Any:
    """Sample the advance model (or, with ``pooling="none"``, one Beta(1, 1) per cell) with NUTS."""
    import pymc as pm

    counts = part.counts
    with pm.Model() as pm_model:
        if part.pooling == "partial":
            a, b = (float(v) for v in model_config["effect_variance_prior"])
            bases = _bases(part)
            stage = pm.Normal("stage_logit", 0.0, model_config["stage_logit_sigma"], shape=len(part.stages))
            logit = stage[counts["stage_rank"].to_numpy()]
            codes = _codes(part, counts)
            for name, factors in part.terms():
                r = bases[name].shape[1]
                w = pm.MvStudentT(f"w_{name}", nu=2 * a, mu=np.zeros(r), scale=np.eye(r) * b / a)
                cells = part.term_index(codes, factors)
                logit = logit + pm.math.dot(bases[name][cells], w)
            pm.Binomial(
                "advanced", n=counts["n"].to_numpy(), logit_p=logit, observed=counts["advanced"].to_numpy()
            )
        else:
            pm_model.add_coord("cell", np.arange(len(counts)))
            p = pm.Beta("p_cell", 1.0, 1.0, dims="cell")
            pm.Binomial("advanced", n=counts["n"].to_numpy(), p=p, observed=counts["advanced"].to_numpy())
        settings = {k: v for k, v in sampler_config.items() if k != "method"}
        with quiet_sampler():
            idata = pm.sample(
                random_seed=seed, progressbar=progressbar, compute_convergence_checks=False, **settings
            )
    if part.pooling != "partial":
        return idata
    post = idata.posterior.stack(sample=("chain", "draw"))  # chain-major
    names = ["stage_logit", *(f"w_{name}" for name, _ in part.terms())]
    draws = {v: post[v].transpose("sample", ...).to_numpy() for v in names}
    prior = model_config["effect_variance_prior"]
    out = _posterior(part, prior, draws, bases, seed, chains=idata.posterior.sizes["chain"])
    out.add_groups({"sample_stats": idata.sample_stats})  # divergences, for the diagnostics card
    return out


def fit_laplace(
    part: AdvancePosterior, model_config: dict[str, Any], sampler_config: dict[str, Any], seed: int
) -> tuple[Any, Diagnostics]:
    """The Laplace fit of the partially pooled model; returns the InferenceData and its diagnostics card."""
    counts = part.counts
    stage_rank = counts["stage_rank"].to_numpy()
    n, k = counts["n"].to_numpy(float), counts["advanced"].to_numpy(float)
    codes = _codes(part, counts)
    bases = _bases(part)
    cells = {name: part.term_index(codes, fs) for name, fs in part.terms()}
    a, b = (float(v) for v in model_config["effect_variance_prior"])
    priors = {"stage_logit": ("normal", (0.0, float(model_config["stage_logit_sigma"])))}
    parameters: list[tuple[str, int]] = [("stage_logit", len(part.stages))]
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

    n_draws = int(sampler_config["draws"]) * int(sampler_config["chains"])
    fit = laplace.fit([laplace.Block(tuple(parameters), loglik)], priors, n_draws, seed)
    card = Diagnostics.from_laplace(fit.pareto_k, fit.ess, n_draws)
    draws = fit.blocks[0].draws
    if not draws:  # no mode: nothing to draw (the card says so, and "auto" samples with NUTS)
        draws = {name: np.full((n_draws, size), np.nan) for name, size in parameters}
    return _posterior(part, model_config["effect_variance_prior"], draws, bases, seed), card
