"""What one customer will do, not what customers like them do on average: predictive draws of purchases.

:meth:`CLVModel.expected_purchases` gives each customer's *expected* purchases, and its interval is the
uncertainty of that mean: narrow, and it contains a customer's actual count for almost nobody (a customer buys
0, 1 or 2 times, not 0.8). Here each posterior draw of the segment's parameters is followed by a draw of the
customer's own purchase rate and dropout chance given their history (MBG/NBD: rate ~ Gamma(r + x, alpha + T)
while alive, dropout ~ Beta(a, b + x + 1); a customer gone since their last purchase buys nothing), and the
purchases over the horizon are simulated: Poisson purchases, each followed by a dropout coin. The spread of
those counts is the range for what the customer will do.

Counts are whole numbers, so a central 80 % interval of a count covers more than 80 % by construction (the
interval [0, 0] holds every customer who buys nothing). The calibration check is therefore the randomised PIT
(Czado, Gneiting and Held 2009): uniform for a calibrated forecast, so 80 % of customers fall in [0.1, 0.9].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_PURCHASES = 60  # simulated purchases per customer and horizon at most (the rest are cut off)


def simulate_purchases(
    k: dict[str, np.ndarray], p_alive: np.ndarray, summary: pd.DataFrame, years: float, seed: int = 0
) -> np.ndarray:
    """Draws of each customer's purchases in the next ``years``, given the posterior draws of the purchase
    parameters per customer ``k`` and of P(alive): int array (draws, customers)
    (:meth:`omnimodel.profile.clv.model.CLVModel.predictive_purchases`)."""
    rng = np.random.default_rng(seed + 1)
    x, t_x, T = (summary[c].to_numpy(float)[None, :] for c in ("x", "t_x", "T"))
    alive = rng.random(k["r"].shape) < p_alive
    rate = rng.gamma(k["r"] + x, 1.0 / (k["alpha"] + T))
    dropout = rng.beta(k["a"], k["b"] + x + 1)
    count = np.zeros(rate.shape, dtype=np.int64)
    clock = np.zeros(rate.shape)
    going = alive.copy()
    for _ in range(MAX_PURCHASES):
        clock += rng.exponential(1.0, rate.shape) / rate
        going &= clock <= years
        count += going
        going &= rng.random(rate.shape) >= dropout  # after each purchase the customer may drop out
        if not going.any():
            break
    return count


def randomised_pit(draws: np.ndarray, actual: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per customer: F(y - 1) + V (F(y) - F(y - 1)) with F the predictive CDF of the draws and V uniform."""
    below = (draws < actual[None, :]).mean(axis=0)
    at = (draws == actual[None, :]).mean(axis=0)
    return below + np.random.default_rng(seed).random(len(actual)) * at


def intervals(draws: np.ndarray, summary: pd.DataFrame, level: float = 0.8, seed: int = 0) -> pd.DataFrame:
    """Per customer, from draws of their holdout purchases: the predictive interval (``level``), the actual
    count, whether it falls inside, and the randomised PIT
    (:meth:`omnimodel.profile.clv.model.CLVModel.holdout_intervals`)."""
    actual = summary["holdout_purchases"].to_numpy(np.int64)
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0, method="inverted_cdf")
    out = summary[["customer_id"]].copy()
    out["low"], out["high"], out["actual"] = lo, hi, actual
    out["inside"] = (actual >= lo) & (actual <= hi)
    out["pit"] = randomised_pit(draws, actual, seed)
    return out


def coverage(intervals: pd.DataFrame, level: float = 0.8) -> dict[str, float]:
    """The share of customers inside their interval, and inside the PIT's central ``level`` (the calibrated
    check: ``level`` for a calibrated model)."""
    edge = (1 - level) / 2
    pit = intervals["pit"]
    return {
        "interval": float(intervals["inside"].mean()),
        "pit": float(((pit >= edge) & (pit <= 1 - edge)).mean()),
    }
