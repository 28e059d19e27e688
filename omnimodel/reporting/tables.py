"""Tables for people: words as headers, money with its currency, shares as percentages, thousands separators,
no index column and no e-notation; long tables show their top rows and carry the rest as a CSV download.

:func:`for_people` formats one frame; :func:`use_in_reports` makes it how every DataFrame a notebook displays
is shown (the frames themselves are unchanged: code keeps working on the numbers). A column's kind comes from
its name and values (:func:`kind`); callers can name money and percent columns outright.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd

TOP_ROWS = 25  # longer tables show these and offer the whole table as CSV

#: headers that read better written out than derived from the column name
WORDS = {
    "p_hit": "Chance to reach the target",
    "p_hit_profit": "Chance to reach the profit target",
    "p_book_in_period": "Chance to book in the period",
    "crps": "CRPS (lower is better)",
    "mase": "MASE (below 1 beats seasonal naive)",
    "mape": "MAPE",
    "ape": "Error (APE)",
    "pit": "Share of forecast draws below the actual",
    "clv": "Lifetime value",
    "p_alive": "Chance still active",
    "p_serial_returner": "Chance of being a serial returner",
    "coverage_p10_p90": "Share inside P10-P90",
    "median_ape": "Median error (APE)",
    "mean_pit": "Draws below the actual, on average (0.5 when unbiased)",
    "days_ahead": "Days before the period's end",
    "at_stake": "At stake",
    "raises": "Raises its win probability",
    "lowers": "Lowers its win probability",
    "reasons": "Why at risk",
    "commit": "Commit call",
    "best_case": "Best-case call",
    "calibrated": "Calibrated call",
    "calibrated_p10": "Calibrated P10",
    "calibrated_p90": "Calibrated P90",
    "model_p50": "Model P50",
    "brier": "Brier score",
    "n": "Count",
    "aov": "Average order value",
    "rfm": "RFM",
    "id": "Id",
}
_ACRONYMS = {
    "p10",
    "p50",
    "p90",
    "id",
    "clv",
    "rfm",
    "crm",
    "ets",
    "kpi",
    "iso",
    "aov",
    "yoy",
    "mase",
    "crps",
}
_MONEY = re.compile(
    r"(revenue|amount|value|profit|target|price|cost|bookings|booked|clv|spend|sales|gap|forecast|actual|stake|commit|best_case|calibrated|_p50$|"
    r"^p10$|^p50$|^p90$|^mean$|income|turnover|basket_value|aov|pipeline|balance|margin$|_eur$|_usd$)",
    re.I,
)
_PERCENT = re.compile(
    r"(share|rate|probability|^p_|_pct$|percent|affinity|coverage|ape$|^mape$|churn|growth|^support$|^confidence$)",
    re.I,
)
_PLAIN = re.compile(r"(^year$|^fiscal_year$|_id$|^id$|line_no|^seed$|^rank$)", re.I)  # whole numbers only


def header(name: object, currency: str | None = None, money: bool = False) -> str:
    """A column name in words: ``p_book_in_period`` -> "Chance to book in the period"; money gets its currency."""
    text = str(name)
    words = WORDS.get(text.lower())
    if words is None:
        parts = [p for p in re.split(r"[_\s]+", text) if p]
        words = " ".join(p.upper() if p.lower() in _ACRONYMS else p for p in parts)
        words = words[:1].upper() + words[1:] if words else text
    return f"{words} ({currency})" if money and currency else words


def kind(name: object, values: pd.Series) -> str:
    """How a column is shown: money, percent, count, number, date, plain (ids, years) or text."""
    if pd.api.types.is_bool_dtype(values):
        return "text"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if not pd.api.types.is_numeric_dtype(values):
        return "text"
    text = str(name)
    finite = values.to_numpy(dtype=float, na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    if _PLAIN.search(text) and np.all(np.mod(finite, 1) == 0):
        return "plain"
    if "growth" in text.lower() or (
        _PERCENT.search(text) and (finite.size == 0 or np.abs(finite).max() <= 1.5)
    ):
        return "percent"
    if _MONEY.search(text):
        return "money"
    if pd.api.types.is_integer_dtype(values) or (finite.size and np.all(np.mod(finite, 1) == 0)):
        return "count"
    return "number"


def _number(x: float, kind_: str) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or pd.isna(x):
        return "–" if not (isinstance(x, float) and np.isinf(x)) else ("∞" if x > 0 else "-∞")
    x = float(x)
    if kind_ == "percent":
        return f"{x:.1%}".replace("%", " %")
    if kind_ == "plain":
        return f"{x:.0f}" if x == int(x) else f"{x}"
    if kind_ == "money_cents":  # a column of small amounts (unit prices) keeps its cents throughout
        out = f"{x:,.2f}"
    elif kind_ in ("count", "money") or abs(x) >= 100:
        out = f"{x:,.0f}"
    elif abs(x) >= 1:
        out = f"{x:,.2f}"
    else:
        out = f"{x:.3f}"
    return "0" if out in ("-0", "-0.00", "-0.000") else out


def _cell(value, kind_: str) -> str:
    if kind_ == "date":
        if pd.isna(value):
            return "–"
        stamp = pd.Timestamp(value)
        return str(stamp.date()) if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")
    if kind_ == "text":
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "–"
        if isinstance(value, (list, tuple, set)):
            return ", ".join(map(str, value)) or "–"
        if isinstance(value, (bool, np.bool_)):
            return "yes" if value else "no"
        if isinstance(value, float):
            return _number(value, "number")
        return str(value)
    return _number(value, kind_)


class PeopleTable:
    """A frame formatted for people; shows as HTML in notebooks and reports."""

    def __init__(
        self, frame: pd.DataFrame, currency: str | None, top: int, name: str, money: set, percent: set
    ):
        frame = frame.copy()
        if isinstance(frame.columns, pd.MultiIndex):
            frame.columns = [" ".join(str(p) for p in c if str(p)) for c in frame.columns]
        named = frame.index.name is not None or any(n is not None for n in frame.index.names)
        if named or not pd.api.types.is_integer_dtype(frame.index):
            frame = frame.reset_index()  # a meaningful index (a channel, a segment) becomes a column
        else:
            frame = frame.reset_index(drop=True)  # row numbers (of a sample, a sort) mean nothing to a reader
        for col in frame.columns:  # numbers held as objects (DuckDB decimals, mixed None) are numbers
            if frame[col].dtype == object:
                present = frame[col].dropna()
                if len(present) and all(
                    isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present
                ):
                    frame[col] = pd.to_numeric(frame[col], errors="coerce")
        self.frame, self.name, self.top = frame, name, top
        self.kinds = {}
        for col in frame.columns:
            if col in money:
                self.kinds[col] = "money"
            elif col in percent:
                self.kinds[col] = "percent"
            else:
                self.kinds[col] = kind(col, frame[col])
            if (
                self.kinds[col] == "money"
            ):  # one precision per column: whole units, or cents when amounts are small
                values = pd.to_numeric(frame[col], errors="coerce").abs()
                if values.notna().any() and values.max() < 100:
                    self.kinds[col] = "money_cents"
        self.headers: dict = {}
        for c in frame.columns:  # unique, so every column can be styled
            h = header(c, currency, self.kinds[c].startswith("money"))
            while h in self.headers.values():
                h += " (2)"
            self.headers[c] = h

    def text_frame(self, rows: int | None = None) -> pd.DataFrame:
        """The formatted cells as text, with the people's headers."""
        shown = self.frame if rows is None else self.frame.head(rows)
        out = pd.DataFrame(
            {self.headers[c]: [_cell(v, self.kinds[c]) for v in shown[c]] for c in shown.columns}
        )
        return out

    def _repr_html_(self) -> str:
        shown = self.text_frame(self.top)
        numeric = [self.headers[c] for c, k in self.kinds.items() if k not in ("text", "date")]
        styler = shown.style.hide(axis="index").set_table_attributes('class="dataframe om-table"')
        styler = styler.format(escape="html")
        if numeric:
            styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
        words = [h for h in shown.columns if h not in numeric]
        if words:
            styler = styler.set_properties(subset=words, **{"text-align": "left"})
        body = f'<div class="om-wide" style="overflow-x:auto;max-width:100%">{styler.to_html()}</div>'  # wide: scrolls
        if len(self.frame) > self.top:
            body += self._download()
        return body

    def _download(self) -> str:
        """The whole table as a CSV inside the page (no other host), safe to open in a spreadsheet."""
        from omnimodel.data.cells import neutralise

        csv = neutralise(self.text_frame()).to_csv(index=False)
        data = base64.b64encode(csv.encode("utf-8")).decode()
        file = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name).strip("-") or "table"
        return (
            f'<p class="om-more">Showing the top {self.top:,} of {len(self.frame):,} rows. '
            f'<a download="{html.escape(file)}.csv" href="data:text/csv;base64,{data}">Download all rows '
            "(CSV)</a></p>"
        )


