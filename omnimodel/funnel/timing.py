"""Stage timing, jointly with the outcome (competing risks), and the exact chance of closing inside a period.

Per stage, the Aalen-Johansen cumulative incidence of advancing (right-censored by deals still there; losses are
the competing exit). A won deal's time comes from the advances only, however slowly losses are recorded, and a
deal in a stage longer than most advances took has its advance probability scaled by its chance of still
advancing at its age. Past the last exit seen, constant hazards estimated from the stays past the 90th
percentile of the advances: exits at a conjugate Gamma(1 + exits, 10 + days exposed) rate, a Beta-smoothed
share of them advances (what follows the longest follow-up is estimated, not assumed away).

The chance that a won deal closes inside a period is exact over this timing: the remaining stays are convolved
on a daily grid, with a closing calendar (effort per day) mapping days to effort. The closing calendar is the
relative intensity of wins by month of the quarter (B2B teams win at quarter end), learned only from complete
quarters of wins and shrunk towards a flat calendar. Both together are the pipeline model's :class:`Timing`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.funnel.snapshot import PipelineSnapshot


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
        """Share of the exits past the last exit seen that are advances (Beta(1, 1) posterior mean)."""
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
        """The fitted timing as plain lists, for saving a model."""
        arrays = [a.tolist() for a in (self.times, self.surv, self.cif, self.at_risk)]
        return [*arrays, self.cut, list(self.tail), list(self.tail_share)]

    @classmethod
    def from_json(cls, v: list) -> StageTiming:
        """The timing saved by :meth:`to_json`."""
        times, surv, cif, at_risk = (np.array(a, dtype=float) for a in v[:4])
        return cls(times, surv, cif, at_risk, float(v[4]), (v[5][0], v[5][1]), (v[6][0], v[6][1]))


def fit_stage_timing(
    snapshot: PipelineSnapshot, n_stages: int, prior: tuple[float, float] = (1.0, 10.0)
) -> list[StageTiming]:
    """Time to advance out of each stage, jointly with the outcome (competing risks).

    A won deal closes as fast as the advances say, not as slowly as losses are recorded; a deal in a stage for
    longer than most advances took is less likely to advance at all. Past the 90th percentile of advances, an
    exponential tail whose rate comes from the stays seen that long: stale "zombie" deals advance as rarely as
    the history says.
    """
    last_stay = snapshot.deals.set_index("opportunity_id")
    out = []
    for r in range(n_stages):
        st = snapshot.stays[snapshot.stays["stage_rank"] == r]
        days, exited = st["days"].to_numpy(float), st["exited"].to_numpy(bool)
        deal = last_stay.reindex(st["opportunity_id"])
        lost = ((deal["outcome"] == "lost") & (deal["reached"] == r)).to_numpy()
        out.append(StageTiming.fit(days, exited, exited & ~lost, prior))
    return out


def effort_by_day(calendar: np.ndarray, as_of: pd.Timestamp, horizon: int) -> np.ndarray:
    """Closing effort accrued by the start of each day after ``as_of`` (the calendar's intensity by month of
    the quarter)."""
    day = as_of + pd.to_timedelta(np.arange(horizon), unit="D")
    intensity = calendar[(day.month.to_numpy() - 1) % 3]
    return np.concatenate([[0.0], np.cumsum(intensity)])


def effort_left(timings: Sequence[StageTiming], k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Daily pmfs (k days) of the effort still needed after each stage (the later stages convolved), and of
    the whole funnel from the start."""
    after = [np.zeros(k) for _ in timings]
    whole = np.zeros(k)
    whole[0] = 1.0  # nothing left after the last stage
    for r in range(len(timings) - 1, -1, -1):
        after[r] = whole
        whole = np.convolve(whole, timings[r].remaining_pmf(k))[:k]
    return after, whole


def close_probability(
    timings: Sequence[StageTiming],
    calendar: np.ndarray,
    as_of: pd.Timestamp,
    ranks: np.ndarray,
    elapsed: np.ndarray,
    start: int,
    end: int,
) -> np.ndarray:
    """P(a deal that will be won closes from ``start`` to before ``end`` days after ``as_of``), per deal.

    Exact over the stage timing rather than sampled: the remaining stays are convolved on a daily grid (the
    later stages once per stage) and the closing calendar maps the period to effort. The forecast then
    needs one uniform per deal and draw: its booking is Bernoulli(P(win) x this).
    """
    cum = effort_by_day(calendar, as_of, max(end, 1))
    lo, hi = int(np.ceil(cum[start] - 1e-9)), int(np.ceil(cum[end] - 1e-9))  # effort days inside
    k = max(hi, 1)
    ranks, elapsed = np.asarray(ranks), np.nan_to_num(np.asarray(elapsed, dtype=float))
    out = np.zeros(len(ranks))
    after, _ = effort_left(timings, k)
    for r, timing in enumerate(timings):
        cdf = np.concatenate([[0.0], np.cumsum(after[r])])  # cdf[v] = P(effort after this stage < v)
        j = np.arange(k)
        window = cdf[np.clip(hi - j, 0, k)] - cdf[np.clip(lo - j, 0, k)]  # P(stay j + after in [lo, hi))
        here = np.flatnonzero(ranks == r)
        for age in np.unique(elapsed[here]):
            pick = here[elapsed[here] == age]
            out[pick] = timing.remaining_pmf(k, age) @ window
    return np.clip(out, 0.0, 1.0)


