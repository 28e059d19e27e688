"""Close dates simulated stay by stay: the reference the model's exact close probabilities are tested against."""

import numpy as np
import pandas as pd


def sample_stay(
    timing, rng, elapsed: np.ndarray, tail_rate: np.ndarray, entering: bool = False
) -> np.ndarray:
    """Remaining days to advance out of a stage, given ``elapsed`` days there (still there at the end of that
    day; ``entering``: just entering, so a same-day advance counts) and that the deal advances: (draws, deals).
    Inverts the advance incidence; past the last exit seen, an exponential wait at ``tail_rate`` (draws, 1)."""
    n, m = tail_rate.shape[0], len(elapsed)
    times, cif = timing.times, timing.cif
    end = times[-1] if len(times) else 0.0
    f_end = cif[-1] if len(cif) else 0.0
    idx = np.searchsorted(times, elapsed, side="right") - 1
    f_a = np.where(idx >= 0, cif[np.maximum(idx, 0)] if len(cif) else 0.0, 0.0)
    if entering:
        f_a = np.zeros(m)
    target = f_a[None, :] + rng.random((n, m)) * (timing.ever - f_a)[None, :]
    inside = target < f_end
    t = np.full((n, m), np.inf)
    if len(times):
        t[inside] = times[np.minimum(np.searchsorted(cif, target[inside], side="right"), len(times) - 1)]
    rows, cols = np.nonzero(~inside)
    t[rows, cols] = np.maximum(end, elapsed[cols]) + rng.exponential(1.0, len(rows)) / tail_rate[rows, 0]
    return np.maximum(t - elapsed[None, :], 0.0)


def remaining_days(
    model, rng, ranks: np.ndarray, elapsed: np.ndarray, n: int, entering: bool = False
) -> np.ndarray:
    """Days of closing effort until deals in stage ``ranks`` (``elapsed`` days there; ``entering``: deals just
    created) are won: (n, deals)."""
    total = np.zeros((n, len(ranks)))
    for r, timing in enumerate(model.timing_.stages):
        tail_rate = rng.gamma(timing.tail[0], 1.0 / timing.tail[1], size=(n, 1))
        if (ranks == r).any():
            total[:, ranks == r] += sample_stay(timing, rng, elapsed[ranks == r], tail_rate, entering)
        if (ranks < r).any():  # stages still ahead: entered later, from their start
            zeros = np.zeros(int((ranks < r).sum()))
            total[:, ranks < r] += sample_stay(timing, rng, zeros, tail_rate, entering=True)
    return total


def close_day(model, as_of, created: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """Days after ``as_of`` at which ``effort`` days of closing effort begun on day ``created`` are done, with
    effort accruing at the closing calendar's intensity."""
    horizon = 3 * 366
    day = as_of + pd.to_timedelta(np.arange(horizon), unit="D")
    cum = np.concatenate([[0.0], np.cumsum(model.timing_.calendar[(day.month.to_numpy() - 1) % 3])])
    done = np.interp(created, np.arange(horizon + 1), cum) + effort
    return np.interp(done, cum, np.arange(horizon + 1), right=np.inf)
