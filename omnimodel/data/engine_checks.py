"""The validation's checks as Ibis expressions, run by the engine on tables it reads itself.

For exports larger than memory (or living beside a Spark cluster): the same schema checks as
:mod:`omnimodel.data.validation` (empty values, types, ISO dates and time zones, dates ahead, ranges, allowed
values, formulas, duplicate ids and keys, references, date order, channel spellings, stages), each a boolean
column the engine computes row by row; :mod:`omnimodel.data.engine_findings` counts them in one aggregate per
table and fetches a few example rows. Nothing is pulled into pandas but counts, examples and distinct channel
and zone names.

Where the two differ, on purpose: example rows of a table keyed by several columns are named by their key
("O1/2") rather than by their line; a date that is not ISO is reported once (not also as unparsable); rows whose
stage changes at the same timestamp are ordered by stage, not by their place in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omnimodel.data.cells import ISO_DATE
from omnimodel.data.schema import TABLES, Column
from omnimodel.data.validation import (
    _MAY_BE_FUTURE,
    CHANNEL_COLUMNS,
    OLDEST_BIRTH_YEARS,
    missing_columns_fix,
    references,
)
from omnimodel.exceptions import Problem

FLAG = "_omni_flag_"
#: the text of a timestamp without the time-zone offset written after it (group 1), as the in-memory route reads
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


@dataclass
class Check:
    """One check on one table: the problem it reports and the flag column marking its rows (None: the table)."""

    column: str | None
    message: str
    fix: str
    flag: str | None = None
    example: tuple[str, ...] = ()  # the columns that name example rows (default: the table's key)


@dataclass
class Checked:
    """A table, a flag per row check and its canonical typed columns, built as one query per table."""

    name: str
    base: Any  # ibis Table: the source's columns (and, after the reference joins, their hit columns)
    checks: list[Check] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the source's columns, in order
    typed_columns: dict = field(default_factory=dict)  # column -> its canonical-typed expression on base
    source: Any = None  # the table as read, before any join
    rows: int = 0  # counted by findings()
    rejected: int = 0  # rows with at least one problem, counted by findings()
    _flags: dict = field(default_factory=dict)
    _flagged: Any = None

    def add(self, column, message, fix, condition, example: tuple[str, ...] = ()) -> None:
        """A row check: ``condition`` (a boolean expression on ``base``) is true on the rows it rejects."""
        flag = f"{FLAG}{len(self.checks)}"
        self._flags[flag] = condition.fill_null(False)
        self._flagged = None
        self.checks.append(Check(column, message, fix, flag, example))

    @property
    def flagged(self):
        """``base`` with every typed column (as ``_omni_typed_<col>``) and flag: one projection, so the engine
        plans one scan however many checks there are."""
        if self._flagged is None:
            typed = {_typed_name(c): v for c, v in self.typed_columns.items()}
            self._flagged = self.base.mutate(**typed, **self._flags)
        return self._flagged

    @property
    def flags(self) -> list[str]:
        """The flag columns, one per row check."""
        return [c.flag for c in self.checks if c.flag]

    def bad(self):
        """True on rows with at least one problem."""
        import ibis

        t = self.flagged
        return ibis.or_(*[t[f] for f in self.flags]) if self.flags else ibis.literal(False)

    def reasons(self):
        """Each row's problems in words ("column: message; ...")."""
        import ibis

        t, text = self.flagged, ibis.literal("")
        for c in self.checks:
            if c.flag:
                text = text + ibis.ifelse(t[c.flag], f"{c.column}: {c.message}; ", "")
        return text.re_replace(r"; $", "")

    def typed(self):
        """The table in canonical types (known columns cast, others kept), without flags: computed from the
        source alone, so writing it does not redo the checks' joins and windows."""
        table, t = TABLES[self.name], self.source
        out = {}
        for c in self.columns:
            if c in self.typed_columns:
                col = table.column(c)
                value = _to_type(t[c], col.dtype)
                out[c] = value.date() if col.dtype == "date" else value.cast(SQL_TYPES[col.dtype])
            else:
                out[c] = t[c]
        return t.select(**out)


