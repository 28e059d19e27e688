"""Which measure a pipeline forecast should count, and which target it is held against, from the data.

A forecast of deal value needs deal values: when only a few won deals have an amount, or a handful of values
dominate the total (Olist declares a revenue for 5 % of its won sellers, the largest five holding 96 % of it),
the value forecast is a lottery on those few and its mean lies far above its P90. Counting won deals is then
the honest measure. :func:`choose_measure` says which one it takes and why.

A default target, the same period a year earlier, is only fair when that period is comparable: not before the
data starts and not a ramp-up with a fraction of a usual period's bookings. :func:`default_target` says where
its target comes from and replaces one that is not comparable by the median of the last four periods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.data.periods import parse_period

if TYPE_CHECKING:
    from omnimodel.funnel.snapshot import PipelineSnapshot

MIN_COVERAGE = 0.8  # share of won deals with an amount for a value forecast
MAX_TOP_SHARE = 0.5  # most of the won value the largest 1 % of won deals (at least 3) may hold
RAMP_UP_SHARE = 0.5  # a period a year earlier with less than this share of a usual period's bookings


@dataclass(frozen=True)
class AmountCheck:
    """How far won deals' amounts can carry a value forecast."""

    won: int
    with_amount: int
    top_deals: int
    top_share: float  # share of the won value in the largest ``top_deals`` deals

    @property
    def coverage(self) -> float:
        """Share of won deals that have an amount."""
        return self.with_amount / self.won if self.won else 0.0

    @property
    def usable(self) -> bool:
        """Whether amounts can carry a value forecast: most won deals have one and no few dominate."""
        return self.coverage >= MIN_COVERAGE and self.top_share <= MAX_TOP_SHARE

    def as_text(self) -> str:
        """The finding in words."""
        if not self.with_amount:
            return "no won deal has an amount"
        return (
            f"{self.coverage:.0%} of the {self.won:,} won deals have an amount, and the largest "
            f"{self.top_deals:,} hold {self.top_share:.0%} of the won value"
        )


def check_amounts(deals: pd.DataFrame) -> AmountCheck:
    """Coverage and concentration of the won deals' amounts (a snapshot's ``deals``)."""
    won = deals[deals["outcome"] == "won"]
    amounts = won["amount"].dropna().astype(float)
    amounts = amounts[amounts > 0]
    top = max(3, int(np.ceil(0.01 * len(amounts))))
    share = float(amounts.nlargest(top).sum() / amounts.sum()) if len(amounts) else 1.0
    return AmountCheck(len(won), len(amounts), min(top, len(amounts)), share)


def choose_measure(deals: pd.DataFrame, requested: str | None = None) -> tuple[str, str]:
    """The measure to forecast (``amount`` or ``deals``) and one sentence saying why.

    Without ``requested``: the amount when the won deals' amounts can carry it (:class:`AmountCheck`), else the
    count of won deals. A requested ``amount`` the data cannot carry is kept, with the warning.
    """
    check = check_amounts(deals)
    if requested == "deals":
        return "deals", "Measure: won deals (as asked)."
    if requested == "amount":
        if check.usable:
            return "amount", "Measure: deal value (as asked)."
        return "amount", (
            f"Measure: deal value, as asked, although {check.as_text()}: the forecast rests on those few "
            "values (its mean can lie above its P90); measure=deals counts won deals instead."
        )
    if check.usable:
        return "amount", f"Measure: deal value ({check.as_text()})."
    return "deals", (
        f"Measure: won deals, not value: {check.as_text()}, so a value forecast would rest on a few values. "
        "Set measure=amount to forecast value anyway."
    )


def skew_note(quantiles: dict[str, float]) -> str | None:
    """A sentence for a forecast whose mean lies above its P90 (a few large outcomes pull it up), else None."""
    if quantiles["mean"] > quantiles["p90"]:
        return (
            f"The mean ({quantiles['mean']:,.0f}) lies above the P90 ({quantiles['p90']:,.0f}): a few rare, "
            "very large deals pull it up. Read the P50 and the P10-P90 range, not the mean."
        )
    return None


