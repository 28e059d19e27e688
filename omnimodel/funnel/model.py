"""Bayesian pipeline model: stage-to-stage advance probabilities with partial pooling, stage durations, arrivals.

Advance probabilities (PyMC). For stage ``s`` and a deal with segment, region, source channel and product::

    logit P(advance | s, deal) = stage_logit[s] + sum over factors f of sigma_f * z_f[level of the deal]

with ``z_f`` sum-to-zero standard normal (non-centred, or the effect itself centred where the data pin it) and
``sigma_f`` learned, so sparse levels are pulled
towards the stage average as much as the data says. The likelihood is binomial on sufficient statistics:
deals that left a stage and how many of them advanced, per (stage x segment x region x channel x product) cell.
``pooling="none"`` fits each cell on its own with a Beta(1, 1) prior instead: its posterior is the closed-form
Beta(1 + advanced, 1 + lost), which the tests use to check the sampler.

Stage timing, jointly with the outcome (competing risks): per stage, the Aalen-Johansen cumulative incidence of
advancing (right-censored by deals still there; losses are the competing exit). A won deal's time comes from the
advances only, however slowly losses are recorded, and a deal in a stage longer than most advances took has its
advance probability scaled by its chance of still advancing at its age. Past the last exit seen, constant
hazards estimated from the stays past the 90th percentile of the advances: exits at a conjugate Gamma(1 + exits,
10 + days exposed) rate, a Beta-smoothed share of them advances (what follows the longest follow-up is
estimated, not assumed away).

New deals: Poisson arrivals per day, conjugate Gamma(1 + created, days) posterior over the last year, times a
month-to-month swing (a Gamma factor with mean 1 and the coefficient of variation the year's complete months show
beyond Poisson chance), with the mix and value of new deals resampled from the deals created in that year.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.exceptions import NotFittedError, OmnimodelError
from omnimodel.funnel.snapshot import FACTORS, PipelineSnapshot

default_model_config = {
    "stage_logit_sigma": 1.5,  # prior sd of each stage's average advance log-odds
    "factor_sigma_gamma": (
        2.0,
        8.0,
    ),  # Gamma(shape, rate) prior of each factor's spread of log-odds (mean 0.25)
    "parameterisation": "auto",  # centred, non_centred, or auto (centred where the data pin the effects)
    "duration_prior": (1.0, 10.0),  # Gamma(shape, days) prior on exits per day in a stage's slow tail
    "arrival_window_days": 365,  # new-deal rate and mix come from deals created in this window before as_of
    "closing_calendar": "quarter",  # quarter: learn a month-of-quarter closing rhythm; none: flat
    "calendar_prior_closes": 20.0,  # pseudo-closes pulling each month's closing intensity towards 1
    "calendar_min_quarters": 2,  # complete quarters of wins needed before a month-of-quarter rhythm is learned
    "hindcast_months": 6,  # recent months re-forecast to measure the error the model's own chance misses
    "period_noise_prior": (0.15, 4.0),  # prior sd of a month's extra log error, and its weight in months
    "centred_min_deals": 200,  # a factor whose every level has this many resolved deals is fitted centred
}
default_sampler_config = {"draws": 1000, "tune": 1000, "chains": 2, "cores": 1, "target_accept": 0.95}
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
        return (
            self.max_rhat <= CONVERGED_RHAT and self.min_ess_bulk >= CONVERGED_ESS and self.divergences == 0
        )

    @property
    def figures(self) -> str:
        return (
            f"r-hat max {self.max_rhat:.2f}, effective sample size min {self.min_ess_bulk:,.0f}, "
            f"{self.divergences} divergences ({self.chains} chains x {self.draws} draws)"
        )

    def message(self) -> str:
        figures = self.figures
        if self.converged:
            return f"Converged: {figures}."
        return (
            f"NOT CONVERGED: {figures}. Needs r-hat <= {CONVERGED_RHAT}, ESS >= {CONVERGED_ESS} and no "
            "divergences; treat the numbers below with caution and refit with more draws."
        )

    def _repr_html_(self) -> str:
        import html

        colour = "#176b2c" if self.converged else "#b00020"
        return f'<p style="color:{colour};font-weight:600">{html.escape(self.message())}</p>'


@contextlib.contextmanager
def quiet_sampler():
    """Keep PyMC's progress chatter and PyTensor's BLAS notice out of notebooks and reports (diagnostics are
    reported by :class:`Diagnostics` instead)."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            yield
    finally:
        logger.setLevel(level)