def new_deal_close_probability(
    timings: Sequence[StageTiming],
    calendar: np.ndarray,
    as_of: pd.Timestamp,
    start: int,
    end: int,
    steps: int = 8,
) -> float:
    """P(a deal created at a uniform time before ``end`` days after ``as_of`` and won closes from ``start``
    to before ``end``): exact over the timing, the creation time on a grid of ``steps`` per day."""
    if end <= 0:
        return 0.0
    cum = effort_by_day(calendar, as_of, end)
    created = np.interp((np.arange(end * steps) + 0.5) / steps, np.arange(end + 1), cum)
    k = max(int(np.ceil(cum[end] - 1e-9)), 1)
    _, whole = effort_left(timings, k)
    cdf = np.concatenate([[0.0], np.cumsum(whole)])
    top = np.clip(np.ceil(cum[end] - created - 1e-9).astype(np.int64), 0, k)
    bottom = np.clip(np.ceil(cum[start] - created - 1e-9).astype(np.int64), 0, k)
    return float(np.clip(np.mean(cdf[top] - cdf[bottom]), 0.0, 1.0))


def fit_closing_calendar(snapshot: PipelineSnapshot, config: dict[str, Any]) -> np.ndarray:
    """Relative intensity of wins by month of the quarter (B2B teams win at quarter end), shrunk to 1.

    ``config`` holds ``closing_calendar`` (quarter or none), ``arrival_window_days``,
    ``calendar_min_quarters`` and ``calendar_prior_closes`` (see the pipeline model's configuration).
    """
    flat = np.ones(3)
    if config["closing_calendar"] != "quarter":
        return flat
    start = snapshot.as_of - pd.Timedelta(days=config["arrival_window_days"])
    # Wins only: the bookings are wins, and teams time wins (quarter-end pushes) unlike losses.
    closed = snapshot.deals.loc[
        (snapshot.deals["outcome"] == "won") & (snapshot.deals["closed_date"] > start), "closed_date"
    ]
    if len(closed) < 30:
        return flat
    # A rhythm within the quarter shows only over repeated quarters; over fewer, a ramp-up of the sales
    # team (Olist's first months) would pass for one.
    first = max(start, closed.min())
    whole = pd.period_range(first, snapshot.as_of, freq="Q")
    complete = [
        q
        for q in whole
        if q.start_time >= first.normalize() and q.end_time <= snapshot.as_of + pd.Timedelta(days=1)
    ]
    if len(complete) < config["calendar_min_quarters"]:
        return flat
    days = pd.date_range(first, snapshot.as_of, freq="D")
    exposure = np.bincount((days.month - 1) % 3, minlength=3).astype(float)
    observed = np.bincount((closed.dt.month.to_numpy() - 1) % 3, minlength=3).astype(float)
    expected = exposure / exposure.sum() * observed.sum()
    prior = config["calendar_prior_closes"]
    factor = (observed + prior) / (expected + prior)
    return factor / (factor * exposure).sum() * exposure.sum()


@dataclass
class Timing:
    """When deals close: each stage's timing (:class:`StageTiming`) and the closing calendar, a part of the
    pipeline model that saves and loads itself."""

    stages: list[StageTiming]
    calendar: np.ndarray  # relative closing intensity by month of the quarter

    @classmethod
    def fit(cls, snapshot: PipelineSnapshot, config: dict[str, Any]) -> Timing:
        """Stage timing and the closing calendar from a snapshot (``config``: the pipeline model's)."""
        n_stages = len(snapshot.funnel.stage_names)
        stages = fit_stage_timing(snapshot, n_stages, config["duration_prior"])
        return cls(stages, fit_closing_calendar(snapshot, config))

    def close_probability(
        self, as_of: pd.Timestamp, ranks: np.ndarray, elapsed: np.ndarray, start: int, end: int
    ) -> np.ndarray:
        """P(a deal that will be won closes from ``start`` to before ``end`` days after ``as_of``), per deal
        (see :func:`close_probability`)."""
        return close_probability(self.stages, self.calendar, as_of, ranks, elapsed, start, end)

    def new_deal_close_probability(self, as_of: pd.Timestamp, start: int, end: int, steps: int = 8) -> float:
        """P(a deal created before ``end`` days after ``as_of`` and won closes from ``start`` to before ``end``)
        (see :func:`new_deal_close_probability`)."""
        return new_deal_close_probability(self.stages, self.calendar, as_of, start, end, steps)

    def to_state(self) -> dict[str, Any]:
        """The fitted timing as JSON-able data."""
        return {"stages": [t.to_json() for t in self.stages], "calendar": self.calendar.tolist()}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Timing:
        """The timing :meth:`to_state` saved."""
        return cls([StageTiming.from_json(t) for t in state["stages"]], np.array(state["calendar"]))
