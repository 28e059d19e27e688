"""Validation at the boundary: one pass per input table, every problem reported at once.

:func:`validate` checks a set of canonical tables (pandas frames as they come from an adapter) against
:mod:`omnimodel.data.schema`: required columns, types, empty values, uniqueness, ranges, allowed values,
spreadsheet formulas, referential integrity, date order and stage order. It never changes the frames it is
given; :func:`coerce` returns typed copies (:mod:`omnimodel.data.cells`), and :func:`quarantine` splits
rejected rows off with their reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from omnimodel.data.cells import (
    ISO_DATE,
    coerce,
    coerce_column,
    formula_notes,
    is_formula,
    neutralise,
    offsets,
)
from omnimodel.data.schema import TABLES, Column, Table
from omnimodel.exceptions import Problem, ValidationError

__all__ = [
    "check",
    "coerce",
    "formula_notes",
    "neutralise",
    "quarantine",
    "validate",
]  # coerce, neutralise: from cells
MAX_EXAMPLES = 5
#: dated columns that may lie ahead (plans); every other date is an event that has happened
_MAY_BE_FUTURE = {"due_date", "expected_close_date"}
OLDEST_BIRTH_YEARS = 120


def _row_ids(frame: pd.DataFrame, table: Table, mask: np.ndarray) -> tuple:
    """Example ids of offending rows: the key value where present, else the row number (1-based, as in a file)."""
    idx = np.flatnonzero(mask)[:MAX_EXAMPLES]
    key = table.key[0]
    if key in frame.columns and len(table.key) == 1:
        return tuple(str(v) for v in frame[key].iloc[idx])
    return tuple(f"#{i + 1}" for i in idx)


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


Finding = tuple[Problem, "np.ndarray | None"]  # a problem and the rows it rejects (None: the whole table)


def _table_problems(name: str, frame: pd.DataFrame) -> list[Finding]:
    """Problems of one table on its own, each with the mask of rows it concerns."""
    table = TABLES[name]
    found: list[Finding] = []

    def add(column, message, mask, fix):
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            found.append(
                (Problem(name, column, message, _row_ids(frame, table, mask), int(mask.sum()), fix), mask)
            )

    if len(frame) == 0:
        found.append(
            (
                Problem(
                    name,
                    None,
                    "the table has no rows",
                    fix="check the export; drop the table from the input if it is really empty",
                ),
                None,
            )
        )
        return found
    missing = [c for c in table.required_columns if c not in frame.columns]
    if missing:
        fix = missing_columns_fix(list(frame.columns), missing)
        found.append((Problem(name, ", ".join(missing), "required column(s) missing", fix=fix), None))
    for col in table.columns:
        if col.name not in frame.columns:
            continue
        raw = frame[col.name]
        present = raw.notna().to_numpy() & ~(raw.astype("string").str.strip() == "").fillna(False).to_numpy()
        if not col.nullable:
            add(
                col.name,
                "empty values in a column that must be filled",
                ~present,
                "fill the value or remove the rows from the source",
            )
        if not pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_datetime64_any_dtype(raw):
            text = raw.astype("string")
            add(
                col.name,
                "NUL characters inside values",
                text.str.contains("\x00", regex=False).fillna(False).to_numpy(),
                "export again; the file is damaged or binary where text is expected",
            )
        if col.dtype == "string" and not col.free_text:  # free text keeps it: see formula_notes
            add(
                col.name,
                "spreadsheet formula text (e.g. '=HYPERLINK(...)')",
                is_formula(raw.astype("string")),
                "export values, not formulas; such text would run when the data is opened in a spreadsheet",
            )
        if col.dtype in ("date", "timestamp") and not pd.api.types.is_datetime64_any_dtype(raw):
            # Never guessed: 13/01/2019 is not read day-first behind the user's back.
            text = raw.astype("string").str.strip()
            add(
                col.name,
                "dates not written as YYYY-MM-DD",
                present & ~text.str.fullmatch(ISO_DATE).fillna(False).to_numpy(),
                "export ISO dates, or give the column's format under `dates:` in a mapping.yaml "
                "(omnimodel map --suggest proposes it)",
            )
            zone = offsets(raw).fillna("no offset").to_numpy()
            written = pd.Series(zone[present])
            if (written != "no offset").any():
                add(
                    col.name,
                    f"timestamps in more than one time zone (offsets {', '.join(sorted(written.unique()))})",
                    present & (zone != written.mode().iloc[0]),
                    "export every timestamp in one time zone, with the same offset or none",
                )
        typed = coerce_column(raw, col.dtype)
        unparsable = present & typed.isna().to_numpy()
        add(
            col.name,
            f"values that are not a valid {col.dtype}",
            unparsable,
            "fix the values at the source"
            + (" (dates as YYYY-MM-DD)" if col.dtype in ("date", "timestamp") else ""),
        )
        ok = typed.notna().to_numpy()
        if col.dtype in ("date", "timestamp"):
            today = pd.Timestamp.now().normalize()
            when = typed.to_numpy(dtype="datetime64[ns]")
            if col.name not in _MAY_BE_FUTURE:
                add(
                    col.name,
                    f"dates after today ({today.date()}), for something that has happened",
                    ok & (when > np.datetime64(today + pd.Timedelta(days=1))),
                    "check the year (a typo such as 2099, or a placeholder date)",
                )
            if col.name == "birth_date":
                oldest = today - pd.DateOffset(years=OLDEST_BIRTH_YEARS)
                add(
                    col.name,
                    f"birth dates more than {OLDEST_BIRTH_YEARS} years ago",
                    ok & (when < np.datetime64(oldest)),
                    "check the year, or leave the birth date empty where it is unknown (a placeholder such as 1800)",
                )
        if col.name == "country":
            add(
                col.name,
                "countries not written as ISO 3166 codes",
                ok & ~typed.astype("string").str.fullmatch(r"[A-Z]{2}").fillna(False).to_numpy(),
                "write two-letter codes (DE, FR, US), or map your names under `values:` in a mapping.yaml "
                "(omnimodel map --suggest proposes them)",
            )
        if col.dtype in ("int", "float"):
            values = typed.to_numpy(dtype=float, na_value=np.nan)
            finite = np.isfinite(values)
            add(col.name, "infinite values", ok & ~finite, "replace infinities at the source")
            if col.dtype == "int":
                add(
                    col.name,
                    "values with a fraction where a whole number is expected",
                    ok & finite & (np.mod(values, 1) != 0),
                    "round or fix the values",
                )
            if col.min is not None:
                add(
                    col.name,
                    f"values below the minimum {col.min:g}",
                    ok & (values < col.min),
                    "check the sign and units",
                )
            if col.max is not None:
                add(
                    col.name,
                    f"values above the maximum {col.max:g}",
                    ok & (values > col.max),
                    "write shares as fractions (0.2 for 20 %)"
                    if col.max == 1
                    else "check the units (cents instead of units?) or split the row",
                )
        if col.allowed:
            norm = typed.str.strip()
            add(
                col.name,
                f"values outside {', '.join(col.allowed)}",
                ok & ~norm.isin(col.allowed).to_numpy(),
                "map your values under `values:` in a mapping.yaml (omnimodel map --suggest)",
            )
        if col.unique:
            add(
                col.name,
                "duplicate ids",
                ok & typed.duplicated(keep=False).to_numpy(),
                "remove or merge the duplicate rows",
            )
    key_cols = [c for c in table.key if c in frame.columns]
    if len(table.key) > 1 and len(key_cols) == len(table.key):
        add(
            ", ".join(table.key),
            "duplicate rows for the same key",
            frame.duplicated(key_cols, keep=False),
            "remove the duplicates",
        )
    for a, b in table.date_order:
        if a in frame.columns and b in frame.columns:
            da = coerce_column(frame[a], "timestamp")
            db = coerce_column(frame[b], "timestamp")
            add(
                b,
                f"{b} before {a}",
                (db < da).fillna(False).to_numpy(),
                f"check both dates; {b} cannot precede {a}",
            )
    return found


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


def _foreign_key_problems(tables: dict[str, pd.DataFrame]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for name, col, ref_table, ref_col in references({n: list(f.columns) for n, f in tables.items()}):
        frame = tables[name]
        values = frame[col.name].astype("string")
        orphan = (values.notna() & ~values.isin(tables[ref_table][ref_col].astype("string"))).to_numpy()
        if orphan.any():
            problem = Problem(
                name,
                col.name,
                f"ids not found in {col.references}",
                _row_ids(frame, TABLES[name], orphan),
                int(orphan.sum()),
                f"add the missing {ref_table} or correct the ids",
            )
            out.setdefault(name, []).append((problem, orphan))
    return out


def _stage_problems(tables: dict[str, pd.DataFrame], stages: Sequence[str], terminal: Sequence[str]):
    """Unknown stages and regressions (an opportunity moving back to an earlier stage)."""
    known = list(stages) + list(terminal)
    out: dict[str, list[Finding]] = {}
    for name in ("opportunities", "stage_events"):
        if name not in tables or "stage" not in tables[name].columns:
            continue
        frame = tables[name]
        unknown = ~frame["stage"].astype("string").isin(known).fillna(False).to_numpy()
        if unknown.any():
            seen = sorted(frame.loc[unknown, "stage"].astype(str).unique())[:5]
            out.setdefault(name, []).append(
                (
                    Problem(
                        name,
                        "stage",
                        f"stages not in the funnel definition ({', '.join(seen)})",
                        _row_ids(frame, TABLES[name], unknown),
                        int(unknown.sum()),
                        f"map them to {', '.join(known)} or extend the funnel definition",
                    ),
                    unknown,
                )
            )
        if name == "stage_events" and {"opportunity_id", "entered_at"} <= set(frame.columns):
            rank = frame["stage"].map({s: i for i, s in enumerate(stages)})  # terminal stages are not ranked
            when = coerce_column(frame["entered_at"], "timestamp")
            ev = pd.DataFrame({"opp": frame["opportunity_id"], "rank": rank, "when": when}).dropna()
            ev = ev.sort_values(["opp", "when"], kind="stable")
            back = ev["rank"] < ev.groupby("opp")["rank"].cummax()
            mask = np.zeros(len(frame), dtype=bool)
            mask[frame.index.get_indexer(ev.index[back.to_numpy()])] = True
            if mask.any():
                out.setdefault(name, []).append(
                    (
                        Problem(
                            name,
                            "stage",
                            "stage regressions (an opportunity went back to an earlier stage)",
                            tuple(frame["opportunity_id"].to_numpy()[mask][:MAX_EXAMPLES]),
                            int(mask.sum()),
                            "fix the stage history or allow regressions in the funnel definition",
                        ),
                        mask,
                    )
                )
    return out


#: columns that name a channel: one channel must be written one way across them
CHANNEL_COLUMNS = (
    ("channels", "channel"),
    ("orders", "channel"),
    ("customers", "acquisition_channel"),
    ("complaints", "channel"),
    ("touchpoints", "channel"),
    ("opportunities", "source_channel"),
)


def _channel_problems(tables: dict[str, pd.DataFrame]) -> dict[str, list[Finding]]:
    """Channel names that differ only in case or spacing (``Webshop`` beside ``webshop``): the analyses would
    count them as two channels. Any names are accepted; they must be written one way."""
    seen: dict[str, set[str]] = {}
    for name, column in CHANNEL_COLUMNS:
        if name in tables and column in tables[name].columns:
            for v in tables[name][column].dropna().astype(str).unique():
                seen.setdefault(" ".join(v.split()).casefold(), set()).add(v)
    clashes = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    out: dict[str, list[Finding]] = {}
    if not clashes:
        return out
    spellings = {v for vs in clashes.values() for v in vs}
    for name, column in CHANNEL_COLUMNS:
        if name not in tables or column not in tables[name].columns:
            continue
        frame = tables[name]
        mask = frame[column].astype("string").isin(spellings).fillna(False).to_numpy()
        if mask.any():
            written = "; ".join(" / ".join(repr(v) for v in vs) for vs in clashes.values())
            problem = Problem(
                name,
                column,
                f"one channel written in more than one way ({written})",
                _row_ids(frame, TABLES[name], mask),
                int(mask.sum()),
                "write each channel one way in every table (same case and spacing), or map the spellings to one name",
            )
            out.setdefault(name, []).append((problem, mask))
    return out


def _findings(tables, stages, terminal) -> tuple[list[Problem], dict[str, list[Finding]]]:
    """Problems outside any table (unknown table names) and findings per table."""
    outside = [
        Problem(n, None, "not a canonical table", fix=f"use one of {', '.join(TABLES)}")
        for n in tables
        if n not in TABLES
    ]
    known = {n: f for n, f in tables.items() if n in TABLES}
    found = {name: _table_problems(name, frame) for name, frame in known.items()}
    more = [_foreign_key_problems(known), _channel_problems(known)]
    more += [_stage_problems(known, stages, terminal)] if stages else []
    for extra in more:
        for name, items in extra.items():
            found[name] += items
    return outside, found


def validate(
    tables: dict[str, pd.DataFrame],
    stages: Sequence[str] | None = None,
    terminal: Sequence[str] = ("won", "lost"),
) -> list[Problem]:
    """Every problem in a set of canonical tables, in one list (empty when clean).

    Parameters
    ----------
    tables : dict of DataFrame
        Canonical tables by name; any subset of :data:`omnimodel.data.schema.TABLES`.
    stages : sequence of str, optional
        Open funnel stages in order; when given, stages are checked against it (unknown stages, regressions).
    terminal : sequence of str
        Terminal stages allowed after the open ones.

    Examples
    --------
    >>> import pandas as pd
    >>> problems = validate({"products": pd.DataFrame({"product_id": ["a", "a"], "category": ["x", "y"]})})
    >>> print(problems[0])
    products.product_id: duplicate ids (2 rows); e.g. rows a, a. Fix: remove or merge the duplicate rows
    """
    outside, found = _findings(tables, stages, terminal)
    return outside + [p for items in found.values() for p, _ in items]


def check(tables: dict[str, pd.DataFrame], **kwargs) -> None:
    """Raise :class:`~omnimodel.exceptions.ValidationError` listing every problem, or return quietly."""
    problems = validate(tables, **kwargs)
    if problems:
        raise ValidationError(problems)


def quarantine(
    tables: dict[str, pd.DataFrame],
    stages: Sequence[str] | None = None,
    terminal: Sequence[str] = ("won", "lost"),
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, list[Problem]]:
    """Split rejected rows off: (clean tables, rejected rows with table and reason, table-level problems).

    Table-level problems (a missing required column, an empty table, an unknown table) cannot be
    quarantined row by row; they are returned for the caller to raise. Children of a rejected parent row
    are not cascaded here: a second :func:`validate` of the clean tables reports them as orphans.
    """
    outside, found = _findings(tables, stages, terminal)
    clean, rejected, table_level = {}, [], list(outside)
    for name, items in found.items():
        frame = tables[name]
        reasons = pd.Series("", index=frame.index, dtype="string")
        for problem, mask in items:
            if mask is None:
                table_level.append(problem)
            else:
                reasons[mask] += f"{problem.column}: {problem.message}; "
        bad = (reasons != "").to_numpy()
        clean[name] = frame.loc[~bad].copy()
        if bad.any():
            rows = frame.loc[bad].astype("string")
            # Named so that no canonical column (returns.reason) collides with them.
            rows.insert(0, "rejected_because", reasons[bad].str.rstrip("; "))
            rows.insert(0, "rejected_from", name)
            rejected.append(rows)
    rejected_frame = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=["rejected_from", "rejected_because"])
    )
    return clean, rejected_frame, table_level
