"""The validation's checks, written once as Ibis expressions: every route runs them.

Each check is a boolean column the engine computes row by row (empty values, types, ISO dates and time zones,
dates ahead, ranges, allowed values, formulas, duplicate ids and keys, references, date order, channel
spellings, stages); :mod:`omnimodel.ingest.findings` counts them in one aggregate per table and fetches a
few example rows. The checks of one column are a table of rules (:data:`RULES`: where a rule applies, its
message and fix, and the rows that break it); the checks of a table and across tables follow them.

Exports larger than memory (or beside a Spark cluster) are checked where the engine reads them; frames in memory
(:mod:`omnimodel.ingest.validation`) are checked by DuckDB in this process, with their row numbers
(:data:`ROW`), so their example rows are named by line where a table has several key columns, and listed in
file order. Read by the engine from files, examples are named by key ("O1/2") and ordered by it, and rows whose
stage changes at the same timestamp are ordered by stage. A date that is not ISO is reported once (not also as
unparsable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from omnimodel.data.cells import ISO_DATE
from omnimodel.data.schema import TABLES, Column
from omnimodel.exceptions import Problem
from omnimodel.ingest import rules
from omnimodel.ingest.rules import SQL_TYPES, Cell, is_formula, strip, to_type

FLAG = "_omni_flag_"
#: a frame's row number (1 for its first row), added when frames in memory are checked
ROW = "_omni_row"
#: columns that name a channel: one channel must be written one way across them
CHANNEL_COLUMNS = (
    ("channels", "channel"),
    ("orders", "channel"),
    ("customers", "acquisition_channel"),
    ("complaints", "channel"),
    ("touchpoints", "channel"),
    ("opportunities", "source_channel"),
)


#: the text of a timestamp without the time-zone offset written after it (group 1), as the in-memory route reads
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
    by_line: bool = False  # a frame in memory, with its row numbers (ROW): examples in file order
    rows: int = 0  # counted by findings()
    rejected: int = 0  # rows with at least one problem, counted by findings()
    #: free text a spreadsheet would run, kept as given and noted: column -> its rows (counted by findings())
    notes: dict = field(default_factory=dict)
    noted: dict = field(default_factory=dict)
    _flags: dict = field(default_factory=dict)
    _flagged: Any = None

    def add(
        self, column: str | None, message: str, fix: str, condition: Any, example: tuple[str, ...] = ()
    ) -> None:
        """A row check: ``condition`` (a boolean expression on ``base``) is true on the rows it rejects."""
        flag = f"{FLAG}{len(self.checks)}"
        self._flags[flag] = condition.fill_null(False)
        self._flagged = None
        self.checks.append(Check(column, message, fix, flag, example))

    @property
    def flagged(self) -> Any:
        """``base`` with every typed column (as ``_omni_typed_<col>``) and flag: one projection, so the engine
        plans one scan however many checks there are."""
        if self._flagged is None:
            typed = {_typed_name(c): v for c, v in self.typed_columns.items()}
            notes = {_note_name(c): v for c, v in self.notes.items()}
            self._flagged = self.base.mutate(**typed, **self._flags, **notes)
        return self._flagged

    @property
    def flags(self) -> list[str]:
        """The flag columns, one per row check."""
        return [c.flag for c in self.checks if c.flag]

    def bad(self) -> Any:
        """True on rows with at least one problem."""
        import ibis

        t = self.flagged
        return ibis.or_(*[t[f] for f in self.flags]) if self.flags else ibis.literal(False)

    def reasons(self) -> Any:
        """Each row's problems in words ("column: message; ...")."""
        import ibis

        t, text = self.flagged, ibis.literal("")
        for c in self.checks:
            if c.flag:
                text = text + ibis.ifelse(t[c.flag], f"{c.column}: {c.message}; ", "")
        return text.re_replace(r"; $", "")

    def typed(self) -> Any:
        """The table in canonical types (known columns cast, others kept), without flags: computed from the
        source alone, so writing it does not redo the checks' joins and windows."""
        table, t = TABLES[self.name], self.source
        out = {}
        for c in self.columns:
            if c in self.typed_columns:
                col = table.column(c)
                value = to_type(t[c], col.dtype)
                out[c] = value.date() if col.dtype == "date" else value.cast(SQL_TYPES[col.dtype])
            else:
                out[c] = t[c]
        return t.select(**out)


def _typed_name(column: str) -> str:
    return f"_omni_typed_{column}"


def _note_name(column: str) -> str:
    return f"_omni_note_{column}"


def missing_columns_fix(columns: list, missing: list[str]) -> str:
    """How to supply missing required columns: the rename where only the case or spacing differs."""
    lower = {str(c).lower().strip(): c for c in columns}
    hints = [f"'{lower[m.lower()]}' -> '{m}'" for m in missing if m.lower() in lower]
    if hints:
        return "rename " + ", ".join(hints)
    return (
        "add the column(s), or name yours under `columns:` in a mapping.yaml (omnimodel map --suggest proposes "
        f"it); columns found: {', '.join(map(str, columns))[:300]}"
    )


