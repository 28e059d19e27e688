"""New deals and the closing calendar: how many deals arrive, of which mix, and when in the quarter teams win.

New deals: Poisson arrivals per day, conjugate Gamma(1 + created, days) posterior over the last year, times a
month-to-month swing (a Gamma factor with mean 1 and the coefficient of variation the year's complete months show
beyond Poisson chance), with the mix and value of new deals resampled from the deals created in that year.

Closing calendar: the relative intensity of wins by month of the quarter (B2B teams win at quarter end), learned
only from complete quarters of wins and shrunk towards a flat calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.funnel.snapshot import TEAM, PipelineSnapshot


def month_to_month_cv(created: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> float:
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


def fit_arrivals(
    snapshot: PipelineSnapshot, window_days: int, factors: Sequence[str]
) -> tuple[dict[str, float], pd.DataFrame]:
    """The arrival rate's posterior (Gamma shape, days, month-to-month swing) and the templates of new deals
    (attributes and amount of the deals created in the window before the as-of date)."""
    start = snapshot.as_of - pd.Timedelta(days=window_days)
    first = snapshot.deals["created_date"].min()
    days = max(1, (snapshot.as_of - max(start, first)).days)
    recent = snapshot.deals[snapshot.deals["created_date"] > start]
    posterior = {
        "shape": 1.0 + len(recent),
        "days": float(days),
        "month_cv": month_to_month_cv(recent["created_date"], max(start, first), snapshot.as_of),
    }
    team = [c for c in TEAM if c in recent]  # new deals go to owners as the year's deals did
    return posterior, recent[[*factors, *team, "amount"]].reset_index(drop=True)


def arrival_rates(posterior: dict[str, Any], rng: np.random.Generator, n: int) -> np.ndarray:
    """Draws of new deals per day: the average rate's posterior times the month-to-month swing seen in the
    window (a Gamma factor with mean 1), since one month's creations can be far off."""
    rate = rng.gamma(posterior["shape"], 1.0 / posterior["days"], size=n)
    cv = posterior.get("month_cv", 0.0)
    return rate * rng.gamma(1.0 / cv**2, cv**2, size=n) if cv > 0 else rate


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