def for_people(
    frame: pd.DataFrame,
    currency: str | None = None,
    top: int = TOP_ROWS,
    name: str = "table",
    money: Iterable = (),
    percent: Iterable = (),
) -> PeopleTable:
    """``frame`` formatted for people (see the module); ``money`` and ``percent`` name columns outright."""
    return PeopleTable(frame, currency, top, name, set(money), set(percent))


def use_in_reports(currency: str | None = None) -> None:
    """Show every DataFrame this notebook displays formatted for people (the frames are unchanged), and
    warnings as a reader should see them: omnimodel's own (:class:`~omnimodel.exceptions.OmnimodelWarning`) as a
    one-line note, every other library's in the kernel's log (the run's ``NAME.log``), not in the page."""
    import sys
    import warnings

    from omnimodel.exceptions import OmnimodelWarning

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, OmnimodelWarning):
            print(f"Note: {message}")
        else:
            sys.__stderr__.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show_warning
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing displays
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["text/html"]

    def show(frame: pd.DataFrame) -> str:
        try:
            return for_people(frame, currency)._repr_html_()
        except Exception:  # an odd frame (duplicate columns, objects) is shown plainly, never as a traceback
            return frame.to_html(index=False, max_rows=TOP_ROWS)

    formatter.for_type(pd.DataFrame, show)
