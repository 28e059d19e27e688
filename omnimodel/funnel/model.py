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

The model is built from fitted parts, each in its own module and each saving and loading itself: the advance
posterior (:mod:`~omnimodel.funnel.advance`), stage timing with the closing calendar and the exact chance of
closing inside a period (:mod:`~omnimodel.funnel.timing`), new-deal arrivals (:mod:`~omnimodel.funnel.arrivals`)
and the period noise (:class:`PeriodNoise`), which the fitting workflow measures from hindcasts
(:mod:`~omnimodel.funnel.calibration`, :func:`omnimodel.funnel.fits.fit_pipeline`): the model never forecasts.
Saving and loading: :meth:`PipelineModel.save`, :meth:`PipelineModel.load` (:mod:`omnimodel.fitting`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.diagnostics import Diagnostics
from omnimodel.exceptions import OmnimodelError
from omnimodel.fitting import FittedModel, sampler_config
from omnimodel.funnel.advance import AdvancePosterior
from omnimodel.funnel.arrivals import Arrivals
from omnimodel.funnel.snapshot import FACTORS, PipelineSnapshot
from omnimodel.funnel.timing import Timing
from omnimodel.saved import config_from_json

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
#: how it is fitted (:data:`omnimodel.fitting.SAMPLER_CONFIG`), NUTS with a higher target acceptance
default_sampler_config = sampler_config(target_accept=0.95)


@dataclass
class PeriodNoise:
    """The forecast error of a period that the deals' own chances do not carry (timing of big deals,
    execution): the log-scale sd of a period's extra error and its weight in months (a scaled inverse-chi-squared
    posterior), with the hindcasts it was measured on (:mod:`omnimodel.funnel.calibration`)."""

    sd: float
    df: float
    hindcasts: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def prior(cls, config: dict[str, Any]) -> PeriodNoise:
        """The noise before any hindcast: ``config["period_noise_prior"]`` (sd, weight in months)."""
        sd, months = config["period_noise_prior"]
        return cls(float(sd), float(months))

    def shocks(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """One multiplicative factor per draw (mean 1) for the period-level chance the deals do not carry."""
        if self.sd <= 0 or self.df <= 0:
            return np.ones(n)
        var = self.df * self.sd**2 / rng.chisquare(self.df, n)  # the variance is uncertain too: one per draw
        return np.exp(rng.normal(0.0, 1.0, n) * np.sqrt(var) - var / 2)

    def to_state(self) -> dict[str, Any]:
        """The noise as JSON-able data."""
        return {"sd": self.sd, "df": self.df, "hindcasts": self.hindcasts.to_dict(orient="list")}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> PeriodNoise:
        """The noise :meth:`to_state` saved."""
        return cls(state["sd"], state["df"], pd.DataFrame(state["hindcasts"]))


class PipelineModel(FittedModel):
    """Win probabilities, time to close and new-deal arrivals for a sales pipeline.

    :func:`omnimodel.funnel.fits.fitted_model` fits one, with its period noise, once per snapshot and
    settings, and loads it after. Learned state: the parts ``advance_`` (:class:`AdvancePosterior`), ``timing_``
    (:class:`Timing`), ``arrivals_`` (:class:`Arrivals`) and ``period_noise_`` (:class:`PeriodNoise`), and
    ``as_of_``.

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

    KIND = "pipeline_model"
    WHAT = "pipeline model"
    FITS_ON = "snapshot"
    #: True when the fit was loaded from the cache of an earlier one (:mod:`omnimodel.funnel.fits`)
    reused_ = False
    advance_: AdvancePosterior
    timing_: Timing
    arrivals_: Arrivals
    period_noise_: PeriodNoise
    as_of_: pd.Timestamp

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
        """Fit on a snapshot (only information up to its as-of date) and return self; the period noise is the
        prior's until the fitting workflow measures it (:func:`omnimodel.funnel.fits.fit_pipeline`).

        ``sampler_config["method"]``: "auto" (the default: a Laplace fit corrected by importance sampling, about
        a second; NUTS where its check fails, said in ``fit_note_``), "laplace" or "nuts". The unpooled model
        is always sampled: it is there to check the sampler against its closed form.
        """
        self.advance_ = AdvancePosterior.fit(
            snapshot,
            self.factors,
            self.pooling,
            self.model_config,
            self.sampler_config,
            random_seed,
            progressbar,
        )
        self.fit_timing(snapshot)
        self.period_noise_ = PeriodNoise.prior(self.model_config)
        self.as_of_ = snapshot.as_of
        return self

    def fit_timing(self, snapshot: PipelineSnapshot) -> PipelineModel:
        """Stage timing, the closing calendar and new-deal arrivals from a snapshot (cheap: no sampling)."""
        self.timing_ = Timing.fit(snapshot, self.model_config)
        self.arrivals_ = Arrivals.fit(snapshot, self.model_config["arrival_window_days"], self.factors)
        return self

    # --- what it learned ------------------------------------------------------------------------------------

    @property
    def idata_(self) -> Any:
        """The advance posterior's InferenceData."""
        return self.advance_.idata

    @property
    def diagnostics_(self) -> Diagnostics:
        """The advance fit's convergence card."""
        assert self.advance_.diagnostics is not None
        return self.advance_.diagnostics

    @property
    def fit_note_(self) -> str:
        """What the fit says about itself beyond its diagnostics (the fast fit's check failed, NUTS sampled)."""
        return self.advance_.fit_note

    def state(self) -> dict[str, Any]:
        """Configuration and every part's learned state (saved beside the posterior)."""
        return {
            "pooling": self.pooling,
            "measure": self.measure,
            "factors": list(self.factors),
            "model_config": self.model_config,
            "sampler_config": self.sampler_config,
            "as_of": str(self.as_of_.date()),
            "advance": self.advance_.to_state(),
            "timing": self.timing_.to_state(),
            "arrivals": self.arrivals_.to_state(),
            "period_noise": self.period_noise_.to_state(),
        }

    @classmethod
    def from_state(cls, idata: Any, state: dict[str, Any]) -> PipelineModel:
        """The model :meth:`state` describes, with its advance posterior ``idata``."""
        model = cls(
            state["pooling"],
            config_from_json(state["model_config"]),
            state["sampler_config"],
            tuple(state["factors"]),
            state["measure"],
        )
        model.advance_ = AdvancePosterior.from_state(idata, state["advance"])
        model.timing_ = Timing.from_state(state["timing"])
        model.arrivals_ = Arrivals.from_state(state["arrivals"])
        model.period_noise_ = PeriodNoise.from_state(state["period_noise"])
        model.as_of_ = pd.Timestamp(state["as_of"])
        return model

    # --- using the posterior --------------------------------------------------------------------------------

    def deal_value(self, deals: pd.DataFrame) -> np.ndarray:
        """What a deal books: its amount (0 when unknown), or 1 when counting deals."""
        if self.measure == "deals":
            return np.ones(len(deals))
        return deals["amount"].fillna(0.0).to_numpy(float)

    def n_draws(self) -> int:
        """Posterior draws (chains x draws per chain)."""
        self._check_fitted()
        return self.advance_.n_draws()

    def advance_logits(self, deals: pd.DataFrame) -> np.ndarray:
        """Posterior draws of the advance log-odds: array (draws, deals, stages)."""
        self._check_fitted()
        return self.advance_.logits(deals)

    def win_probability(self, deals: pd.DataFrame, stage_rank: np.ndarray | None = None) -> np.ndarray:
        """Posterior draws of P(win) for deals in their current stage: array (draws, deals).

        Computed once per distinct (stage, attribute combination) and spread to the deals, so 10,000 open
        deals in a few hundred cells cost what a few hundred do. Open deals (with ``days_in_stage``) that have
        outlived most advances in their stage get the lower chance the history gives them.
        """
        self._check_fitted()
        advance = self.advance_
        ranks = deals["reached"].to_numpy() if stage_rank is None else np.asarray(stage_rank)
        keys = pd.DataFrame({f: advance.level_codes(deals, f) for f in advance.used_factors})
        keys["rank"] = ranks
        uniq, first, inverse = np.unique(keys.to_numpy(), axis=0, return_index=True, return_inverse=True)
        inverse, rank = inverse.ravel(), uniq[:, -1]
        p = 1.0 / (1.0 + np.exp(-advance.logits(deals.iloc[first])))  # (draws, keys, stages)
        s = np.arange(len(advance.stages))
        later = np.where(s[None, None, :] > rank[None, :, None], p, 1.0).prod(axis=2)
        now = p[:, np.arange(len(uniq)), rank]
        if stage_rank is None and "days_in_stage" in deals:
            age = deals["days_in_stage"].to_numpy(float)
            factor = np.ones(len(deals))
            for r, stage in enumerate(self.timing_.stages):
                mask = (ranks == r) & np.isfinite(age)
                if mask.any():
                    factor[mask] = stage.still_advancing(age[mask])
            return np.minimum(now[:, inverse] * factor, 1.0) * later[:, inverse]
        return (now * later)[:, inverse]

    def stage_conversion(self) -> pd.DataFrame:
        """Average advance probability per stage (all cells, weighted as in the data) with 90 % intervals."""
        self._check_fitted()
        return self.advance_.stage_conversion()

    def summary(self) -> pd.DataFrame:
        """Posterior summary of the stage log-odds, factor spreads and effects (mean, interval, r-hat, ESS)."""
        import arviz as az

        self._check_fitted()
        return az.summary(self.idata_, hdi_prob=0.9)
