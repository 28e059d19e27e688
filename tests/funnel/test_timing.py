"""Stage timing jointly with the outcome (competing risks) and the swing of new deals: planted truths."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.funnel.arrivals import month_to_month_cv as _month_to_month_cv
from omnimodel.funnel.timing import StageTiming, _competing_risks
from tests.funnel.simulate import sample_stay

ADVANCE, LOSS = 1 / 20, 1 / 60  # daily hazards: P(advance) = 0.75, time to exit ~ Exp(mean 15 days)


def _planted(n=40_000, seed=3, follow_up=200):
    rng = np.random.default_rng(seed)
    exit_days = rng.exponential(1 / (ADVANCE + LOSS), n)
    advances = rng.random(n) < ADVANCE / (ADVANCE + LOSS)
    censor = rng.uniform(0, follow_up, n)  # deals still in the stage at as_of
    days = np.ceil(np.minimum(exit_days, censor))
    exited = exit_days <= censor
    return days, exited, exited & advances


def test_cumulative_incidence_recovers_the_planted_advance_probability_under_censoring():
    days, exited, advanced = _planted()
    times, surv, cif, at_risk = _competing_risks(days, exited, advanced)
    assert cif[-1] == pytest.approx(ADVANCE / (ADVANCE + LOSS), abs=0.015)
    assert np.all(np.diff(cif) >= 0) and np.all(np.diff(surv) <= 0)
    t = 10
    i = np.searchsorted(times, t, side="right") - 1
    exact = ADVANCE / (ADVANCE + LOSS) * (1 - np.exp(-(ADVANCE + LOSS) * t))
    assert cif[i] == pytest.approx(exact, abs=0.02)


def test_time_to_advance_is_drawn_from_the_advances_not_from_the_losses():
    # Olist-like: a lead counts as lost only after 180 days, wins come after about 10 days
    rng = np.random.default_rng(5)
    n = 20_000
    win = rng.random(n) < 0.2
    days = np.where(win, np.ceil(rng.exponential(10, n)), 180.0)
    timing = StageTiming.fit(days, np.ones(n, bool), win)
    rng = np.random.default_rng(0)
    tail_rate = rng.gamma(timing.tail[0], 1 / timing.tail[1], size=(20_000, 1))
    draws = sample_stay(timing, rng, np.zeros(1), tail_rate, entering=True)[:, 0]
    assert np.median(draws) == pytest.approx(10 * np.log(2), abs=1.0)
    assert np.quantile(draws, 0.99) < 60
    # a lead 100 days old has outlived almost every win: it is nearly dead, unlike a fresh one
    still = timing.still_advancing(np.array([0.0, 5.0, 100.0]))
    assert still[0] == pytest.approx(1.0, abs=0.01)
    assert still[2] < 0.05


@pytest.mark.parametrize("follow_up", [200, 60])
def test_memoryless_hazards_leave_the_advance_chance_unchanged_by_age(follow_up):
    # with 60 days of follow-up, what happens later is the constant-hazard tail's to estimate, not zero
    days, exited, advanced = _planted(follow_up=follow_up)
    timing = StageTiming.fit(days, exited, advanced)
    still = timing.still_advancing(np.array([0.0, 10.0, 30.0]))
    np.testing.assert_allclose(still, 1.0, atol=0.06)
    # remaining time to advance given 10 days spent: Exp with the total exit rate (mean 15 days)
    rng = np.random.default_rng(1)
    tail_rate = rng.gamma(timing.tail[0], 1 / timing.tail[1], size=(40_000, 1))
    rest = sample_stay(timing, rng, np.array([10.0]), tail_rate)[:, 0]
    assert rest.mean() == pytest.approx(1 / (ADVANCE + LOSS), rel=0.1)


def test_same_day_advances_count_for_deals_entering_a_stage():
    # Maven's prospecting deals all advance the day they start: a deal entering the stage (a new deal, or
    # one reaching it later) advances at once, while one still there at the end of its first day waits
    timing = StageTiming.fit(np.zeros(100), np.ones(100, bool), np.ones(100, bool))
    entering = timing.remaining_pmf(5)
    assert entering[0] == pytest.approx(1.0)
    still_there = timing.remaining_pmf(5, elapsed=0.0)
    assert still_there[0] == 0.0


def test_month_to_month_swing_of_new_deals_is_recovered():
    # planted: each month's creation rate is 20 a day times a Gamma factor with cv 0.4; a steady Poisson
    # stream gives (about) no swing beyond chance
    rng = np.random.default_rng(11)
    months = pd.period_range("2020-01", periods=36, freq="M")
    swings, steady = [], []
    for factor, out in ((rng.gamma(1 / 0.16, 0.16, len(months)), swings), (np.ones(len(months)), steady)):
        for m, f in zip(months, factor, strict=True):
            n = rng.poisson(20 * f * m.days_in_month)
            out.append(m.start_time + pd.to_timedelta(rng.uniform(0, m.days_in_month, n), unit="D"))
    start, end = months[0].start_time, months[-1].end_time.normalize()
    assert _month_to_month_cv(pd.Series(np.concatenate(swings)), start, end) == pytest.approx(0.4, abs=0.12)
    assert _month_to_month_cv(pd.Series(np.concatenate(steady)), start, end) < 0.06


def test_a_stage_nobody_has_left_yet_falls_back_on_the_prior():
    # An early snapshot: every stay in the stage is still open, so there is no exit to estimate timing from.
    days = np.array([3.0, 10.0, 40.0])
    none = np.zeros(3, dtype=bool)
    timing = StageTiming.fit(days, none, none, prior=(1.0, 10.0))
    assert timing.ever == pytest.approx(0.5)  # Beta(1, 1) share of advances among exits
    assert np.allclose(timing.still_advancing(np.array([0.0, 5.0, 500.0])), 1.0)
    # Exits at a Gamma(1, 10 + 53 days exposed) rate: a Lomax time, P(T < k) = 1 - (1 + k / 63) ** -1.
    pmf = timing.remaining_pmf(4000)
    assert (pmf >= 0).all()
    assert pmf[:30].sum() == pytest.approx(1 - (1 + 30 / 63) ** -1)
    assert pmf.sum() == pytest.approx(1 - (1 + 4000 / 63) ** -1)
