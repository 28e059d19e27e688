"""New deals, a part of the pipeline model: how many deals arrive and of which mix.

Poisson arrivals per day, conjugate Gamma(1 + created, days) posterior over the last year, times a
month-to-month swing (a Gamma factor with mean 1 and the coefficient of variation the year's complete months show
beyond Poisson chance), with the mix and value of new deals resampled from the deals created in that year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass
class Arrivals:
    """New deals: the arrival rate's posterior (Gamma ``shape``, ``days``, ``month_cv``) and the templates new
    deals are drawn from (attributes and amount of the deals created in the window)."""

    rate: dict[str, float]
    templates: pd.DataFrame

    @classmethod
    def fit(cls, snapshot: PipelineSnapshot, window_days: int, factors: Sequence[str]) -> Arrivals:
        """From the deals created in the ``window_days`` before the snapshot's date."""
        return cls(*fit_arrivals(snapshot, window_days, factors))

    def rates(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draws of new deals per day (see :func:`arrival_rates`)."""
        return arrival_rates(self.rate, rng, n)

    def mean_rate(self) -> float:
        """New deals per day on average (the month-to-month swing has mean 1)."""
        return self.rate["shape"] / self.rate["days"]

    def to_state(self) -> dict[str, Any]:
        """The fitted arrivals as JSON-able data."""
        return {"rate": self.rate, "templates": self.templates.to_dict(orient="list")}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Arrivals:
        """The arrivals :meth:`to_state` saved."""
        return cls(state["rate"], pd.DataFrame(state["templates"]))
