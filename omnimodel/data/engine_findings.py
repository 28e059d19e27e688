"""Running the engine's checks (:mod:`omnimodel.data.engine_checks`): one aggregate per table counts every
check's rows, a few small queries fetch example rows, and free text a spreadsheet would run is listed."""

from __future__ import annotations

from omnimodel.data.engine_checks import Check, Checked, is_formula
from omnimodel.data.schema import TABLES
from omnimodel.data.validation import MAX_EXAMPLES
from omnimodel.exceptions import OmnimodelError, Problem


def _example_ids(checked: Checked, check: Check) -> tuple:
    table = TABLES[checked.name]
    key = list(check.example) or [k for k in table.key if k in checked.columns] or checked.columns[:1]
    t = checked.flagged.filter(checked.flagged[check.flag])
    rows = t.select(*key).order_by(key).limit(MAX_EXAMPLES).execute()
    return tuple("/".join(str(v) for v in row) for row in rows.itertuples(index=False))


def findings(checked: dict[str, Checked], files: dict[str, str] | None = None) -> list[Problem]:
    """Run the checks: one aggregate per table for the counts, then a few example rows per problem found.
    ``files`` names each table's file, for an engine's error in reading it."""
    problems = []
    for name, c in checked.items():
        t = c.flagged
        try:
            sums = {f: t[f].cast("int64").sum() for f in c.flags}
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
        counts = counts.fillna(0).iloc[0]
        c.rows, c.rejected = int(counts["_omni_rows"]), int(counts.get("_omni_bad", 0))
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
            elif n := int(counts[check.flag]):
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
    """The engine's :func:`omnimodel.data.cells.formula_notes`: free text a spreadsheet would run, kept."""
    notes = []
    for name, c in checked.items():
        for col in TABLES[name].columns:
            if not (col.free_text and col.name in c.columns and c.base[col.name].type().is_string()):
                continue
            t = c.base
            risky = is_formula(t[col.name]).fill_null(False)
            n = int(t.aggregate(n=risky.cast("int64").sum()).execute()["n"].fillna(0).iloc[0])
            if n:
                key = [k for k in TABLES[name].key if k in c.columns] or c.columns[:1]
                rows = t.filter(risky).select(*key).order_by(key).limit(5).execute()
                ids = ", ".join("/".join(str(v) for v in r) for r in rows.itertuples(index=False))
                notes.append(
                    f"{name}.{col.name}: {n} value(s) start like a spreadsheet formula (e.g. rows {ids}): "
                    "kept as given; every CSV omnimodel writes shows them as text"
                )
    return notes