def _strong_signal(counts: pd.DataFrame, factor: str, codes: np.ndarray) -> bool:
    """Do the data pin this factor's effects? Spread of level log-odds (net of stage averages) vs its noise.

    Where the levels differ by much more than their standard errors, the centred form samples well and the
    non-centred one makes a ridge; where they barely differ, the non-centred form avoids the funnel.
    """
    n, k = counts["n"].to_numpy(float), counts["advanced"].to_numpy(float)
    stage_rate = counts.assign(k=k).groupby("stage_rank")["k"].transform("sum") / counts.groupby(
        "stage_rank"
    )["n"].transform("sum")
    expected = n * stage_rate.to_numpy()
    levels = codes.max() + 1
    obs, exp_, tot = (np.bincount(codes, weights=w, minlength=levels) for w in (k, expected, n))
    ok = (obs > 0) & (obs < tot) & (exp_ > 0) & (exp_ < tot)
    if ok.sum() < 2:
        return False
    logit = lambda a, t: np.log(a / (t - a))  # noqa: E731
    deviation = logit(obs[ok], tot[ok]) - logit(exp_[ok], tot[ok])
    se = np.sqrt(1 / obs[ok] + 1 / (tot[ok] - obs[ok]))
    return bool(deviation.std() > 2.0 * se.mean())