def _typed_name(column: str) -> str:
    return f"_omni_typed_{column}"


def strip(text):
    r"""Text without the white space around it. Not Ibis's ``strip()``: on Spark it also strips the letters f
    and v (its "\f\v" are no escapes in Spark SQL), so "f" and "visit" would not be read as written."""
    return text.re_replace(r"^\s+|\s+$", "")


def _present(raw):
    if raw.type().is_string():
        return raw.notnull() & (strip(raw) != "")
    if raw.type().is_floating():
        return raw.notnull() & ~raw.isnan()  # NaN in a Parquet file: missing, as pandas reads it
    return raw.notnull()


#: the largest finite double: beyond it is infinity (Ibis's isinf() compiles to FALSE on Spark)
_MAX_FLOAT = 1.7976931348623157e308


def _infinite(value):
    return (value > _MAX_FLOAT) | (value < -_MAX_FLOAT)


def is_formula(text):
    """The engine's form of :func:`omnimodel.data.cells.is_formula`."""
    lead = text.re_search(r"^ *[=+@\t\r]")
    minus = text.re_search(r"^ *-.*[=+|!@(]")
    numeric = text.re_search(r"^[+-]?[0-9\s()./-]+$")
    return (lead | minus) & ~numeric


def _to_type(raw, dtype: str):
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


def check_tables(
    tables: dict, stages: Sequence[str] | None = None, terminal: Sequence[str] = ("won", "lost")
) -> tuple[list[Problem], dict[str, Checked]]:
    """Flag every table's rows: (problems outside any table, checked tables). Nothing runs yet but the small
    queries some checks need first (the time zones written, the channel names)."""
    outside = [
        Problem(n, None, "not a canonical table", fix=f"use one of {', '.join(TABLES)}")
        for n in tables
        if n not in TABLES
    ]
    checked = {n: Checked(n, t, columns=list(t.columns), source=t) for n, t in tables.items() if n in TABLES}
    references = _reference_joins(checked)  # first: the checks are one projection over the joined table
    for c in checked.values():
        _table_checks(c)
    for c, column, hit, refers in references:
        add_reference_check(c, column, hit, refers)
    _channel_checks(checked)
    if stages:
        _stage_checks(checked, list(stages), list(terminal))
    return outside, checked


def _table_checks(checked: Checked) -> None:
    table, raw = TABLES[checked.name], checked.base
    missing = [c for c in table.required_columns if c not in raw.columns]
    if missing:
        fix = missing_columns_fix(list(raw.columns), missing)
        checked.checks.append(Check(", ".join(missing), "required column(s) missing", fix))
    for col in table.columns:
        if col.name in raw.columns:
            _column_checks(checked, col)
    key = [k for k in table.key if k in raw.columns]
    if len(table.key) > 1 and len(key) == len(table.key):
        t = checked.base
        checked.add(
            ", ".join(table.key),
            "duplicate rows for the same key",
            "remove the duplicates",
            t.count().over(group_by=[t[k] for k in key]) > 1,
        )
    for a, b in table.date_order:
        if a in raw.columns and b in raw.columns:
            before = _to_type(raw[b], "timestamp") < _to_type(raw[a], "timestamp")
            checked.add(b, f"{b} before {a}", f"check both dates; {b} cannot precede {a}", before)


