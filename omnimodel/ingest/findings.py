"""Running the engine's checks (:mod:`omnimodel.ingest.checks`): one aggregate per table counts every
check's rows, a few small queries fetch example rows, and free text a spreadsheet would run is listed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError, Problem
from omnimodel.ingest.checks import ROW, Check, Checked, _note_name

#: example rows named per problem
MAX_EXAMPLES = 5


def _examples(checked: Checked, rows: Any, named_by: tuple[str, ...] = ()) -> tuple:
    """The first example rows of ``rows`` (a filtered table): named by ``named_by``, else by the table's key.
    A frame in memory names them by key where the table has one key column, else by line (#3), in file order;
    a file read by the engine by its key, in the key's order."""
    keys = TABLES[checked.name].key
    if checked.by_line:
        single = len(keys) == 1 and keys[0] in checked.columns
        key = list(named_by) or ([keys[0]] if single else [ROW])
        found = rows.order_by(ROW).select(*key).limit(MAX_EXAMPLES).execute()
    else:
        key = list(named_by) or [k for k in keys if k in checked.columns] or checked.columns[:1]
        found = rows.select(*key).order_by(key).limit(MAX_EXAMPLES).execute()
    if key == [ROW]:
        return tuple(f"#{v}" for v in found[ROW])
    return tuple("/".join(str(v) for v in row) for row in found.itertuples(index=False))


def _example_ids(checked: Checked, check: Check) -> tuple:
    return _examples(checked, checked.flagged.filter(checked.flagged[check.flag]), check.example)


def findings(checked: dict[str, Checked], files: dict[str, str] | None = None) -> list[Problem]:
    """Run the checks: one aggregate per table for the counts, then a few example rows per problem found.
    ``files`` names each table's file, for an engine's error in reading it."""
    problems = []
    for name, c in checked.items():
        t = c.flagged
        try:
            sums = {f: t[f].cast("int64").sum() for f in c.flags}
            sums |= {
                f"_omni_noted_{i}": t[_note_name(col)].cast("int64").sum() for i, col in enumerate(c.notes)
            }
            if c.flags:
                sums["_omni_bad"] = c.bad().cast("int64").sum()
            counts = t.aggregate(_omni_rows=t.count(), **sums).execute()
        except Exception as exc:  # the engine could not read the file (ragged rows, bad bytes, ...)
            raise OmnimodelError(
                f"the engine could not read {(files or {}).get(name, name)}: {first_line(exc)}",
                table=name,
                fix="quote fields that contain the separator or line breaks, check the file's encoding, and "
                "that the engine can read the file where it runs (or load with --in-memory)",
            ) from exc
        counts = {
            k: 0 if pd.isna(v) else int(v) for k, v in counts.iloc[0].items()
        }  # a sum of no rows is NULL
        c.rows, c.rejected = counts["_omni_rows"], counts.get("_omni_bad", 0)
        c.noted = {col: counts[f"_omni_noted_{i}"] for i, col in enumerate(c.notes)}
        if c.rows == 0:
            problems.append(
                Problem(
                    name,
                    None,
                    "the table has no rows",
                    fix="check the export; drop the table from the input if it is really empty",
                )
            )
            continue
        for check in c.checks:
            if check.flag is None:
                problems.append(Problem(name, check.column, check.message, fix=check.fix))
            elif n := counts[check.flag]:
                problems.append(
                    Problem(name, check.column, check.message, _example_ids(c, check), n, check.fix)
                )
    return problems


def first_line(exc: Exception) -> str:
    """An engine error's first line: the what, without its stack (and Spark's cause for a ragged file, which
    its first line does not say)."""
    if "Malformed records are detected" in str(exc):
        return "rows with the wrong number of fields (Spark: malformed records)"
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__


def formula_notes(checked: dict[str, Checked]) -> list[str]:
    """Free text a spreadsheet would run (names, addresses, reasons), kept as given: one note per column with
    example rows (counted by :func:`findings`; in ids and categories such text is a problem instead)."""
    notes = []
    for name, c in checked.items():
        for col, n in c.noted.items():
            if n:
                ids = ", ".join(_examples(c, c.flagged.filter(c.flagged[_note_name(col)])))
                notes.append(
                    f"{name}.{col}: {n} value(s) start like a spreadsheet formula (e.g. rows {ids}): "
                    "kept as given; every CSV omnimodel writes shows them as text"
                )
    return notes