@dataclass(frozen=True)
class Target:
    """A target with where it came from, and a warning when the obvious default was not comparable."""

    value: float
    source: str
    warning: str | None = None

    def as_text(self) -> str:
        """The target and its provenance in one sentence."""
        text = f"Target {self.value:,.0f}: {self.source}."
        return f"{text} {self.warning}" if self.warning else text


def default_target(
    snapshot: PipelineSnapshot,
    period: str,
    measure: str = "amount",
    given: float | None = None,
    where: dict | None = None,
) -> Target:
    """The target a forecast of ``period`` is held against: ``given`` if any, else the bookings of the same
    period a year earlier, unless that period is not comparable (before the data starts, or a ramp-up with less
    than half the median bookings of the last four complete periods the data covers): then that median. With
    ``where`` (a slice such as ``{"region": "North"}``), from that slice's own bookings: a region is held against
    what the region booked, not the company."""
    from functools import partial

    from omnimodel.funnel.forecast import booked_in as booked_by_all
    from omnimodel.funnel.forecast import year_earlier

    if given is not None:
        return Target(float(given), "given")
    where = {k: v for k, v in (where or {}).items() if v is not None}
    booked_in = partial(booked_by_all, where=where)
    of = " of " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in where.items()) if where else ""
    p = parse_period(period)
    year_before = year_earlier(period)
    last_year = booked_in(snapshot, str(year_before), measure)
    first = snapshot.deals["created_date"].min()
    as_of = pd.Timestamp(snapshot.as_of)
    current = pd.Period(as_of, p.freq)
    last_complete = current if as_of.normalize() >= current.end_time.normalize() else current - 1
    # The four complete periods before the forecast that the data covers from their start.
    recent = [q for q in (last_complete - k for k in range(4)) if q.start_time >= first.normalize()]
    booked = {q: booked_in(snapshot, str(q), measure) for q in recent}
    middle = float(np.median(list(booked.values()))) if recent else 0.0
    # a usual period is not a ramp-up: periods far below the others (the team's first months) are left out
    ramps = [q for q in recent if middle > 0 and booked[q] < RAMP_UP_SHARE * middle]
    recent = [q for q in recent if q not in ramps]
    usual = float(np.median([booked[q] for q in recent])) if recent else 0.0
    before_data = pd.Timestamp(year_before.start_time) < first.normalize()
    ramp_up = usual > 0 and last_year < RAMP_UP_SHARE * usual
    if not (before_data or ramp_up):
        return Target(last_year, f"bookings{of} in {year_before}, the same period a year earlier")
    why = (
        f"{year_before} (a year earlier) starts before the data does"
        if before_data
        else f"{year_before} (a year earlier) booked {last_year:,.0f}, {100 * last_year / usual:.0f} % of a usual period "
        "(a ramp-up)"
    )
    if not recent:
        return Target(
            last_year,
            f"bookings{of} in {year_before}, the same period a year earlier",
            f"{year_before} is not fully in the data, so this target is not comparable; give the report a target (parameter target) for one.",
        )
    left_out = f" ({', '.join(map(str, ramps))}, a ramp-up, left out)" if ramps else ""
    return Target(
        usual,
        f"the median bookings{of} of the {len(recent)} periods {recent[-1]} to {recent[0]}{left_out}",
        f"Not the same period a year earlier: {why}. Give the report a target (parameter target) for an explicit one.",
    )


def level_targets(
    snapshot: PipelineSnapshot, period: str, measure: str, by: str, where: dict | None = None
) -> pd.Series:
    """Each level of ``by`` (a deal column, e.g. region) held against its own history: :func:`default_target`
    of that level's slice (within ``where``), as a Series level -> target."""
    where = {k: v for k, v in (where or {}).items() if v is not None}
    deals = snapshot.deals
    for column, value in where.items():
        deals = deals[deals[column].astype("string") == str(value)]
    levels = sorted(deals[by].astype("string").fillna("unknown").unique())
    return pd.Series(
        {
            level: default_target(snapshot, period, measure, where={**where, by: level}).value
            for level in levels
        },
        dtype=float,
    )
