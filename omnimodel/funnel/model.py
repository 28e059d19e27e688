"""Bayesian pipeline model: stage-to-stage advance probabilities with partial pooling, stage durations, arrivals.

Advance probabilities (PyMC). For stage ``s`` and a deal with segment, region, source channel and product::

    logit P(advance | s, deal) = stage_logit[s] + sum over factors f of sigma_f * z_f[level of the deal]

with ``z_f`` sum-to-zero standard normal (non-centred) and ``sigma_f`` learned, so sparse levels are pulled
towards the stage average as much as the data says. The likelihood is binomial on sufficient statistics:
deals that left a stage and how many of them advanced, per (stage x segment x region x channel x product) cell.
``pooling="none"`` fits each cell on its own with a Beta(1, 1) prior instead: its posterior is the closed-form
Beta(1 + advanced, 1 + lost), which the tests use to check the sampler.

Stage durations: exponential per stage with right-censoring for deals still in a stage, conjugate
Gamma(1 + exits, 10 + days exposed) posterior. New deals: Poisson arrivals per day, conjugate
Gamma(1 + created, days) posterior over the last year, with the mix and value of new deals resampled from the
deals created in that year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnimodel.exceptions import NotFittedError, OmnimodelError
from omnimodel.funnel.snapshot import FACTORS, PipelineSnapshot

default_model_config = {
    "stage_logit_sigma": 1.5,  # prior sd of each stage's average advance log-odds
    "factor_sigma": 0.5,  # HalfNormal scale of each factor's spread of log-odds
    "duration_prior": (1.0, 10.0),  # Gamma(shape, days) prior on exits per day in a stage
    "arrival_window_days": 365,
    "centred_min_deals": 200,  # a factor whose every level has this many resolved deals is fitted centred  # new-deal rate and mix come from deals created in this window before as_of
}
default_sampler_config = {"draws": 1000, "tune": 1000, "chains": 2, "cores": 1, "target_accept": 0.9}
CONVERGED_RHAT = 1.01
CONVERGED_ESS = 400


@dataclass(frozen=True)
class Diagnostics:
    """Convergence of a fit: the report says plainly when it has not converged."""

    max_rhat: float
    min_ess_bulk: float
    divergences: int
    draws: int
    chains: int

    @property
    def converged(self) -> bool:
        return self.max_rhat <= CONVERGED_RHAT and self.min_ess_bulk >= CONVERGED_ESS and self.divergences == 0

    def message(self) -> str:
        figures = (f"r-hat max {self.max_rhat:.3f}, effective sample size min {self.min_ess_bulk:,.0f}, "
                   f"{self.divergences} divergences ({self.chains} chains x {self.draws} draws)")
        if self.converged:
            return f"Converged: {figures}."
        return (f"NOT CONVERGED: {figures}. Needs r-hat <= {CONVERGED_RHAT}, ESS >= {CONVERGED_ESS} and no "
                "divergences; treat the numbers below with caution and refit with more draws.")

    def _repr_html_(self) -> str:
        import html

        colour = "#176b2c" if self.converged else "#b00020"
        return f'<p style="color:{colour};font-weight:600">{html.escape(self.message())}</p>'


def cell_counts(snapshot: PipelineSnapshot, factors=FACTORS) -> pd.DataFrame:
    """Sufficient statistics: per stage and factor combination, deals that left the stage and advanced."""
    t = snapshot.transitions[snapshot.transitions["result"] != "open"]
    grouped = t.groupby(["stage_rank", *factors], observed=True)["result"]
    out = grouped.agg(n="size", advanced=lambda r: int((r == "advanced").sum())).reset_index()
    return out


class PipelineModel:
    """Win probabilities, time to close and new-deal arrivals for a sales pipeline.

    Parameters
    ----------
    pooling : {"partial", "none"}
        ``partial``: hierarchical effects of segment, region, channel and product; ``none``: every cell alone.
    model_config, sampler_config : dict, optional
        Overrides of :data:`default_model_config` and :data:`default_sampler_config` (merged, never mutated).
    factors : tuple of str
        Deal attributes to pool over.

    Examples
    --------
    >>> model = PipelineModel(sampler_config={"draws": 500}).fit(snapshot, random_seed=1)  # doctest: +SKIP
    >>> model.diagnostics_.converged  # doctest: +SKIP
    True
    >>> model.win_probability(snapshot.open_deals).mean(axis=0)  # doctest: +SKIP
    """

    def __init__(self, pooling: str = "partial", model_config: dict | None = None,
                 sampler_config: dict | None = None, factors: tuple[str, ...] = FACTORS):
        if pooling not in ("partial", "none"):
            raise OmnimodelError(f"pooling {pooling!r} is not one of partial, none")
        self.pooling = pooling
        self.model_config = {**default_model_config, **(model_config or {})}
        self.sampler_config = {**default_sampler_config, **(sampler_config or {})}
        self.factors = tuple(factors)

    # --- fitting -------------------------------------------------------------------------------------------

    def fit(self, snapshot: PipelineSnapshot, random_seed: int = 0, progressbar: bool = False) -> PipelineModel:
        """Fit on a snapshot (only information up to its as-of date) and return self."""
        import arviz as az
        import pymc as pm

        self.stages_ = snapshot.funnel.stage_names
        counts = cell_counts(snapshot, self.factors)
        if counts.empty:
            raise OmnimodelError("no deal has left any stage yet: nothing to learn advance rates from",
                                 table="stage_events", fix="use a later as-of date or more history")
        self.counts_ = counts
        self.levels_ = {f: sorted(snapshot.deals[f].unique()) for f in self.factors}
        used = [f for f in self.factors if len(self.levels_[f]) > 1] if self.pooling == "partial" else []
        self.used_factors_ = used
        coords = {"stage": self.stages_, **{f: self.levels_[f] for f in used}}
        with pm.Model(coords=coords) as model:
            if self.pooling == "partial":
                stage_logit = pm.Normal("stage_logit", 0.0, self.model_config["stage_logit_sigma"], dims="stage")
                logit = stage_logit[counts["stage_rank"].to_numpy()]
                self.centred_ = {}
                for f in used:
                    sigma = pm.HalfNormal(f"sigma_{f}", self.model_config["factor_sigma"])
                    idx = pd.Categorical(counts[f], categories=self.levels_[f]).codes
                    # Non-centred where levels have little data (avoids the funnel); centred where every level has
                    # plenty, since then the data pin each effect and non-centring would create a ridge instead.
                    per_level = np.bincount(idx, weights=counts["n"].to_numpy(), minlength=len(self.levels_[f]))
                    centred = per_level.min() >= self.model_config["centred_min_deals"]
                    self.centred_[f] = bool(centred)
                    if centred:
                        effect = pm.ZeroSumNormal(f"effect_{f}", sigma=sigma, dims=f)
                    else:
                        z = pm.ZeroSumNormal(f"z_{f}", sigma=1.0, dims=f)
                        effect = pm.Deterministic(f"effect_{f}", sigma * z, dims=f)
                    logit = logit + effect[idx]
                pm.Binomial("advanced", n=counts["n"].to_numpy(), logit_p=logit, observed=counts["advanced"].to_numpy())
            else:
                model.add_coord("cell", np.arange(len(counts)))
                p = pm.Beta("p_cell", 1.0, 1.0, dims="cell")
                pm.Binomial("advanced", n=counts["n"].to_numpy(), p=p, observed=counts["advanced"].to_numpy())
            sampler = {k: v for k, v in self.sampler_config.items()}
            idata = pm.sample(random_seed=random_seed, progressbar=progressbar, compute_convergence_checks=False,
                              **sampler)
        self.model_ = model
        self.idata_ = idata
        summary = az.summary(idata, kind="diagnostics")
        self.diagnostics_ = Diagnostics(
            max_rhat=float(summary["r_hat"].max()),
            min_ess_bulk=float(summary["ess_bulk"].min()),
            divergences=int(idata.sample_stats["diverging"].sum()),
            draws=int(idata.posterior.sizes["draw"]),
            chains=int(idata.posterior.sizes["chain"]),
        )
        self._fit_durations(snapshot, random_seed)
        self._fit_arrivals(snapshot)
        self.as_of_ = snapshot.as_of
        return self

    def _fit_durations(self, snapshot: PipelineSnapshot, seed: int) -> None:
        a0, b0 = self.model_config["duration_prior"]
        stays = snapshot.stays.groupby("stage_rank").agg(exits=("exited", "sum"), days=("days", "sum"))
        stays = stays.reindex(range(len(self.stages_)), fill_value=0)
        self.duration_posterior_ = pd.DataFrame({"shape": a0 + stays["exits"].to_numpy(),
                                                 "days": b0 + stays["days"].to_numpy()}, index=self.stages_)

    def _fit_arrivals(self, snapshot: PipelineSnapshot) -> None:
        window = self.model_config["arrival_window_days"]
        start = snapshot.as_of - pd.Timedelta(days=window)
        first = snapshot.deals["created_date"].min()
        days = max(1, (snapshot.as_of - max(start, first)).days)
        recent = snapshot.deals[snapshot.deals["created_date"] > start]
        self.arrival_posterior_ = {"shape": 1.0 + len(recent), "days": float(days)}
        self.new_deal_templates_ = recent[[*self.factors, "amount"]].reset_index(drop=True)

    # --- using the posterior --------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError("the pipeline model is not fitted yet", fix="call fit(snapshot) first")

    def n_draws(self) -> int:
        self._check_fitted()
        post = self.idata_.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def advance_logits(self, deals: pd.DataFrame) -> np.ndarray:
        """Posterior draws of the advance log-odds: array (draws, deals, stages)."""
        self._check_fitted()
        post = self.idata_.posterior.stack(sample=("chain", "draw"))
        if self.pooling == "none":
            raise OmnimodelError("per-deal probabilities need pooling='partial'",
                                 fix="the unpooled model is for checking against the closed form")
        base = post["stage_logit"].transpose("sample", "stage").to_numpy()  # (D, S)
        shift = np.zeros((base.shape[0], len(deals)))
        for f in self.used_factors_:
            effect = post[f"effect_{f}"].transpose("sample", f).to_numpy()  # (D, L)
            codes = pd.Categorical(deals[f].astype("string").fillna("unknown"), categories=self.levels_[f]).codes
            known = codes >= 0  # a level never seen before gets the average effect: 0 under sum-to-zero
            shift[:, known] += effect[:, codes[known]]
        return base[:, None, :] + shift[:, :, None]

    def win_probability(self, deals: pd.DataFrame, stage_rank: np.ndarray | None = None) -> np.ndarray:
        """Posterior draws of P(win) for deals in their current stage: array (draws, deals)."""
        ranks = deals["reached"].to_numpy() if stage_rank is None else np.asarray(stage_rank)
        p = 1.0 / (1.0 + np.exp(-self.advance_logits(deals)))
        s = np.arange(len(self.stages_))
        p = np.where(s[None, None, :] >= ranks[None, :, None], p, 1.0)
        return p.prod(axis=2)

    def stage_rates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Posterior draws of exits per day in each stage: array (n, stages)."""
        self._check_fitted()
        d = self.duration_posterior_
        return rng.gamma(d["shape"].to_numpy(), 1.0 / d["days"].to_numpy(), size=(n, len(d)))

    def arrival_rates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Posterior draws of new deals per day."""
        self._check_fitted()
        a = self.arrival_posterior_
        return rng.gamma(a["shape"], 1.0 / a["days"], size=n)

    def stage_conversion(self) -> pd.DataFrame:
        """Average advance probability per stage (all cells, weighted as in the data) with 90 % intervals."""
        self._check_fitted()
        c = self.counts_
        if self.pooling == "none":
            draws = self.idata_.posterior["p_cell"].stack(sample=("chain", "draw")).to_numpy()  # (cells, D)
        else:
            cells = c[list(self.factors)].copy()
            logits = self.advance_logits(cells)  # (D, cells, S)
            draws = 1.0 / (1.0 + np.exp(-logits[:, np.arange(len(c)), c["stage_rank"].to_numpy()])).T
        rows = []
        for r, name in enumerate(self.stages_):
            sel = c["stage_rank"].to_numpy() == r
            if not sel.any():
                continue
            w = c.loc[sel, "n"].to_numpy()
            avg = (draws[sel] * w[:, None]).sum(axis=0) / w.sum()
            rows.append({"stage": name, "deals_left": int(w.sum()), "advanced": int(c.loc[sel, "advanced"].sum()),
                         "observed_rate": c.loc[sel, "advanced"].sum() / w.sum(), "mean": avg.mean(),
                         "p05": np.quantile(avg, 0.05), "p95": np.quantile(avg, 0.95)})
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Posterior summary of the stage log-odds, factor spreads and effects (mean, interval, r-hat, ESS)."""
        import arviz as az

        self._check_fitted()
        return az.summary(self.idata_, hdi_prob=0.9)
