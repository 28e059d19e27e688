"""Checks of a source export before an adapter reshapes it, in the source's own words.

An adapter declares the columns it reads from each file (:class:`Column`); :func:`check_file` reports every
missing column, unparsable value, implausible number or date and empty required value with the file's name,
the source column and the line numbers a user can find in the file. :func:`rows` and :func:`unknown` add the
adapter's own rules (won deals need a value; every agent must be in the team list). :func:`stop` raises them all
at once. The canonical validation that follows names the canonical tables; :func:`origin_note` tells it which
source column a canonical column came from.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.data.cells import ISO_DATE, coerce_column
from omnimodel.exceptions import Problem, ValidationError

MAX_AMOUNT = 1e12  # more than any one deal, price or line: a unit or export error


@dataclass(frozen=True)
class Column:
    """A source column an adapter reads."""

    name: str
    dtype: str = "string"  # string, int, float, date or timestamp
    filled: bool = False  # every row must have a value
    min: float | None = None
    max: float | None = None  # numbers; amounts default to MAX_AMOUNT via money()
    happened: bool = False  # a date of an event: not after today
    unique: bool = False


def money(name: str, filled: bool = False, positive: bool = False) -> Column:
    """An amount of money: a number from 0 (or above 0) to :data:`MAX_AMOUNT`."""
    return Column(name, "float", filled, min=1e-9 if positive else 0, max=MAX_AMOUNT)


def _where(file: str, frame: pd.DataFrame, mask: np.ndarray) -> tuple[tuple, int]:
    """Example rows as the user finds them: CSV line numbers (the header is line 1), else row numbers."""
    idx = np.flatnonzero(mask)
    word = "line" if file.lower().endswith((".csv", ".txt")) else "row"
    offset = 2 if word == "line" else 1
    return tuple(f"{word} {i + offset}" for i in idx[:5]), len(idx)


def rows(file: str, frame: pd.DataFrame, column: str, message: str, mask: Any, fix: str) -> list[Problem]:
    """One problem for the rows in ``mask`` (none when no row is concerned)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    examples, count = _where(file, frame, mask)
    return [Problem(file, column, message, examples, count, fix)]


def check_file(file: str, frame: pd.DataFrame, columns: Iterable[Column]) -> list[Problem]:
    """Every problem of one source file against the columns the adapter reads from it."""
    columns = list(columns)
    missing = [c.name for c in columns if c.name not in frame.columns]
    found: list[Problem] = []
    if missing:
        hints = [
            f"'{close[0]}' -> '{m}'"
            for m in missing
            if (close := difflib.get_close_matches(m, map(str, frame.columns), n=1, cutoff=0.6))
        ]
        found.append(
            Problem(
                file,
                ", ".join(missing),
                "column(s) the adapter reads are missing",
                fix=("rename " + ", ".join(hints) + "; " if hints else "")
                + f"export the file with its original columns (found: {', '.join(map(str, frame.columns))})",
            )
        )
    if len(frame) == 0:
        found.append(Problem(file, None, "the file has no rows", fix="export it again"))
    if found:
        return found
    today = pd.Timestamp.now().normalize()
    for col in columns:
        raw = frame[col.name]
        present = raw.notna().to_numpy()
        if raw.dtype == object or isinstance(raw.dtype, pd.StringDtype):  # blank text counts as empty
            present &= ~(raw.astype("string").str.strip() == "").fillna(False).to_numpy()
        if col.filled:
            found += rows(file, frame, col.name, "empty values", ~present, "fill them or remove the rows")
        if col.dtype == "string":
            if col.unique:
                dup = raw.duplicated(keep=False).to_numpy() & present
                found += rows(
                    file, frame, col.name, "the same id more than once", dup, "remove the duplicates"
                )
            continue
        typed = coerce_column(raw, col.dtype)
        ok = typed.notna().to_numpy()
        kind = "number" if col.dtype in ("int", "float") else "date (YYYY-MM-DD)"
        found += rows(
            file, frame, col.name, f"values that are not a {kind}", present & ~ok, "fix them at the source"
        )
        if kind != "number" and not pd.api.types.is_datetime64_any_dtype(raw):
            iso = raw.astype("string").str.strip().str.fullmatch(ISO_DATE).fillna(False).to_numpy()
            found += rows(file, frame, col.name, "dates not written as YYYY-MM-DD (never guessed day-first)",
                          present & ok & ~iso, "export ISO dates")  # fmt: skip
        if col.dtype in ("int", "float"):
            values = typed.to_numpy(dtype=float, na_value=np.nan)
            found += rows(file, frame, col.name, "infinite values", ok & ~np.isfinite(values), "replace them")
            if col.min is not None:
                low = ok & (values < col.min)
                found += rows(file, frame, col.name, f"values below {col.min:g}", low, "check the sign")
            if col.max is not None:
                high = ok & np.isfinite(values) & (values > col.max)
                found += rows(
                    file,
                    frame,
                    col.name,
                    f"values above {col.max:,.0f}",
                    high,
                    "check the units or the export",
                )
        elif col.happened:
            late = ok & (typed.to_numpy(dtype="datetime64[ns]") > np.datetime64(today + pd.Timedelta(days=1)))
            found += rows(
                file,
                frame,
                col.name,
                f"dates after today ({today.date()}), for something that has happened",
                late,
                "check the year (a typo such as 2099, or a placeholder date)",
            )
    return found


def typed(frame: pd.DataFrame, columns: Iterable[Column]) -> pd.DataFrame:
    """A copy with the checked number and date columns parsed (text columns as they came)."""
    out = frame.copy()
    for col in columns:
        if col.dtype != "string":
            out[col.name] = coerce_column(out[col.name], col.dtype)
    return out


def unknown(
    file: str,
    frame: pd.DataFrame,
    column: str,
    known: pd.Series,
    known_where: str,
    normalise: Callable[[pd.Series], pd.Series] | None = None,
) -> list[Problem]:
    """Filled values of ``column`` that ``known`` (another file's ids) does not have."""
    norm = normalise or (lambda s: s.astype("string").str.strip())
    values = frame[column]
    mask = (values.notna() & ~norm(values).isin(set(norm(known.dropna())))).to_numpy()
    shown = ", ".join(map(str, pd.unique(values[mask])[:3]))
    return rows(
        file,
        frame,
        column,
        f"values not found in {known_where} ({shown})",
        mask,
        f"add them to {known_where}, or correct the spelling",
    )


def stop(problems: list[Problem]) -> None:
    """Raise every problem at once, or return quietly."""
    if problems:
        raise ValidationError(problems)


def origin_note(problems: list[Problem], origins: Mapping[str, str]) -> list[Problem]:
    """Canonical problems with the source column they came from (``origins``: "table.column" -> "file column")."""
    out = []
    for p in problems:
        where = origins.get(f"{p.table}.{p.column}")
        out.append(replace(p, message=f"{p.message} (from {where})") if where else p)
    return out