def _column_checks(checked: Checked, col: Column) -> None:
    import ibis

    t = checked.base
    raw = t[col.name]
    text = raw.type().is_string()
    present = _present(raw)
    add = checked.add
    if not col.nullable:
        add(col.name, "empty values in a column that must be filled", "fill the value or remove the rows from the source", ~present)  # fmt: skip
    if text:
        add(col.name, "NUL characters inside values", "export again; the file is damaged or binary where text is expected", raw.re_search(r"\x00"))  # fmt: skip
        add(col.name, "characters that are not valid text (the file's encoding is another)", "save the file as UTF-8, or give the file's encoding (mapping `encoding:`)", raw.contains("\ufffd"))  # fmt: skip
    if col.dtype == "string" and not col.free_text and text:
        add(
            col.name,
            "spreadsheet formula text (e.g. '=HYPERLINK(...)')",
            "export values, not formulas; such text would run when the data is opened in a spreadsheet",
            is_formula(raw),
        )
    typed = checked.typed_columns[col.name] = _to_type(raw, col.dtype)
    dated = col.dtype in ("date", "timestamp")
    iso = strip(raw).re_search(f"^{ISO_DATE}$") if dated and text else ibis.literal(True)
    if dated and text:
        add(
            col.name,
            "dates not written as YYYY-MM-DD",
            "export ISO dates, or give the column's format under `dates:` in a mapping.yaml (omnimodel map "
            "--suggest proposes it)",
            present & ~iso,
        )
        _zone_check(checked, col.name, present)
    add(
        col.name,
        f"values that are not a valid {col.dtype}",
        "fix the values at the source" + (" (dates as YYYY-MM-DD)" if dated else ""),
        present & iso & typed.isnull(),
    )
    ok = typed.notnull()
    if dated:
        today = pd.Timestamp.now().normalize()
        if col.name not in _MAY_BE_FUTURE:
            add(
                col.name,
                f"dates after today ({today.date()}), for something that has happened",
                "check the year (a typo such as 2099, or a placeholder date)",
                ok & (typed > ibis.literal((today + pd.Timedelta(days=1)).to_pydatetime())),
            )
        if col.name == "birth_date":
            oldest = today - pd.DateOffset(years=OLDEST_BIRTH_YEARS)
            add(
                col.name,
                f"birth dates more than {OLDEST_BIRTH_YEARS} years ago",
                "check the year, or leave the birth date empty where it is unknown (a placeholder such as 1800)",
                ok & (typed < ibis.literal(oldest.to_pydatetime())),
            )
    if col.name == "country":
        add(
            col.name,
            "countries not written as ISO 3166 codes",
            "write two-letter codes (DE, FR, US), or map your names under `values:` in a mapping.yaml "
            "(omnimodel map --suggest proposes them)",
            ok & ~typed.re_search(r"^[A-Z]{2}$"),
        )
    if col.dtype in ("int", "float"):
        add(col.name, "infinite values", "replace infinities at the source", ok & _infinite(typed))
        finite = ok & ~_infinite(typed)
        if col.dtype == "int":
            add(
                col.name,
                "values with a fraction where a whole number is expected",
                "round or fix the values",
                finite & (typed % 1 != 0),
            )
        if col.min is not None:
            add(col.name, f"values below the minimum {col.min:g}", "check the sign and units", ok & (typed < col.min))  # fmt: skip
        if col.max is not None:
            add(
                col.name,
                f"values above the maximum {col.max:g}",
                "write shares as fractions (0.2 for 20 %)"
                if col.max == 1
                else "check the units (cents instead of units?) or split the row",
                ok & (typed > col.max),
            )
    if col.allowed:
        add(
            col.name,
            f"values outside {', '.join(col.allowed)}",
            "map your values under `values:` in a mapping.yaml (omnimodel map --suggest)",
            ok & ~strip(typed).isin(col.allowed),
        )
    if col.unique:
        add(col.name, "duplicate ids", "remove or merge the duplicate rows", typed.notnull() & (t.count().over(group_by=typed) > 1))  # fmt: skip


def _zone_check(checked: Checked, column: str, present) -> None:
    """Timestamps in more than one time zone: every row whose offset is not the one most rows have."""
    import ibis

    t = checked.base
    zone = strip(t[column]).re_extract(_OFFSET, 1).replace("Z", "+00:00")
    zone = ibis.ifelse(zone.isnull() | (zone == ""), "no offset", zone)
    counts = t.filter(present).group_by(zone=zone).aggregate(n=ibis._.count()).execute()
    written = counts[counts["zone"] != "no offset"]
    if written.empty:
        return
    main = counts.sort_values(["n", "zone"], ascending=[False, True])["zone"].iloc[0]
    checked.add(
        column,
        f"timestamps in more than one time zone (offsets {', '.join(sorted(counts['zone']))})",
        "export every timestamp in one time zone, with the same offset or none",
        present & (zone != main),
    )


