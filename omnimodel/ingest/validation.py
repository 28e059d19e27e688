"""Validation at the boundary: one pass per input table, every problem reported at once.

:func:`validate` checks a set of canonical tables (pandas frames as they come from an adapter) against
:mod:`omnimodel.data.schema`: required columns, types, empty values, uniqueness, ranges, allowed values,
spreadsheet formulas, referential integrity, date order and stage order. The checks are written once, as engine
queries (:mod:`omnimodel.ingest.checks`): the frames are checked by an in-memory DuckDB, as files too large
for memory are checked by the engine that reads them, so both routes find the same problems. It never changes
the frames it is given; :func:`coerce` returns typed copies (:mod:`omnimodel.data.cells`), and
:func:`quarantine` splits rejected rows off with their reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.data.cells import coerce, neutralise
from omnimodel.exceptions import Problem, ValidationError
from omnimodel.ingest import checks, findings
from omnimodel.ingest.checks import ROW, Checked

__all__ = [
    "check",
    "coerce",
    "inspect",
    "neutralise",
    "quarantine",
    "validate",
]  # coerce, neutralise: from cells


@contextlib.contextmanager
def _checked(
    tables: dict[str, pd.DataFrame], stages: Sequence[str] | None, terminal: Sequence[str]
) -> Iterator[tuple[list[Problem], dict[str, Checked]]]:
    """The frames checked by an in-memory DuckDB: (problems outside any table, checked tables). Each frame is
    scanned where it lies (with its row number, :data:`~omnimodel.ingest.checks.ROW`), never changed."""
    import ibis

    con = ibis.duckdb.connect()
    try:
        known = {}
        for i, (name, frame) in enumerate(tables.items()):
            known[name] = con.table(_register(con, f"_omni_frame_{i}", frame))
        yield checks.check_tables(known, stages=stages, terminal=terminal)
    finally:
        con.disconnect()


def _register(con: Any, name: str, frame: pd.DataFrame) -> str:
    """``frame`` as a view of the connection, its columns named as text, text and mixed columns as strings."""
    frame = frame.reset_index(drop=True)  # a shallow copy: the caller's frame stays as it is
    view = pd.DataFrame(
        {
            str(c): frame[c].astype("string")
            if frame[c].dtype == object or isinstance(frame[c].dtype, pd.CategoricalDtype)
            else frame[c]
            for c in frame.columns
        },
        index=pd.RangeIndex(len(frame)),
    )
    view[ROW] = np.arange(1, len(frame) + 1)
    con.con.register(name, view)
    return name


def inspect(
    tables: dict[str, pd.DataFrame],
    stages: Sequence[str] | None = None,
    terminal: Sequence[str] = ("won", "lost"),
) -> tuple[list[Problem], list[str]]:
    """Every problem of a set of canonical tables (:func:`validate`), and the notes on free text a spreadsheet
    would run, kept as given (names, addresses), in one pass."""
    with _checked(tables, stages, terminal) as (outside, checked):
        return outside + findings.findings(checked), findings.formula_notes(checked)


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
    return inspect(tables, stages, terminal)[0]


def check(tables: dict[str, pd.DataFrame], **kwargs: Any) -> None:
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
    with _checked(tables, stages, terminal) as (outside, checked):
        problems = outside + findings.findings(checked)
        reasons = {
            name: c.flagged.filter(c.bad()).select(ROW, reason=c.reasons()).execute()
            for name, c in checked.items()
            if c.rejected
        }
    clean, rejected = {}, []
    for name in checked:  # a table that is not canonical is a table-level problem
        frame = tables[name]
        if name not in reasons:
            clean[name] = frame.copy()
            continue
        why = reasons[name].set_index(ROW)["reason"]
        bad = np.zeros(len(frame), dtype=bool)
        bad[why.index.to_numpy() - 1] = True
        clean[name] = frame.loc[~bad].copy()
        rows = frame.loc[bad].astype("string")
        # Named so that no canonical column (returns.reason) collides with them.
        rows.insert(0, "rejected_because", why.sort_index().to_numpy())
        rows.insert(0, "rejected_from", name)
        rejected.append(rows)
    rejected_frame = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=["rejected_from", "rejected_because"])
    )
    return clean, rejected_frame, [p for p in problems if not p.count]
