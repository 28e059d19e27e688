"""One value from the data: its canonical type, and whether a spreadsheet would run it as a formula.

The policy for text from data: kept as given (nothing lost), escaped in HTML (:mod:`omnimodel.reporting`), and
neutralised in every CSV omnimodel writes (:func:`neutralise`; the validation notes where it was kept), since a
spreadsheet runs a cell that starts with ``=``, ``+``, ``@``, a tab or a carriage return, or ``-`` followed by
formula signs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError

_FORMULA_PREFIXES = (
    "=",
    "+",
    "@",
    "\t",
    "\r",
)  # what spreadsheets evaluate; '-' only with formula signs after it (see is_formula), not negative numbers
ISO_DATE = r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
_OFFSET = r"(?<=\d)(Z|[+-]\d{2}:?\d{2})$"  # a time zone written after an ISO time


def offsets(text: pd.Series) -> pd.Series:
    """The time-zone offset written after each timestamp (``Z``, ``+01:00``), empty where none is written."""
    return text.astype("string").str.strip().str.extract(_OFFSET, expand=False).str.replace("Z", "+00:00")


def is_formula(text: pd.Series) -> np.ndarray:
    """Text a spreadsheet would run: a leading ``=``, ``+``, ``@``, tab or carriage return, or a ``-`` followed by
    formula signs (``-2+3+cmd|' /C calc'!A0``); numbers, phone numbers and plain dashes are not."""
    stripped = text.str.lstrip(" ")
    lead = stripped.str.startswith(_FORMULA_PREFIXES).fillna(False).to_numpy()
    minus = (
        (stripped.str.startswith("-") & stripped.str.contains(r"[=+|!@(]", regex=True))
        .fillna(False)
        .to_numpy()
    )
    numeric = text.str.fullmatch(r"[+-]?[\d\s()./-]+").fillna(False).to_numpy()  # numbers, phone numbers
    return (lead | minus) & ~numeric


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy safe to open in a spreadsheet: text it would run as a formula gets a leading apostrophe (shown,
    not run); everything else is kept as it came."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_datetime64_any_dtype(out[col]):
            continue
        text = out[col].astype("string")
        risky = is_formula(text)
        if risky.any():
            out[col] = text.where(~risky, "'" + text)
    return out


def coerce_column(series: pd.Series, dtype: str) -> pd.Series:
    """Parse one column to its canonical type; unparsable values become missing (reported by the caller)."""
    if dtype == "string":
        return series.astype("string")
    if dtype in ("int", "float"):
        out = pd.to_numeric(series, errors="coerce")
        return out.astype("Int64") if dtype == "int" and (out.dropna() % 1 == 0).all() else out
    if dtype == "bool":
        if series.dtype == bool:
            return series.astype("boolean")
        text = series.astype("string").str.strip().str.lower()
        mapping = {
            "true": True,
            "false": False,
            "1": True,
            "0": False,
            "yes": True,
            "no": False,
            "y": True,
            "n": False,
            "t": True,
            "f": False,
        }
        return text.map(mapping).astype("boolean")
    if dtype in ("date", "timestamp"):
        if pd.api.types.is_datetime64_any_dtype(series):
            out = series
            if getattr(out.dt, "tz", None) is not None:
                out = out.dt.tz_localize(None)  # the local wall time, as a CSV export would write it
        else:
            written = offsets(series)
            zones = written.dropna().unique()
            if len(zones) == 1 and written.notna().sum() == series.notna().sum():
                # One zone throughout: the local wall time is the one that dates the event.
                out = pd.to_datetime(series.astype("string").str.replace(_OFFSET, "", regex=True),
                                     errors="coerce", format="mixed")  # fmt: skip
            elif len(zones):
                # Mixed zones (validation reports them): UTC, so nothing fails before that report.
                out = pd.to_datetime(series, errors="coerce", format="mixed", utc=True).dt.tz_localize(None)
            else:
                out = pd.to_datetime(series, errors="coerce", format="mixed")
        return out.dt.normalize() if dtype == "date" else out
    raise OmnimodelError(
        f"unknown column type {dtype!r} in the data model",
        fix="use string, int, float, bool, date or timestamp",
    )


def coerce(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Return a typed copy of a canonical table (known columns cast, unknown columns kept as they are)."""
    table = TABLES[name]
    out = frame.copy()
    for col in table.columns:
        if col.name in out.columns:
            out[col.name] = coerce_column(out[col.name], col.dtype)
    return out
