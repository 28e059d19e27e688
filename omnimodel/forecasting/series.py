"""Hierarchical revenue series: bottom series (e.g. channel x region) and how they add up.

A :class:`Hierarchy` holds one column per bottom series over complete periods and a frame naming each bottom
series' level values. Every node (the total, each value of a level, each bottom series) is a sum of bottom
series, given by the summing matrix ``S``; forecasts are made for all nodes and then reconciled
(:mod:`omnimodel.forecasting.reconcile`) so they add up again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.data.periods import usual_gap_days
from omnimodel.data.queries import attach_columns, line_revenue
from omnimodel.data.workspace import Workspace
from omnimodel.environment import resolve_path
from omnimodel.exceptions import OmnimodelError

#: periods per season by period length: a week of days, a year of weeks (52: a 53-week year shifts the
#: seasonal pattern by one week), months or quarters
SEASON = {"D": 7, "W": 52, "M": 12, "Q": 4}
FREQS = tuple(SEASON)


@dataclass
class Hierarchy:
    """Bottom series (periods x series) and their level values (one row per series, columns = levels)."""

    bottom: pd.DataFrame
    keys: pd.DataFrame
    name: str = "revenue"

    def __post_init__(self):
        """Series in the order of their level values, whatever order they came in: the sums (and so every
        fit on them) are then the same to the last bit however a user lists the series."""
        if len(self.keys) != self.bottom.shape[1]:
            raise OmnimodelError(
                f"{self.bottom.shape[1]} bottom series but {len(self.keys)} rows of level values",
                table="series",
                fix="give one row of level values per bottom series, in the same order",
            )
        keys = self.keys.reset_index(drop=True)
        order = keys.astype(str).sort_values(list(keys.columns), kind="stable").index.to_numpy()
        self.keys = keys.iloc[order].reset_index(drop=True)
        self.bottom = self.bottom.iloc[:, order]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        period: str,
        levels: list[str] | tuple[str, ...],
        value: str,
        freq: str,
        name: str | None = None,
        dayfirst: bool | None = None,
    ) -> Hierarchy:
        """A hierarchy from a long frame: one row per period and level values (``levels`` top first).

        Rows of one period and series are summed, so daily rows with ``freq="W"`` give weekly series; periods
        without a row count as 0. ``freq`` is D, W, M or Q. Row and series order do not matter: series are
        matched by their level values everywhere. Dates written 05/02/10 are read day first or month first as
        the values show (a 13 or more in one place); where every value could be either, ``dayfirst`` must say.

        >>> import pandas as pd
        >>> rows = pd.DataFrame({"day": ["2024-01-01", "2024-01-02", "2024-01-09"], "channel": ["web"] * 3,
        ...                      "sales": [1.0, 2.0, 4.0]})
        >>> Hierarchy.from_frame(rows, "day", ["channel"], "sales", freq="W").bottom["web"].tolist()
        [3.0, 4.0]
        """
        if freq not in FREQS:
            raise OmnimodelError(
                f"freq {freq!r} is not a period length", fix=f"use one of {', '.join(FREQS)}"
            )
        missing = [c for c in (period, *levels, value) if c not in frame.columns]
        if missing:
            raise OmnimodelError(
                f"no column(s) {', '.join(missing)}",
                table="series",
                fix=f"name the period, level and value columns; the frame has {', '.join(map(str, frame.columns))}",
            )
        if not levels:
            raise OmnimodelError("no level columns", table="series", fix="name at least one, e.g. channel")
        d = frame[[period, *levels, value]].copy()
        d[period] = _iso_dates(d[period].astype(str).str.strip(), period, dayfirst)
        try:
            d[period] = pd.PeriodIndex(d[period], freq=freq)
        except (ValueError, TypeError):
            bad = [i for i, v in d[period].items() if not _is_period(v, freq)]
            raise OmnimodelError(
                f"{len(bad):,} value(s) of {period} are not dates or periods, e.g. {d[period][bad[0]]!r}",
                table="series",
                column=period,
                rows=bad[:5],
                fix="write them as 2024-01-31, 2024-01 or 2024Q1",
            ) from None
        d[value] = pd.to_numeric(d[value], errors="coerce")
        for col in (*levels, value):
            bad = d.index[d[col].isna()]
            if len(bad):
                raise OmnimodelError(
                    f"{len(bad):,} row(s) without a value",
                    table="series",
                    column=col,
                    rows=list(bad[:5]),
                    fix="fill them in or drop those rows"
                    + (" (values must be numbers)" if col == value else ""),
                )
        for c in levels:
            d[c] = d[c].astype(str)
        return _from_long(d, list(levels), value, period, name or value)

    @property
    def levels(self) -> list[str]:
        """The hierarchy's level columns, top first."""
        return list(self.keys.columns)

    @property
    def season_length(self) -> int:
        """Periods per season: 7 for days, 52 for weeks, 12 for months, 4 for quarters, 1 otherwise."""
        return SEASON.get(self.bottom.index.freqstr[0], 1)

    def periods_until(self, end: str) -> int:
        """Periods from the last one in the history to ``end`` (e.g. ``2026-12``): a forecast's horizon."""
        last = self.bottom.index[-1]
        return int((pd.Period(end, last.freq) - last).n)

    def until(self, end: str | pd.Period) -> Hierarchy:
        """The same hierarchy with periods up to ``end`` (inclusive) only: e.g. history before a target year."""
        keep = self.bottom.index <= pd.Period(end, self.bottom.index.freq)
        return Hierarchy(self.bottom[keep], self.keys, self.name)

    def nodes(self) -> pd.DataFrame:
        """One row per node: its label and level values (None above its level), in S's row order."""
        rows = [{"node": "total", "depth": 0}]
        for depth in range(1, len(self.levels) + 1):
            cols = self.levels[:depth]
            for values in self.keys[cols].drop_duplicates().sort_values(cols).itertuples(index=False):
                label = " / ".join(str(v) for v in values)
                rows.append({"node": label, "depth": depth, **dict(zip(cols, values, strict=True))})
        return pd.DataFrame(rows)

    def summing_matrix(self) -> np.ndarray:
        """(nodes x bottom series) 0/1 matrix: which bottom series add up to each node."""
        nodes = self.nodes()
        s = np.ones((len(nodes), len(self.keys)), dtype=bool)
        for i, node in nodes.iterrows():
            for col in self.levels[: node["depth"]]:
                s[i] &= (self.keys[col] == node[col]).to_numpy()
        return s.astype(float)

    def all_series(self) -> pd.DataFrame:
        """Periods x nodes: every node's history as the sum of its bottom series."""
        values = self.bottom.to_numpy() @ self.summing_matrix().T
        return pd.DataFrame(values, index=self.bottom.index, columns=self.nodes()["node"])