def _competing_risks(
    days: np.ndarray, exited: np.ndarray, advanced: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Aalen-Johansen estimate for one stage (right-censored stays; an exit is an advance or a loss).

    Returns the exit times, the all-cause survival just after each, the cumulative incidence of advancing by
    each, and the stays at risk at each. Advances and losses can take very different times (Olist counts a
    lead as lost only after 180 days; wins take about 10), so a won deal's timing must come from the advances.
    """
    if not exited.any():
        return np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
    times = np.unique(days[exited])
    at_risk = len(days) - np.searchsorted(np.sort(days), times, side="left")
    exits = np.bincount(np.searchsorted(times, days[exited]), minlength=len(times))
    advances = np.bincount(np.searchsorted(times, days[exited & advanced]), minlength=len(times))
    surv = np.cumprod(1.0 - exits / at_risk)
    before = np.concatenate([[1.0], surv[:-1]])
    return times, surv, np.cumsum(before * advances / at_risk), at_risk.astype(float)


STALE_PRIOR_DEALS = 10.0  # pseudo-deals pulling an age's chance of still advancing towards a fresh deal's


@dataclass
class StageTiming:
    """Time to advance out of one stage and the chance of advancing at all, for a deal of a given age.

    Up to the last exit seen: the Aalen-Johansen estimate (exit ``times``, all-cause ``surv``ival and advance
    incidence ``cif`` just after each, stays ``at_risk``). Beyond it, constant hazards estimated from the stays
    past ``cut`` (the 90th percentile of the advances): exits at a Gamma(``tail``) posterior rate (shape, days
    exposed), of which a share ``tail_share`` (advances, exits) are advances. So what happens after the longest
    follow-up is estimated, not assumed never to happen.
    """

    times: np.ndarray
    surv: np.ndarray
    cif: np.ndarray
    at_risk: np.ndarray
    cut: float
    tail: tuple[float, float]
    tail_share: tuple[float, float]

    @classmethod
    def fit(
        cls,
        days: np.ndarray,
        exited: np.ndarray,
        advanced: np.ndarray,
        prior: tuple[float, float] = (1.0, 10.0),
    ) -> StageTiming:
        """From stays (days, whether they ended, whether by advancing); ``prior``: Gamma(shape, days) of the
        exit rate past the cut."""
        cut = float(np.quantile(days[advanced], 0.9)) if advanced.any() else 0.0
        times, surv, cif, at_risk = _competing_risks(days, exited, advanced)
        late = exited & (days > cut)
        tail = (prior[0] + late.sum(), prior[1] + np.clip(days - cut, 0, None).sum())
        share = (float((late & advanced).sum()), float(late.sum()))
        return cls(times, surv, cif, at_risk, cut, tail, share)

    def _at(self, values: np.ndarray, elapsed: np.ndarray, before: float) -> np.ndarray:
        idx = np.searchsorted(self.times, elapsed, side="right") - 1  # last exit time <= elapsed
        if not len(values):  # no exit seen yet (an early snapshot)
            return np.full(np.shape(elapsed), before)
        return np.where(idx >= 0, values[np.maximum(idx, 0)], before)

    @property
    def _at_end(self) -> tuple[float, float, float]:
        """Day of the last exit seen, and the advance incidence and survival then."""
        return (self.times[-1], self.cif[-1], self.surv[-1]) if len(self.times) else (0.0, 0.0, 1.0)

    @property
    def tail_advance_share(self) -> float:
        advances, exits = self.tail_share
        return (1.0 + advances) / (2.0 + exits)  # Beta(1, 1) posterior mean

    @property
    def ever(self) -> float:
        """P(a fresh deal ever advances out of this stage)."""
        _, f_end, s_end = self._at_end
        return f_end + s_end * self.tail_advance_share

    def still_advancing(self, elapsed: np.ndarray) -> np.ndarray:
        """P(advance | still in the stage after ``elapsed`` days) relative to a fresh deal's: below 1 for stale
        deals where the history says they rarely advance. Shrunk towards 1 where few stays lasted that long."""
        ever = self.ever
        s_a = self._at(self.surv, elapsed, 1.0)
        rest = ever - self._at(self.cif, elapsed, 0.0)
        idx = np.searchsorted(self.times, elapsed, side="right")
        seen = np.append(self.at_risk, 0.0)[idx]  # stays at risk at the next exit; none past the last
        later = np.where(s_a > 0, rest / np.maximum(s_a, 1e-12), ever)
        later = (seen * later + STALE_PRIOR_DEALS * ever) / (seen + STALE_PRIOR_DEALS)
        return np.where(elapsed >= self._at_end[0], self.tail_advance_share, later) / ever

    def remaining_pmf(self, k: int, elapsed: float | None = None) -> np.ndarray:
        """P(the remaining days to advance fall in [j, j + 1)), j = 0..k-1, given that the deal advances and
        has been in the stage for ``elapsed`` days, still there at the end of that day (None: entering it now,
        so a same-day advance counts). Past the last exit the tail's Gamma-distributed rate is integrated out
        (Lomax)."""
        end, _, s_end = self._at_end
        since = 0.0 if elapsed is None else float(elapsed)
        done = 0.0 if elapsed is None else float(self._at(self.cif, np.array([since]), 0.0)[0])
        pmf = np.zeros(k)
        after = self.times >= since if elapsed is None else self.times > since
        if after.any():
            steps = np.diff(np.concatenate([[0.0], self.cif]))[after]
            j = np.floor(self.times[after] - since).astype(np.int64)
            np.add.at(pmf, j[j < k], steps[j < k])
        tail_mass = s_end * self.tail_advance_share
        if tail_mass > 0:
            shape, exposure = self.tail
            x = np.clip(np.arange(k + 1) - (max(end, since) - since), 0, None)
            pmf -= tail_mass * np.diff((1 + x / exposure) ** -shape)
        rest = self.ever - done
        return pmf / rest if rest > 0 else pmf

    def to_json(self) -> list:
        arrays = [a.tolist() for a in (self.times, self.surv, self.cif, self.at_risk)]
        return [*arrays, self.cut, list(self.tail), list(self.tail_share)]

    @classmethod
    def from_json(cls, v: list) -> StageTiming:
        return cls(*(np.array(a, dtype=float) for a in v[:4]), float(v[4]), tuple(v[5]), tuple(v[6]))


def _month_to_month_cv(created: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Coefficient of variation of the daily creation rate between complete months, beyond Poisson chance
    (method of moments; 0 with fewer than 3 complete months or no excess)."""
    months = pd.period_range(start, end, freq="M")
    months = [m for m in months if m.start_time >= start.normalize() and m.end_time.normalize() <= end]
    if len(months) < 3:
        return 0.0
    counts = created.dt.to_period("M").value_counts().reindex(months, fill_value=0).to_numpy(float)
    days = np.array([m.days_in_month for m in months], dtype=float)
    rate = counts / days
    mean = rate.mean()
    if mean <= 0:
        return 0.0
    excess = rate.var(ddof=1) - np.mean(mean / days)  # minus the Poisson part
    return float(np.sqrt(max(0.0, excess)) / mean)


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
    measure : {"amount", "deals"}
        What bookings are: deal value, or the number of won deals (for sources without values).

    Examples
    --------
    >>> model = PipelineModel(sampler_config={"draws": 500}).fit(snapshot, random_seed=1)  # doctest: +SKIP
    >>> model.diagnostics_.converged  # doctest: +SKIP
    True
    >>> model.win_probability(snapshot.open_deals).mean(axis=0)  # doctest: +SKIP
    """

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
        self.sampler_config = {**default_sampler_config, **(sampler_config or {})}
        self.factors = tuple(factors)

    # --- fitting -------------------------------------------------------------------------------------------

    def fit(
        self, snapshot: PipelineSnapshot, random_seed: int = 0, progressbar: bool = False
    ) -> PipelineModel:
        """Fit on a snapshot (only information up to its as-of date) and return self."""
        import arviz as az
        import pymc as pm

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
        coords = {"stage": self.stages_, **{f: self.levels_[f] for f in used}}
        with pm.Model(coords=coords) as model:
            if self.pooling == "partial":
                stage_logit = pm.Normal(
                    "stage_logit", 0.0, self.model_config["stage_logit_sigma"], dims="stage"
                )
                logit = stage_logit[counts["stage_rank"].to_numpy()]
                self.centred_ = {}
                for f in used:
                    # A boundary-avoiding Gamma prior on the spread: with 3-10 levels a HalfNormal lets sigma fall
                    # to 0 and opens a funnel; this keeps the sampler out of it whichever parameterisation is used.
                    shape, rate = self.model_config["factor_sigma_gamma"]
                    sigma = pm.Gamma(f"sigma_{f}", alpha=shape, beta=rate)
                    idx = pd.Categorical(counts[f], categories=self.levels_[f]).codes
                    mode = self.model_config["parameterisation"]
                    centred = mode == "centred" or (mode == "auto" and _strong_signal(counts, f, idx))
                    self.centred_[f] = bool(centred)
                    if centred:
                        effect = pm.ZeroSumNormal(f"effect_{f}", sigma=sigma, dims=f)
                    else:
                        z = pm.ZeroSumNormal(f"z_{f}", sigma=1.0, dims=f)
                        effect = pm.Deterministic(f"effect_{f}", sigma * z, dims=f)
                    logit = logit + effect[idx]
                pm.Binomial(
                    "advanced",
                    n=counts["n"].to_numpy(),
                    logit_p=logit,
                    observed=counts["advanced"].to_numpy(),
                )
            else:
                model.add_coord("cell", np.arange(len(counts)))
                p = pm.Beta("p_cell", 1.0, 1.0, dims="cell")
                pm.Binomial("advanced", n=counts["n"].to_numpy(), p=p, observed=counts["advanced"].to_numpy())
            with quiet_sampler():
                idata = pm.sample(
                    random_seed=random_seed,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                    **self.sampler_config,
                )
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
        self._fit_durations(snapshot)
        self._fit_arrivals(snapshot)
        self._fit_closing_calendar(snapshot)
        self.as_of_ = snapshot.as_of
        if self.pooling == "partial":  # the unpooled model only checks the sampler; it does not forecast
            self._fit_period_noise(snapshot, random_seed)
        return self

    def _fit_durations(self, snapshot: PipelineSnapshot) -> None:
        a0, b0 = self.model_config["duration_prior"]
        # Time to advance out of each stage, jointly with the outcome (competing risks): a won deal closes as
        # fast as the advances say, not as slowly as losses are recorded; a deal in a stage for longer than
        # most advances took is less likely to advance at all. Past the 90th percentile of advances, an
        # exponential tail whose rate comes from the stays seen that long: stale "zombie" deals advance as
        # rarely as the history says.
        last_stay = snapshot.deals.set_index("opportunity_id")
        self.stage_timing_ = []
        for r in range(len(self.stages_)):
            st = snapshot.stays[snapshot.stays["stage_rank"] == r]
            days, exited = st["days"].to_numpy(float), st["exited"].to_numpy(bool)
            deal = last_stay.reindex(st["opportunity_id"])
            lost = ((deal["outcome"] == "lost") & (deal["reached"] == r)).to_numpy()
            self.stage_timing_.append(StageTiming.fit(days, exited, exited & ~lost, (a0, b0)))

    def _fit_arrivals(self, snapshot: PipelineSnapshot) -> None:
        window = self.model_config["arrival_window_days"]
        start = snapshot.as_of - pd.Timedelta(days=window)
        first = snapshot.deals["created_date"].min()
        days = max(1, (snapshot.as_of - max(start, first)).days)
        recent = snapshot.deals[snapshot.deals["created_date"] > start]
        self.arrival_posterior_ = {
            "shape": 1.0 + len(recent),
            "days": float(days),
            "month_cv": _month_to_month_cv(recent["created_date"], max(start, first), snapshot.as_of),
        }
        self.new_deal_templates_ = recent[[*self.factors, "amount"]].reset_index(drop=True)

    def _fit_closing_calendar(self, snapshot: PipelineSnapshot) -> None:
        """Relative intensity of wins by month of the quarter (B2B teams win at quarter end), shrunk to 1."""
        self.closing_calendar_ = np.ones(3)
        if self.model_config["closing_calendar"] != "quarter":
            return
        start = snapshot.as_of - pd.Timedelta(days=self.model_config["arrival_window_days"])
        # Wins only: the bookings are wins, and teams time wins (quarter-end pushes) unlike losses.
        closed = snapshot.deals.loc[
            (snapshot.deals["outcome"] == "won") & (snapshot.deals["closed_date"] > start), "closed_date"
        ]
        if len(closed) < 30:
            return
        # A rhythm within the quarter shows only over repeated quarters; over fewer, a ramp-up of the sales
        # team (Olist's first months) would pass for one.
        first = max(start, closed.min())
        whole = pd.period_range(first, snapshot.as_of, freq="Q")
        complete = [
            q
            for q in whole
            if q.start_time >= first.normalize() and q.end_time <= snapshot.as_of + pd.Timedelta(days=1)
        ]
        if len(complete) < self.model_config["calendar_min_quarters"]:
            return
        days = pd.date_range(first, snapshot.as_of, freq="D")
        exposure = np.bincount((days.month - 1) % 3, minlength=3).astype(float)
        observed = np.bincount((closed.dt.month.to_numpy() - 1) % 3, minlength=3).astype(float)
        expected = exposure / exposure.sum() * observed.sum()
        prior = self.model_config["calendar_prior_closes"]
        factor = (observed + prior) / (expected + prior)
        self.closing_calendar_ = factor / (factor * exposure).sum() * exposure.sum()

    def _fit_period_noise(self, snapshot: PipelineSnapshot, random_seed: int) -> None:
        """Forecast error the model's own chance does not cover, from hindcasts of recent months (log-scale sd).

        The model forecasts each of the last few complete months from the pipeline as it stood at the start of
        that month, with stage timing, arrivals and closing calendar refitted on what was known then, and
        compares with what was booked. The mean squared log error
        beyond the forecast's own log variance is the extra variance of a period (timing of big deals,
        execution, changes the model does not see). That variance gets a scaled inverse-chi-squared posterior
        from a weak prior (``period_noise_prior``: a sd and its weight in months) and the hindcasts, so a
        model with two hindcasts is not taken to know its error; forecasts draw a variance per draw from it and
        scale the draw by a log-normal factor. The hindcasts keep today's advance posterior (a refit per month
        would cost a sampler run each), so the data part is still a lower bound.
        """
        from omnimodel.funnel.forecast import forecast_bookings

        prior_sd, prior_months = self.model_config["period_noise_prior"]
        self.period_noise_sd_, self.period_noise_df_ = float(prior_sd), float(prior_months)
        self.hindcasts_ = pd.DataFrame(columns=["month", "actual", "forecast_mean", "log_error", "log_var"])
        d = snapshot.deals
        won = d[d["outcome"] == "won"]
        if won.empty:
            return
        last_full = (snapshot.as_of + pd.Timedelta(days=1)).to_period("M") - 1
        first = max(won["closed_date"].min().to_period("M") + 1, d["created_date"].min().to_period("M") + 2)
        months = [m for m in pd.period_range(first, last_full, freq="M")][
            -self.model_config["hindcast_months"] :
        ]
        rows = []
        for month in months:
            past = snapshot.rewind(month.start_time - pd.Timedelta(days=1))
            if past.open_deals.empty:
                continue
            # Timing, arrivals and calendar as known then (cheap to refit); the advance posterior is today's.
            then = copy.copy(self)
            then._fit_durations(past)
            then._fit_arrivals(past)
            then._fit_closing_calendar(past)
            fc = forecast_bookings(
                then, past, str(month), by=(), random_seed=random_seed, n_draws=300, period_noise=False
            )
            actual = self.deal_value(won.loc[won["closed_date"].dt.to_period("M") == month]).sum()
            if actual <= 0 or (fc.total <= 0).mean() > 0.1:
                continue
            logs = np.log(np.maximum(fc.total, 1e-9))
            rows.append(
                {
                    "month": str(month),
                    "actual": actual,
                    "forecast_mean": fc.total.mean(),
                    "log_error": np.log(actual) - logs.mean(),
                    "log_var": logs.var(),
                }
            )
        self.hindcasts_ = pd.DataFrame(rows)
        if rows:
            h = self.hindcasts_
            excess = max(0.0, float((h["log_error"] ** 2 - h["log_var"]).sum()))
            self.period_noise_df_ = prior_months + len(h)
            self.period_noise_sd_ = float(
                np.sqrt((prior_months * prior_sd**2 + excess) / self.period_noise_df_)
            )

    def period_shocks(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """One multiplicative factor per draw (mean 1) for the period-level chance the deals do not carry."""
        sd, df = getattr(self, "period_noise_sd_", 0.0), getattr(self, "period_noise_df_", 0.0)
        if sd <= 0 or df <= 0:
            return np.ones(n)
        var = df * sd**2 / rng.chisquare(df, n)  # the variance is uncertain too: a draw of it per draw
        return np.exp(rng.normal(0.0, 1.0, n) * np.sqrt(var) - var / 2)

    def deal_value(self, deals: pd.DataFrame) -> np.ndarray:
        """What a deal books: its amount (0 when unknown), or 1 when counting deals."""
        if self.measure == "deals":
            return np.ones(len(deals))
        return deals["amount"].fillna(0.0).to_numpy(float)

    def close_probability(
        self, as_of: pd.Timestamp, ranks: np.ndarray, elapsed: np.ndarray, start: int, end: int
    ) -> np.ndarray:
        """P(a deal that will be won closes from ``start`` to before ``end`` days after ``as_of``), per deal.

        Exact over the stage timing rather than sampled: the remaining stays are convolved on a daily grid (the
        later stages once per stage) and the closing calendar maps the period to effort. The forecast then
        needs one uniform per deal and draw: its booking is Bernoulli(P(win) x this).
        """
        cum = self._effort_by_day(as_of, max(end, 1))
        lo, hi = int(np.ceil(cum[start] - 1e-9)), int(np.ceil(cum[end] - 1e-9))  # effort days inside
        k = max(hi, 1)
        ranks, elapsed = np.asarray(ranks), np.nan_to_num(np.asarray(elapsed, dtype=float))
        out = np.zeros(len(ranks))
        after, _ = self._effort_left(k)
        for r, timing in enumerate(self.stage_timing_):
            cdf = np.concatenate([[0.0], np.cumsum(after[r])])  # cdf[v] = P(effort after this stage < v)
            j = np.arange(k)
            window = cdf[np.clip(hi - j, 0, k)] - cdf[np.clip(lo - j, 0, k)]  # P(stay j + after in [lo, hi))
            here = np.flatnonzero(ranks == r)
            for age in np.unique(elapsed[here]):
                pick = here[elapsed[here] == age]
                out[pick] = timing.remaining_pmf(k, age) @ window
        return np.clip(out, 0.0, 1.0)

    def new_deal_close_probability(self, as_of: pd.Timestamp, start: int, end: int, steps: int = 8) -> float:
        """P(a deal created at a uniform time before ``end`` days after ``as_of`` and won closes from ``start``
        to before ``end``): exact over the timing, the creation time on a grid of ``steps`` per day."""
        if end <= 0:
            return 0.0
        cum = self._effort_by_day(as_of, end)
        created = np.interp((np.arange(end * steps) + 0.5) / steps, np.arange(end + 1), cum)
        k = max(int(np.ceil(cum[end] - 1e-9)), 1)
        _, whole = self._effort_left(k)
        cdf = np.concatenate([[0.0], np.cumsum(whole)])
        top = np.clip(np.ceil(cum[end] - created - 1e-9).astype(np.int64), 0, k)
        bottom = np.clip(np.ceil(cum[start] - created - 1e-9).astype(np.int64), 0, k)
        return float(np.clip(np.mean(cdf[top] - cdf[bottom]), 0.0, 1.0))

    def _effort_left(self, k: int) -> tuple[list[np.ndarray], np.ndarray]:
        """Daily pmfs (k days) of the effort still needed after each stage (the later stages convolved), and of
        the whole funnel from the start."""
        after = [np.zeros(k) for _ in self.stage_timing_]
        whole = np.zeros(k)
        whole[0] = 1.0  # nothing left after the last stage
        for r in range(len(self.stage_timing_) - 1, -1, -1):
            after[r] = whole
            whole = np.convolve(whole, self.stage_timing_[r].remaining_pmf(k))[:k]
        return after, whole

    def _effort_by_day(self, as_of: pd.Timestamp, horizon: int) -> np.ndarray:
        """Closing effort accrued by the start of each day after ``as_of`` (the calendar's intensity)."""
        day = as_of + pd.to_timedelta(np.arange(horizon), unit="D")
        intensity = self.closing_calendar_[(day.month.to_numpy() - 1) % 3]
        return np.concatenate([[0.0], np.cumsum(intensity)])

    # --- using the posterior --------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError("the pipeline model is not fitted yet", fix="call fit(snapshot) first")

    def n_draws(self) -> int:
        self._check_fitted()
        post = self.idata_.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def level_codes(self, deals: pd.DataFrame, factor: str) -> np.ndarray:
        """Index of each deal's level of a factor in the fitted levels (-1 for a level never seen)."""
        values = deals[factor].astype("string").fillna("unknown").to_numpy(dtype=object)
        return pd.Index(self.levels_[factor]).get_indexer(values)

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
        for f in self.used_factors_:
            effect = post[f"effect_{f}"].transpose("sample", f).to_numpy()  # (D, L)
            # a level never seen before gets the average effect: 0 under sum-to-zero
            effect = np.concatenate([effect, np.zeros((effect.shape[0], 1))], axis=1)
            shift += effect[:, self.level_codes(deals, f)]  # code -1 picks the zero column
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
            for r, timing in enumerate(self.stage_timing_):
                mask = (ranks == r) & np.isfinite(age)
                if mask.any():
                    factor[mask] = timing.still_advancing(age[mask])
            return np.minimum(now[:, inverse] * factor, 1.0) * later[:, inverse]
        return (now * later)[:, inverse]

    def arrival_rates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws of new deals per day in the coming period: the average rate's posterior times the month-to-month
        swing seen in the window (a Gamma factor with mean 1), since one month's creations can be far off."""
        self._check_fitted()
        a = self.arrival_posterior_
        rate = rng.gamma(a["shape"], 1.0 / a["days"], size=n)
        cv = a.get("month_cv", 0.0)
        return rate * rng.gamma(1.0 / cv**2, cv**2, size=n) if cv > 0 else rate

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


# --- persistence: NetCDF InferenceData with config, version and learned state in the attributes (no pickle) ---

_STATE_ATTR = "omnimodel_pipeline_model"


def save_model(model: PipelineModel, path) -> Path:
    """Save a fitted model as NetCDF: the posterior plus its configuration and learned state as JSON."""
    from omnimodel import __version__

    model._check_fitted()
    state = {
        "omnimodel_version": __version__,
        "pooling": model.pooling,
        "measure": model.measure,
        "factors": list(model.factors),
        "model_config": model.model_config,
        "sampler_config": model.sampler_config,
        "stages": model.stages_,
        "levels": model.levels_,
        "used_factors": model.used_factors_,
        "centred": getattr(model, "centred_", {}),
        "counts": model.counts_.to_dict(orient="list"),
        "stage_timing": [t.to_json() for t in model.stage_timing_],
        "arrivals": model.arrival_posterior_,
        "templates": model.new_deal_templates_.to_dict(orient="list"),
        "closing_calendar": model.closing_calendar_.tolist(),
        "period_noise_sd": model.period_noise_sd_,
        "period_noise_df": model.period_noise_df_,
        "as_of": str(model.as_of_.date()),
        "diagnostics": model.diagnostics_.__dict__,
    }
    idata = model.idata_.copy()
    idata.posterior.attrs[_STATE_ATTR] = json.dumps(state, default=float)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    idata.to_netcdf(str(tmp))
    tmp.replace(path)
    return path


def load_model(path) -> PipelineModel:
    """Load a model saved by :func:`save_model`; it forecasts exactly as the saved one did."""
    import arviz as az

    idata = az.from_netcdf(str(path))
    if _STATE_ATTR not in idata.posterior.attrs:
        raise OmnimodelError(
            f"{path} is not a saved omnimodel pipeline model", fix="save it with save_model()"
        )
    state = json.loads(idata.posterior.attrs[_STATE_ATTR])
    model = PipelineModel(
        state["pooling"],
        state["model_config"],
        state["sampler_config"],
        tuple(state["factors"]),
        state["measure"],
    )
    model.idata_, model.stages_, model.levels_ = idata, state["stages"], state["levels"]
    model.used_factors_, model.centred_ = state["used_factors"], state["centred"]
    model.counts_ = pd.DataFrame(state["counts"])
    if "stage_timing" not in state:
        raise OmnimodelError(
            f"{path} was saved by omnimodel {state.get('omnimodel_version', '?')}, before stage timing was "
            "modelled jointly with the outcome",
            fix="fit the model again and save it",
        )
    model.stage_timing_ = [StageTiming.from_json(t) for t in state["stage_timing"]]
    model.arrival_posterior_ = state["arrivals"]
    model.new_deal_templates_ = pd.DataFrame(state["templates"])
    model.closing_calendar_ = np.array(state["closing_calendar"])
    model.period_noise_sd_, model.period_noise_df_ = state["period_noise_sd"], state["period_noise_df"]
    model.as_of_ = pd.Timestamp(state["as_of"])
    model.diagnostics_ = Diagnostics(**state["diagnostics"])
    return model