def _reference_joins(checked: dict[str, Checked]) -> list[tuple]:
    """Each reference's known ids joined to the table that refers to them (a hit column, NULL for an id not
    found); returns (table, column, hit column, "table.column") for :func:`add_reference_check`."""
    out: list[tuple] = []
    for name, col, ref_table, ref_col in references({n: c.columns for n, c in checked.items()}):
        c = checked[name]
        hit, ref = f"_omni_hit_{len(out)}", f"_omni_ref_{len(out)}"
        known = checked[ref_table].base
        known = known.select(**{ref: known[ref_col].cast("string")}).distinct().mutate(**{hit: True})
        t = c.base
        c.base = t.left_join(known, t[col.name].cast("string") == known[ref]).drop(ref)
        out.append((c, col.name, hit, col.references))
    return out


def add_reference_check(c: Checked, column: str, hit: str, refers: str) -> None:
    """Ids not found in the table they refer to (compared as text, as the in-memory route does)."""
    c.add(
        column,
        f"ids not found in {refers}",
        f"add the missing {refers.split('.')[0]} or correct the ids",
        c.base[column].notnull() & c.base[hit].isnull(),
    )


def _channel_checks(checked: dict[str, Checked]) -> None:
    """One channel written in more than one way across the tables (``Webshop`` beside ``webshop``)."""
    seen: dict[str, set[str]] = {}
    where = [(n, col) for n, col in CHANNEL_COLUMNS if n in checked and col in checked[n].columns]
    for name, column in where:
        t = checked[name].base
        for v in t.select(v=t[column].cast("string")).distinct().execute()["v"].dropna():
            seen.setdefault(" ".join(str(v).split()).casefold(), set()).add(str(v))
    clashes = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    if not clashes:
        return
    spellings = sorted({v for vs in clashes.values() for v in vs})
    written = "; ".join(" / ".join(repr(v) for v in vs) for vs in clashes.values())
    for name, column in where:
        c = checked[name]
        c.add(
            column,
            f"one channel written in more than one way ({written})",
            "write each channel one way in every table (same case and spacing), or map the spellings to one name",
            c.base[column].cast("string").isin(spellings),
        )


def _stage_checks(checked: dict[str, Checked], stages: list[str], terminal: list[str]) -> None:
    import ibis

    known = stages + terminal
    for name in ("opportunities", "stage_events"):
        if name not in checked or "stage" not in checked[name].columns:
            continue
        c = checked[name]
        stage = c.base["stage"].cast("string")
        unknown = ~stage.isin(known)
        seen = c.base.filter(unknown).select(s=stage).distinct().order_by("s").limit(5)
        names = [str(s) for s in seen.execute()["s"]]
        c.add(
            "stage",
            f"stages not in the funnel definition ({', '.join(names)})",
            f"map them to {', '.join(known)} or extend the funnel definition",
            unknown,
        )
        if name == "stage_events" and {"opportunity_id", "entered_at"} <= set(c.columns):
            t = c.base
            rank = ibis.cases(*[(t["stage"] == s, i) for i, s in enumerate(stages)], else_=ibis.null("int64"))
            when = c.typed_columns["entered_at"]
            ranked = rank.notnull() & when.notnull() & t["opportunity_id"].notnull()
            window = ibis.window(
                group_by=[ranked, t["opportunity_id"]], order_by=[when, rank], rows=(None, 0)
            )
            c.add(
                "stage",
                "stage regressions (an opportunity went back to an earlier stage)",
                "fix the stage history or allow regressions in the funnel definition",
                ranked & (rank < rank.max().over(window)),
                example=("opportunity_id",),  # as the in-memory route names them
            )