_SLASHED = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})$")


def _iso_dates(text: pd.Series, column: str, dayfirst: bool | None) -> pd.Series:
    """Dates written day/month/year or month/day/year as ISO dates, the order read from the values (a part
    above 12 is the day) or given by ``dayfirst``; other text is returned as it is. Never guesses: pandas read
    05/02/10 as 2 May (and 13/02/10 day first), so 143 weeks spread over 154, 27 of them 0."""
    parts = text.str.extract(_SLASHED)
    if text.empty or parts[0].isna().any():
        return text
    first, second = parts[0].astype(int), parts[2].astype(int)
    seen_day_first, seen_month_first = bool((first > 12).any()), bool((second > 12).any())
    if seen_day_first and seen_month_first:
        raise OmnimodelError(
            f"{column} mixes day-first and month-first dates, e.g. {text[first > 12].iloc[0]!r} and "
            f"{text[second > 12].iloc[0]!r}",
            table="series",
            column=column,
            fix="write the dates one way, best as 2024-01-31",
        )
    found = True if seen_day_first else False if seen_month_first else None
    if found is not None and dayfirst is not None and found != dayfirst:
        raise OmnimodelError(
            f"{column} holds {'day' if found else 'month'}-first dates (e.g. "
            f"{text[(first if found else second) > 12].iloc[0]!r}), but they were said to be "
            f"{'day' if dayfirst else 'month'} first",
            table="series",
            column=column,
            fix="leave the order out: the values show it",
        )
    order = found if found is not None else dayfirst
    if order is None:
        raise OmnimodelError(
            f"{column} holds dates like {text.iloc[0]!r} that read day first or month first alike (no day above "
            "12 tells them apart)",
            table="series",
            column=column,
            fix="say the order (dayfirst=True or False; omnimodel targets: --dayfirst or --monthfirst), or write "
            "the dates as 2024-01-31",
        )
    day, month = (first, second) if order else (second, first)
    year = parts[3].astype(int)
    year = year.where(year >= 100, 2000 + year)  # two digits: this century, as spreadsheets write them
    return year.astype(str) + "-" + month.map("{:02d}".format) + "-" + day.map("{:02d}".format)


def _is_period(value, freq: str) -> bool:
    try:
        pd.Period(str(value).strip(), freq=freq)
    except (ValueError, TypeError):
        return False
    return True


def _from_long(frame: pd.DataFrame, levels: list[str], value: str, period: str, name: str) -> Hierarchy:
    wide = frame.pivot_table(index=period, columns=levels, values=value, aggfunc="sum").sort_index()
    if len(wide):  # every period of the span, a period without rows being 0
        wide = wide.reindex(pd.period_range(wide.index.min(), wide.index.max(), freq=wide.index.freq))
    wide = wide.fillna(0.0)
    keys = wide.columns.to_frame(index=False)
    keys.columns = levels
    wide.columns = [" / ".join(str(v) for v in k) if isinstance(k, tuple) else str(k) for k in wide.columns]
    return Hierarchy(wide, keys, name)


