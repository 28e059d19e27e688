"""Bayesian pipeline model: stage-to-stage advance probabilities with partial pooling.

For stage ``s`` and a deal with segment, region, source channel and product::

    logit P(advance | s, deal) = stage_logit[s] + sum over factors f of effect_f[level of the deal]
                               + sum over interactions (f, g) of effect_fg[level of f, level of g]

with each ``effect_f`` sum-to-zero normal with a learned spread ``sigma_f``, so sparse levels are pulled
towards the stage average as much as the data says. An interaction (``model_config["interactions"]``,
segment x source channel by default) is sum-to-zero along both factors, so it holds only what the two main
effects cannot say, with its own spread: a combination that truly differs is learned, a small cell stays near
what its segment and channel give. The
likelihood is binomial on sufficient statistics: deals that left a stage and how many of them advanced, per
(stage x segment x region x channel x product) cell. ``pooling="none"`` fits each cell on its own with a
Beta(1, 1) prior instead: its posterior is the closed-form Beta(1 + advanced, 1 + lost), which the tests use to
check the sampler. The two fits (a Laplace fit corrected by importance sampling, the default; PyMC's NUTS) are in
:mod:`~omnimodel.funnel.advance`.

The model also holds what a forecast needs beyond the advance posterior, each fitted in its own module: stage
timing and the exact chance of closing inside a period (:mod:`~omnimodel.funnel.timing`), new-deal arrivals and
the closing calendar (:mod:`~omnimodel.funnel.arrivals`) and the period noise from hindcasts
(:mod:`~omnimodel.funnel.calibration`). Saving and loading: :mod:`~omnimodel.funnel.persistence`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.diagnostics import Diagnostics
from omnimodel.exceptions import NotFittedError, OmnimodelError
from omnimodel.funnel import arrivals, calibration, timing
from omnimodel.funnel.snapshot import FACTORS, PipelineSnapshot
from omnimodel.laplace import check_method, fallback_note

default_model_config = {
    "stage_logit_sigma": 1.5,  # prior sd of each stage's average advance log-odds
    "duration_prior": (1.0, 10.0),  # Gamma(shape, days) prior on exits per day in a stage's slow tail
    "arrival_window_days": 365,  # new-deal rate and mix come from deals created in this window before as_of
    "closing_calendar": "quarter",  # quarter: learn a month-of-quarter closing rhythm; none: flat
    "calendar_prior_closes": 20.0,  # pseudo-closes pulling each month's closing intensity towards 1
    "calendar_min_quarters": 2,  # complete quarters of wins needed before a month-of-quarter rhythm is learned
    "hindcast_months": 6,  # recent months re-forecast to measure the error the model's own chance misses
    "period_noise_prior": (0.15, 4.0),  # prior sd of a month's extra log error, and its weight in months
    # pairs of factors whose combinations get their own partially pooled effect (a segment that wins in one
    # channel and not another); used where both factors have 2+ levels
    "interactions": (("segment", "source_channel"),),
    # InverseGamma(shape, scale) prior of each factor's and interaction's variance of log-odds effects (spread
    # about 0.2, never 0); integrated out in both fits (see omnimodel.funnel.advance)
    "effect_variance_prior": (3.0, 0.125),
}
#: how it is fitted: ``method`` "auto" (a Laplace fit corrected by importance sampling, NUTS where its check
#: fails), "laplace" or "nuts"; the rest are NUTS's settings, and ``draws`` x ``chains`` is also the number of
#: Laplace draws
default_sampler_config = {
    "method": "auto",
    "draws": 1000,
    "tune": 1000,
    "chains": 2,
    "cores": 1,
    "target_accept": 0.95,
}


def cell_counts(snapshot: PipelineSnapshot, factors=FACTORS) -> pd.DataFrame:
    """Sufficient statistics: per stage and factor combination, deals that left the stage and advanced."""
    t = snapshot.transitions[snapshot.transitions["result"] != "open"]
    grouped = t.groupby(["stage_rank", *factors], observed=True)["result"]
    out = grouped.agg(n="size", advanced=lambda r: int((r == "advanced").sum())).reset_index()
    return out


class PipelineModel:
    """Win probabilities, time to close and new-deal arrivals for a sales pipeline.

    :func:`omnimodel.funnel.fits.fitted_model` fits one once per snapshot and settings and loads it after.

    Parameters
    ----------
    pooling : {"partial", "none"}
        ``partial``: hierarchical effects of segment, region, channel and product; ``none``: every cell alone.
    model_config, sampler_config : dict, optional
        Overrides of :data:`default_model_config` and :data:`default_sampler_config` (merged, never mutated).
    factors : tuple of str
        Deal attributes to pool over.
    measure : {"amount", "deals"}
        What bookings are: deal value, or the number of won deals (for sources without values).

    Examples
    --------
    >>> model = PipelineModel(sampler_config={"draws": 500}).fit(snapshot, random_seed=1)  # doctest: +SKIP
    >>> model.diagnostics_.converged  # doctest: +SKIP
    True
    >>> model.win_probability(snapshot.open_deals).mean(axis=0)  # doctest: +SKIP
    """

    #: True when the fit was loaded from the cache of an earlier one (:mod:`omnimodel.funnel.fits`)
    reused_ = False
    #: what the fit says about itself beyond its diagnostics (the fast fit's check failed, NUTS sampled instead)
    fit_note_ = ""

    def __init__(
        self,
        pooling: str = "partial",
        model_config: dict | None = None,
        sampler_config: dict | None = None,
        factors: tuple[str, ...] = FACTORS,
        measure: str = "amount",
    ):
        if pooling not in ("partial", "none"):
            raise OmnimodelError(f"pooling {pooling!r} is not one of partial, none")
        if measure not in ("amount", "deals"):
            raise OmnimodelError(
                f"measure {measure!r} is not one of amount, deals",
                fix="deals counts won deals, for sources without deal values",
            )
        self.pooling = pooling
        self.measure = measure
        self.model_config = {**default_model_config, **(model_config or {})}
        for pair in self.model_config["interactions"]:
            if len(pair) != 2 or not set(pair) <= set(factors) or pair[0] == pair[1]:
                raise OmnimodelError(
                    f"interaction {tuple(pair)} is not a pair of two of the factors {', '.join(factors)}",
                    fix='write model_config={"interactions": [("segment", "source_channel")]} or []',
                )
        self.sampler_config = {**default_sampler_config, **(sampler_config or {})}
        self.factors = tuple(factors)

    # --- fitting -------------------------------------------------------------------------------------------

    def fit(
        self, snapshot: PipelineSnapshot, random_seed: int = 0, progressbar: bool = False
    ) -> PipelineModel:
        """Fit on a snapshot (only information up to its as-of date) and return self.

        ``sampler_config["method"]``: "auto" (the default: a Laplace fit corrected by importance sampling, about
        a second; NUTS where its check fails, said in ``fit_note_``), "laplace" or "nuts". The unpooled model
        is always sampled: it is there to check the sampler against its closed form.
        """
        from omnimodel.funnel import advance

        method = check_method(self.sampler_config.get("method", "auto"))
        self.stages_ = snapshot.funnel.stage_names
        counts = cell_counts(snapshot, self.factors)
        if counts.empty:
            raise OmnimodelError(
                "no deal has left any stage yet: nothing to learn advance rates from",
                table="stage_events",
                fix="use a later as-of date or more history",
            )
        self.counts_ = counts
        self.levels_ = {f: sorted(snapshot.deals[f].unique()) for f in self.factors}
        used = [f for f in self.factors if len(self.levels_[f]) > 1] if self.pooling == "partial" else []
        self.used_factors_ = used
        self.interactions_ = [tuple(p) for p in self.model_config["interactions"] if set(p) <= set(used)]
        self.fit_note_ = ""
        if self.pooling == "partial" and method != "nuts":
            self.idata_, self.diagnostics_ = advance.fit_laplace(self, counts, random_seed)
            if not self.diagnostics_.converged and method == "auto":
                self.fit_note_ = fallback_note(self.diagnostics_)
        if self.pooling == "none" or method == "nuts" or self.fit_note_:
            self.idata_ = advance.fit_nuts(self, counts, random_seed, progressbar)
            self.diagnostics_ = Diagnostics.from_idata(self.idata_)
        self.fit_timing(snapshot)
        self.as_of_ = snapshot.as_of
        if self.pooling == "partial":  # the unpooled model only checks the sampler; it does not forecast
            sd, df, hindcasts = calibration.fit_period_noise(self, snapshot, random_seed)
            self.period_noise_sd_, self.period_noise_df_, self.hindcasts_ = sd, df, hindcasts
        return self

    def fit_timing(self, snapshot: PipelineSnapshot) -> PipelineModel:
        """Stage timing, new-deal arrivals and the closing calendar from a snapshot (cheap: no sampling)."""
        self.stage_timing_ = timing.fit_stage_timing(
            snapshot, len(snapshot.funnel.stage_names), self.model_config["duration_prior"]
        )
        self.arrival_posterior_, self.new_deal_templates_ = arrivals.fit_arrivals(
            snapshot, self.model_config["arrival_window_days"], self.factors
        )
        self.closing_calendar_ = arrivals.fit_closing_calendar(snapshot, self.model_config)
        return self

    # --- using the posterior --------------------------------------------------------------------------------

    def period_shocks(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """One multiplicative factor per draw (mean 1) for the period-level chance the deals do not carry."""
        sd, df = getattr(self, "period_noise_sd_", 0.0), getattr(self, "period_noise_df_", 0.0)
        return calibration.period_shocks(sd, df, rng, n)

    def close_probability(
        self, as_of: pd.Timestamp, ranks: np.ndarray, elapsed: np.ndarray, start: int, end: int
    ) -> np.ndarray:
        """P(a deal that will be won closes from ``start`` to before ``end`` days after ``as_of``), per deal
        (exact over the stage timing and the closing calendar; see :func:`timing.close_probability`)."""
        return timing.close_probability(
            self.stage_timing_, self.closing_calendar_, as_of, ranks, elapsed, start, end
        )

    def new_deal_close_probability(self, as_of: pd.Timestamp, start: int, end: int, steps: int = 8) -> float:
        """P(a deal created before ``end`` days after ``as_of`` and won closes from ``start`` to before ``end``)."""
        return timing.new_deal_close_probability(
            self.stage_timing_, self.closing_calendar_, as_of, start, end, steps
        )

    def deal_value(self, deals: pd.DataFrame) -> np.ndarray:
        """What a deal books: its amount (0 when unknown), or 1 when counting deals."""
        if self.measure == "deals":
            return np.ones(len(deals))
        return deals["amount"].fillna(0.0).to_numpy(float)

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError("the pipeline model is not fitted yet", fix="call fit(snapshot) first")

    def n_draws(self) -> int:
        """Posterior draws (chains x draws per chain)."""
        self._check_fitted()
        post = self.idata_.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def level_codes(self, deals: pd.DataFrame, factor: str) -> np.ndarray:
        """Index of each deal's level of a factor in the fitted levels (-1 for a level never seen)."""
        values = deals[factor].astype("string").fillna("unknown").to_numpy(dtype=object)
        return pd.Index(self.levels_[factor]).get_indexer(values)

    def terms(self) -> list[tuple[str, tuple[str, ...]]]:
        """The model's effects as (name, factors): each factor used, then each interaction ("a_x_b")."""
        pairs = getattr(self, "interactions_", [])
        return [(f, (f,)) for f in self.used_factors_] + [("_x_".join(p), tuple(p)) for p in pairs]

    def term_index(self, codes: dict[str, np.ndarray], factors: tuple[str, ...]) -> np.ndarray:
        """Each deal's cell in a term's flattened effect, from its level codes (-1 where a level is unseen)."""
        index, unseen = (
            np.zeros(len(codes[factors[0]]), dtype=np.int64),
            np.zeros(len(codes[factors[0]]), bool),
        )
        for f in factors:
            index = index * len(self.levels_[f]) + np.maximum(codes[f], 0)
            unseen |= codes[f] < 0
        return np.where(unseen, -1, index)

    def effect_draws(self, post, name: str, factors: tuple[str, ...]) -> np.ndarray:
        """A term's effect draws over its cells (flattened), then a zero column: a level never seen gets the
        average effect, 0 under sum-to-zero, and index -1 picks it. ``post``: the posterior stacked to
        ``sample``. Array (draws, cells + 1)."""
        effect = post[f"effect_{name}"].transpose("sample", *factors).to_numpy()
        effect = effect.reshape(effect.shape[0], -1)
        return np.concatenate([effect, np.zeros((effect.shape[0], 1))], axis=1)

    def advance_logits(self, deals: pd.DataFrame) -> np.ndarray:
        """Posterior draws of the advance log-odds: array (draws, deals, stages)."""
        self._check_fitted()
        post = self.idata_.posterior.stack(sample=("chain", "draw"))
        if self.pooling == "none":
            raise OmnimodelError(
                "per-deal probabilities need pooling='partial'",
                fix="the unpooled model is for checking against the closed form",
            )
        base = post["stage_logit"].transpose("sample", "stage").to_numpy()  # (D, S)
        shift = np.zeros((base.shape[0], len(deals)))
        codes = {f: self.level_codes(deals, f) for f in self.used_factors_}
        for name, factors in self.terms():
            shift += self.effect_draws(post, name, factors)[:, self.term_index(codes, factors)]
        return base[:, None, :] + shift[:, :, None]

    def win_probability(self, deals: pd.DataFrame, stage_rank: np.ndarray | None = None) -> np.ndarray:
        """Posterior draws of P(win) for deals in their current stage: array (draws, deals).

        Computed once per distinct (stage, attribute combination) and spread to the deals, so 10,000 open
        deals in a few hundred cells cost what a few hundred do. Open deals (with ``days_in_stage``) that have
        outlived most advances in their stage get the lower chance the history gives them.
        """
        self._check_fitted()
        ranks = deals["reached"].to_numpy() if stage_rank is None else np.asarray(stage_rank)
        keys = pd.DataFrame({f: self.level_codes(deals, f) for f in self.used_factors_})
        keys["rank"] = ranks
        uniq, first, inverse = np.unique(keys.to_numpy(), axis=0, return_index=True, return_inverse=True)
        inverse, rank = inverse.ravel(), uniq[:, -1]
        p = 1.0 / (1.0 + np.exp(-self.advance_logits(deals.iloc[first])))  # (draws, keys, stages)
        s = np.arange(len(self.stages_))
        later = np.where(s[None, None, :] > rank[None, :, None], p, 1.0).prod(axis=2)
        now = p[:, np.arange(len(uniq)), rank]
        if stage_rank is None and "days_in_stage" in deals:
            age = deals["days_in_stage"].to_numpy(float)
            factor = np.ones(len(deals))
            for r, stage in enumerate(self.stage_timing_):
                mask = (ranks == r) & np.isfinite(age)
                if mask.any():
                    factor[mask] = stage.still_advancing(age[mask])
            return np.minimum(now[:, inverse] * factor, 1.0) * later[:, inverse]
        return (now * later)[:, inverse]

    def arrival_rates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws of new deals per day in the coming period (see :func:`arrivals.arrival_rates`)."""
        self._check_fitted()
        return arrivals.arrival_rates(self.arrival_posterior_, rng, n)

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

    def summary(self) -> pd.DataFrame:
        """Posterior summary of the stage log-odds, factor spreads and effects (mean, interval, r-hat, ESS)."""
        import arviz as az

        self._check_fitted()
        return az.summary(self.idata_, hdi_prob=0.9)