def references(columns: dict[str, list]) -> list[tuple[str, Column, str, str]]:
    """The references whose both ends are present: (table, column, referenced table, referenced column), given
    each table's column names."""
    out = []
    for name, present in columns.items():
        for col in TABLES[name].columns:
            if col.references and col.name in present:
                ref_table, ref_col = col.references.split(".")
                if ref_table in columns and ref_col in columns[ref_table]:
                    out.append((name, col, ref_table, ref_col))
    return out


def check_tables(
    tables: dict, stages: Sequence[str] | None = None, terminal: Sequence[str] = ("won", "lost")
) -> tuple[list[Problem], dict[str, Checked]]:
    """Flag every table's rows: (problems outside any table, checked tables). Nothing runs yet but the small
    queries some checks need first (the time zones written, the channel names). A table with a :data:`ROW`
    column is a frame in memory: its examples are named and ordered by line."""
    outside = [
        Problem(n, None, "not a canonical table", fix=f"use one of {', '.join(TABLES)}")
        for n in tables
        if n not in TABLES
    ]
    checked = {
        n: Checked(n, t, columns=[c for c in t.columns if c != ROW], source=t, by_line=ROW in t.columns)
        for n, t in tables.items()
        if n in TABLES
    }
    joins = _reference_joins(checked)  # first: the checks are one projection over the joined table
    for c in checked.values():
        _table_checks(c)
    for c, column, hit, refers in joins:
        add_reference_check(c, column, hit, refers)
    _channel_checks(checked)
    if stages:
        _stage_checks(checked, list(stages), list(terminal))
    return outside, checked


def _table_checks(checked: Checked) -> None:
    table, raw = TABLES[checked.name], checked.base
    missing = [c for c in table.required_columns if c not in checked.columns]
    if missing:
        fix = missing_columns_fix(checked.columns, missing)
        checked.checks.append(Check(", ".join(missing), "required column(s) missing", fix))
    today = pd.Timestamp.now().normalize()
    for col in table.columns:
        if col.name in checked.columns:
            _column_checks(checked, col, today)
            if col.free_text and raw[col.name].type().is_string():  # kept as given, and noted
                checked.notes[col.name] = is_formula(raw[col.name]).fill_null(False)
    key = [k for k in table.key if k in checked.columns]
    if len(table.key) > 1 and len(key) == len(table.key):
        t = checked.base
        checked.add(
            ", ".join(table.key),
            "duplicate rows for the same key",
            "remove the duplicates",
            t.count().over(group_by=[t[k] for k in key]) > 1,
        )
    for a, b in table.date_order:
        if a in checked.columns and b in checked.columns:
            before = to_type(raw[b], "timestamp") < to_type(raw[a], "timestamp")
            checked.add(b, f"{b} before {a}", f"check both dates; {b} cannot precede {a}", before)
    if checked.name == "opportunities" and {"outcome", "closed_date"} <= set(checked.columns):
        # a CRM's "close date" of an open deal is its expected close: as closed_date it would close the deal
        is_open = strip(raw["outcome"].cast("string")).lower() == "open"
        checked.add(
            "closed_date",
            "a closed date on an open deal",
            "an open deal's close date is the expected one: map the CRM's close date to expected_close_date, and "
            "closed_date only where the CRM records when a deal was won or lost",
            is_open & rules.present(raw["closed_date"]),
        )


def _column_checks(checked: Checked, col: Column, today: pd.Timestamp) -> None:
    """Every rule of :data:`RULES` that applies to the column."""
    import ibis

    raw = checked.base[col.name]
    typed = checked.typed_columns[col.name] = to_type(raw, col.dtype)
    dated_text = col.dtype in ("date", "timestamp") and raw.type().is_string()
    iso = strip(raw).re_search(f"^{ISO_DATE}$") if dated_text else ibis.literal(True)
    cell = Cell(col, checked.base, raw, typed, rules.present(raw), iso, today)
    for rule in rules.RULES:  # looked up at each check: a rule added to the table runs too
        if rule.applies(cell) and (rows := rule.rows(cell)) is not None:
            checked.add(col.name, rule.message(cell), rule.fix(cell), rows)


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
    if not where:
        return
    names = [checked[n].source.select(v=checked[n].source[col].cast("string")).distinct() for n, col in where]
    every = names[0].union(*names[1:]) if len(names) > 1 else names[0]  # one query for every table's names
    for v in every.execute()["v"].dropna():
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
            ties = t[ROW] if c.by_line else rank  # a frame's ties in file order, a file's by stage
            window = ibis.window(
                group_by=[ranked, t["opportunity_id"]], order_by=[when, ties], rows=(None, 0)
            )
            c.add(
                "stage",
                "stage regressions (an opportunity went back to an earlier stage)",
                "fix the stage history or allow regressions in the funnel definition",
                ranked & (rank < rank.max().over(window)),
                example=("opportunity_id",),  # as the in-memory route names them
            )