def au_visitor_nights(folder: str | Path) -> Hierarchy:
    """Quarterly visitor nights (millions) of 20 Australian regions in 6 state groups (Tourism Research Australia)."""
    d = pd.read_csv(_file(folder, "visnights_long.csv"))
    d["quarter"] = pd.PeriodIndex(d["quarter"], freq="Q")
    return _from_long(d, ["state", "region"], "visitor_nights_m", "quarter", "visitor nights (m)")


def au_accommodation(folder: str | Path) -> Hierarchy:
    """Quarterly accommodation takings (A$ million, nominal) of 8 Australian states (ABS)."""
    d = pd.read_csv(_file(folder, "aus_accommodation.csv"))
    d["quarter"] = pd.PeriodIndex(d["Date"].str.replace(" ", ""), freq="Q")
    return _from_long(d, ["State"], "Takings", "quarter", "takings (A$ m)")


#: real series sets by the name the CLI and notebook 04 use
SERIES_SETS = {"au-visitor-nights": au_visitor_nights, "au-accommodation": au_accommodation}


def series_set(name: str, folder: str | Path) -> Hierarchy:
    """A real series set by name (``au-visitor-nights``, ``au-accommodation``) from the folder holding its files
    (``visnights_long.csv``, ``aus_accommodation.csv``)."""
    if name not in SERIES_SETS:
        from omnimodel.exceptions import ConfigError

        raise ConfigError(f"no series set {name!r}", fix=f"use one of {', '.join(SERIES_SETS)}")
    return SERIES_SETS[name](folder)


def _file(folder: str | Path, name: str) -> Path:
    path = resolve_path(folder) / name
    if not path.exists():
        raise OmnimodelError(
            f"{name} not found in {resolve_path(folder)}.",
            table=name,
            fix="pass the folder holding the Australian tourism files (visnights_long.csv, aus_accommodation.csv)",
        )
    return path


def workspace_revenue(
    ws: Workspace,
    levels: tuple[str, ...] = ("channel", "region"),
    freq: str = "M",
    min_share: float = 0.0,
) -> Hierarchy:
    """Net revenue per period and level values (columns of orders, customers or products, such as channel,
    region and category), complete periods only.

    A first or last period that the data covers only in part (e.g. orders to 9 December) is dropped, since
    a forecast would read it as a slump; one whose missing days are within the data's usual gap between order
    days is kept. ``min_share`` folds bottom series with less than that share of the
    revenue, and series without revenue in every period, into ``other``.
    """
    t = attach_columns(ws, ws.table("order_lines").join(ws.table("orders"), "order_id"), levels)
    if freq not in FREQS:
        from omnimodel.exceptions import ConfigError

        raise ConfigError(f"freq {freq!r} is not a period length", fix=f"use one of {', '.join(FREQS)}")
    trunc = freq
    t = t.mutate(revenue=line_revenue(t), period=t.order_date.truncate(trunc))
    span = t.aggregate(first=t.order_date.min(), last=t.order_date.max()).execute().iloc[0]
    d = t.group_by(["period", *levels]).aggregate(revenue=t.revenue.sum()).execute()
    d["period"] = pd.PeriodIndex(pd.to_datetime(d["period"]), freq=freq)
    first, last = pd.Timestamp(span["first"]), pd.Timestamp(span["last"])
    through = ws.meta().get("data_through")  # the exports are complete to this day (ingest --data-through)
    if through:
        last = max(last, pd.Timestamp(through))
    # Days without orders at a period's edge no longer than the data's usual gap between order days are no
    # shortfall (a shop's last order on 30 December ends December), as periods.latest_complete_year counts.
    gap = pd.Timedelta(days=usual_gap_days(ws, last) if len(d) else 0)
    keep = pd.Series(True, index=d.index)
    if first.normalize() - gap > first.to_period(freq).start_time:
        keep &= d["period"] != first.to_period(freq)
    if (last.normalize() + (pd.Timedelta(0) if through else gap)) < last.to_period(freq).end_time.normalize():
        keep &= d["period"] != last.to_period(freq)
    d = d[keep]
    for c in levels:
        d[c] = d[c].fillna("unknown").astype(str)
    if len(d):
        share = d.groupby(list(levels))["revenue"].sum() / d["revenue"].sum()
        periods = d["period"].nunique()
        counts = d[d["revenue"] > 0].groupby(list(levels))["period"].nunique()
        small = share.index[(share < min_share) | (counts.reindex(share.index) < periods)]
        mask = d.set_index(list(levels)).index.isin(small)
        d.loc[mask, levels[-1]] = "other"
    return _from_long(d, list(levels), "revenue", "period", "revenue")
