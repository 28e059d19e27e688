"""What the data must hold before a report's headline or finding says something, in one place.

A headline states only what the data supports: enough customers behind a "best" or "worst", a "top 3" among more
than three, growth over two complete windows of the same length, "profit" only where costs exist, a lever named
only where it moves the chance. Each rule has a test that plants its trap (tests/reporting/test_evidence.py).
"""

from __future__ import annotations

import pandas as pd

#: customers behind a country or segment before it is named best, worst or most valuable
MIN_CUSTOMERS = 30
#: countries ranked before anything is said of a "top 3"
MIN_RANKED_FOR_TOP3 = 4
#: how much a lever must move the chance to reach the target (a share) before it is named
MIN_LEVER_MOVE = 0.01
#: seasons of history before a forecast's chance to reach a target is stated (one season cannot tell a trend
#: from the season: 12 months rising from 58 k to 133 k forecast 1.71 M, P10 1.60 M, "above 99 %"; 1.25 M came)
MIN_SEASONS = 2


def supported(frame: pd.DataFrame, count: str = "customers", minimum: int = MIN_CUSTOMERS) -> pd.DataFrame:
    """The rows with at least ``minimum`` behind them (in their ``count`` column), in their order."""
    return frame[frame[count] >= minimum]


def complete(windows: list[tuple[str, str]], first: pd.Timestamp, through: pd.Timestamp) -> bool:
    """Whether the data, from ``first`` through ``through``, covers every (start, end) window whole: growth is
    only said over complete windows (a year against its first nine days is no comparison)."""
    return all(
        pd.Timestamp(start).normalize() >= first.normalize()
        and pd.Timestamp(end).normalize() <= through.normalize()
        for start, end in windows
    )


def value_word(has_costs: bool) -> str:
    """What customer value is: profit where the data has costs of goods, else net revenue (after returns and
    cost to serve), said as such."""
    return "profit" if has_costs else "net revenue"


def chance_supported(periods: int | None, season_length: int) -> bool:
    """Whether a history of ``periods`` (None: not known, taken as enough) holds the seasons a chance needs."""
    return periods is None or season_length <= 1 or periods >= MIN_SEASONS * season_length


def short_history(periods: int, season_length: int) -> str:
    """The sentence a summary leads with when :func:`chance_supported` fails."""
    return (
        f"The forecasts rest on {periods} months of history, less than two years: they cannot tell a trend from "
        "the season, so no chance to reach a target is stated."
    )


def moves(before: float, after: float) -> bool:
    """Whether a lever moves the chance enough to be named."""
    return abs(after - before) >= MIN_LEVER_MOVE
