"""The checks of one column, written once as a table of rules, and the expressions they are written in.

A rule (:class:`Rule`) says where it applies, its message and fix, and which rows break it, as an Ibis expression
on the column's :class:`Cell` (its values as read and parsed, which are there, which are ISO dates). Every route
runs :data:`RULES` (frames in memory through DuckDB, files in the engine: :mod:`omnimodel.ingest.checks`), so a
rule added here is checked everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pandas as pd

from omnimodel.data.schema import Column

#: dated columns that may lie ahead (plans); every other date is an event that has happened
MAY_BE_FUTURE = {"due_date", "expected_close_date"}
OLDEST_BIRTH_YEARS = 120
_WALL_TIME = r"^(.*?\d)(Z|[+-]\d{2}:?\d{2})?$"
_OFFSET = r"\d(Z|[+-]\d{2}:?\d{2})$"
_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")
SQL_TYPES = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}


def strip(text: Any) -> Any:
    r"""Text without the white space around it. Not Ibis's ``strip()``: on Spark it also strips the letters f
    and v (its "\f\v" are no escapes in Spark SQL), so "f" and "visit" would not be read as written."""
    return text.re_replace(r"^\s+|\s+$", "")


def present(raw: Any) -> Any:
    """The values that are there: not NULL, not blank text, not NaN (missing, as pandas reads a Parquet NaN)."""
    if raw.type().is_string():
        return raw.notnull() & (strip(raw) != "")
    if raw.type().is_floating():
        return raw.notnull() & ~raw.isnan()  # NaN in a Parquet file: missing, as pandas reads it
    return raw.notnull()


#: the largest finite double: beyond it is infinity (Ibis's isinf() compiles to FALSE on Spark)
_MAX_FLOAT = 1.7976931348623157e308


def infinite(value: Any) -> Any:
    """Infinite numbers, by comparison with the largest double (Ibis's isinf() compiles to FALSE on Spark)."""
    return (value > _MAX_FLOAT) | (value < -_MAX_FLOAT)


def is_formula(text: Any) -> Any:
    """The engine's form of :func:`omnimodel.data.cells.is_formula`."""
    lead = text.re_search(r"^ *[=+@\t\r]")
    minus = text.re_search(r"^ *-.*[=+|!@(]")
    numeric = text.re_search(r"^[+-]?[0-9\s()./-]+$")
    return (lead | minus) & ~numeric


def to_type(raw: Any, dtype: str) -> Any:
    """A column parsed to its canonical type; what does not parse becomes NULL (reported by the checks)."""
    import ibis

    t = raw.type()
    if dtype == "string":
        return raw if t.is_string() else raw.cast("string")
    if dtype in ("int", "float"):
        number = raw.cast("float64") if t.is_numeric() else strip(raw).try_cast("float64")
        return ibis.ifelse(number.isnan(), ibis.null("float64"), number)  # "nan" is no number, as in pandas
    if dtype == "bool":
        if t.is_boolean():
            return raw
        text = strip(raw.cast("string")).lower()
        return ibis.cases((text.isin(_TRUE), True), (text.isin(_FALSE), False), else_=ibis.null("boolean"))
    if t.is_temporal():
        return raw.cast("timestamp")
    # one zone throughout is read as the local wall time (the offset dropped), as the in-memory route does
    return strip(raw).re_extract(_WALL_TIME, 1).try_cast("timestamp")


@dataclass
class Cell:
    """What a column rule sees: the column's schema, its values as read (``raw``) and parsed to their type
    (``typed``, NULL where they do not parse), which are there (``present``) and which are written as ISO dates
    (``iso``; true for columns that are no dates)."""

    column: Column
    table: Any  # the Ibis table the column is in (for the queries and windows a rule needs)
    raw: Any
    typed: Any
    present: Any
    iso: Any
    today: pd.Timestamp

    @property
    def text(self) -> bool:
        """The column is read as text."""
        return bool(self.raw.type().is_string())

    @property
    def dated(self) -> bool:
        """The column holds dates or timestamps."""
        return self.column.dtype in ("date", "timestamp")

    @property
    def ok(self) -> Any:
        """The values that parsed."""
        return self.typed.notnull()

    @property
    def finite(self) -> Any:
        """The numbers that parsed and are finite."""
        return self.ok & ~infinite(self.typed)

    @cached_property
    def zones(self) -> tuple[Any, list[str]]:
        """Each row's time-zone offset ("no offset" where none is written), and the offsets the present values
        are written in, the most common first (one small query)."""
        import ibis

        t = self.table
        zone = strip(t[self.column.name]).re_extract(_OFFSET, 1).replace("Z", "+00:00")
        zone = ibis.ifelse(zone.isnull() | (zone == ""), "no offset", zone)
        counts = t.filter(self.present).group_by(zone=zone).aggregate(n=ibis._.count()).execute()
        return zone, list(counts.sort_values(["n", "zone"], ascending=[False, True])["zone"])

    def off_zone(self) -> Any:
        """Rows whose offset is not the one most rows have, where any offset is written (else None)."""
        zone, written = self.zones
        return self.present & (zone != written[0]) if set(written) - {"no offset"} else None


@dataclass(frozen=True)
class Rule:
    """One check of a column: where it ``applies``, its ``message`` and ``fix``, and the ``rows`` that break it
    (a boolean expression; None: nothing to check). Each takes the column's :class:`Cell`."""

    applies: Callable[[Cell], bool]
    message: Callable[[Cell], str]
    fix: Callable[[Cell], str]
    rows: Callable[[Cell], Any]


def _said(text: str) -> Callable[[Cell], str]:
    return lambda c: text


_ISO_FIX = "export ISO dates, or give the column's format under `dates:` in a mapping.yaml (omnimodel map --suggest proposes it)"
_RANGE_FIX = "check the units (cents instead of units?) or split the row"
_MAP_VALUES = "map your values under `values:` in a mapping.yaml (omnimodel map --suggest)"
#: the checks of one column, in the order problems are listed; a rule added here runs on every route
RULES: list[Rule] = [
    Rule(lambda c: not c.column.nullable, _said("empty values in a column that must be filled"),
         _said("fill the value or remove the rows from the source"), lambda c: ~c.present),
    Rule(lambda c: c.text, _said("NUL characters inside values"),
         _said("export again; the file is damaged or binary where text is expected"), lambda c: c.raw.re_search(r"\x00")),
    Rule(lambda c: c.text, _said("characters that are not valid text (the file's encoding is another)"),
         _said("save the file as UTF-8, or give the file's encoding (mapping `encoding:`)"),
         lambda c: c.raw.contains("\ufffd")),
    Rule(lambda c: c.text and c.column.dtype == "string" and not c.column.free_text,  # free text keeps it
         _said("spreadsheet formula text (e.g. '=HYPERLINK(...)')"),
         _said("export values, not formulas; such text would run when the data is opened in a spreadsheet"),
         lambda c: is_formula(c.raw)),
    Rule(lambda c: c.dated and c.text, _said("dates not written as YYYY-MM-DD"), _said(_ISO_FIX),
         lambda c: c.present & ~c.iso),  # never guessed: 13/01/2019 is not read day-first behind the user's back
    Rule(lambda c: c.dated and c.text, lambda c: f"timestamps in more than one time zone (offsets {', '.join(sorted(c.zones[1]))})",
         _said("export every timestamp in one time zone, with the same offset or none"), lambda c: c.off_zone()),
    Rule(lambda c: True, lambda c: f"values that are not a valid {c.column.dtype}",
         lambda c: "fix the values at the source" + (" (dates as YYYY-MM-DD)" if c.dated else ""),
         lambda c: c.present & c.iso & c.typed.isnull()),
    Rule(lambda c: c.dated and c.column.name not in MAY_BE_FUTURE,
         lambda c: f"dates after today ({c.today.date()}), for something that has happened",
         _said("check the year (a typo such as 2099, or a placeholder date)"),
         lambda c: c.ok & (c.typed > _literal(c.today + pd.Timedelta(days=1)))),
    Rule(lambda c: c.dated and c.column.name == "birth_date", _said(f"birth dates more than {OLDEST_BIRTH_YEARS} years ago"),
         _said("check the year, or leave the birth date empty where it is unknown (a placeholder such as 1800)"),
         lambda c: c.ok & (c.typed < _literal(c.today - pd.DateOffset(years=OLDEST_BIRTH_YEARS)))),
    Rule(lambda c: c.column.name == "country", _said("countries not written as ISO 3166 codes"),
         _said("write two-letter codes (DE, FR, US), or map your names under `values:` in a mapping.yaml "
               "(omnimodel map --suggest proposes them)"), lambda c: c.ok & ~c.typed.re_search(r"^[A-Z]{2}$")),
    Rule(lambda c: c.column.dtype in ("int", "float"), _said("infinite values"),
         _said("replace infinities at the source"), lambda c: c.ok & infinite(c.typed)),
    Rule(lambda c: c.column.dtype == "int", _said("values with a fraction where a whole number is expected"),
         _said("round or fix the values"), lambda c: c.finite & (c.typed % 1 != 0)),
    Rule(lambda c: c.column.dtype in ("int", "float") and c.column.min is not None,
         lambda c: f"values below the minimum {c.column.min:g}", _said("check the sign and units"),
         lambda c: c.ok & (c.typed < c.column.min)),
    Rule(lambda c: c.column.dtype in ("int", "float") and c.column.max is not None,
         lambda c: f"values above the maximum {c.column.max:g}",
         lambda c: "write shares as fractions (0.2 for 20 %)" if c.column.max == 1 else _RANGE_FIX,
         lambda c: c.ok & (c.typed > c.column.max)),
    Rule(lambda c: bool(c.column.allowed), lambda c: f"values outside {', '.join(c.column.allowed or ())}", _said(_MAP_VALUES),
         lambda c: c.ok & ~strip(c.typed).isin(c.column.allowed)),
    Rule(lambda c: c.column.unique, _said("duplicate ids"), _said("remove or merge the duplicate rows"),
         lambda c: c.ok & (c.table.count().over(group_by=c.typed) > 1)),
]  # fmt: skip


def _literal(when: pd.Timestamp) -> Any:
    import ibis

    return ibis.literal(when.to_pydatetime())
