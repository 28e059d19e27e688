"""The workspace: where canonical tables live, and the engine that queries them.

By default a DuckDB file (``data/demo.duckdb`` for the demo company). Queries are written once with Ibis and
run unchanged on any Ibis backend (PySpark, a warehouse): wrap such a connection with
:meth:`Workspace.from_backend`.

A workspace is written in one go into a temporary file that is renamed into place only when complete, so a
failed or interrupted build never leaves a half-built workspace behind and never touches an existing one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from omnimodel.data.schema import TABLES
from omnimodel.environment import resolve_path
from omnimodel.exceptions import WorkspaceError

META_TABLE = "_omnimodel_meta"
SQL_TYPES = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


class Workspace:
    """Read access to the canonical tables of one workspace.

    Parameters
    ----------
    path : str or Path
        A DuckDB workspace file built by ``omnimodel demo`` or ``omnimodel ingest``.

    Examples
    --------
    >>> ws = Workspace("data/demo.duckdb")  # doctest: +SKIP
    >>> ws.table("orders").count().execute()  # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike):
        import ibis

        self.path: Path | None = resolve_path(path)
        if not self.path.exists():
            raise WorkspaceError(
                f"no workspace at {self.path}",
                fix="build the demo with `omnimodel demo` or load your data with `omnimodel ingest`",
            )
        try:
            self.con = ibis.duckdb.connect(str(self.path), read_only=True)
        except Exception as exc:  # a corrupt or foreign file
            raise WorkspaceError(
                f"cannot open {self.path} as a DuckDB workspace: {exc}",
                fix="rebuild it with `omnimodel demo` or `omnimodel ingest`",
            ) from exc

    @classmethod
    def from_backend(cls, con) -> Workspace:
        """Wrap any Ibis backend connection (PySpark, Postgres, Snowflake, ...) that holds canonical tables."""
        ws = cls.__new__(cls)
        ws.path, ws.con = None, con
        return ws

    def tables(self) -> list[str]:
        """Canonical tables present, in data-model order."""
        present = set(self.con.list_tables())
        return [t for t in TABLES if t in present]

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the workspace holds ``table`` (and, when given, its ``column``)."""
        if table not in self.tables():
            return False
        return column is None or column in self.con.table(table).columns

    def table(self, name: str):
        """An Ibis table expression; a clear error when the table is not in the workspace."""
        if name not in self.tables():
            raise WorkspaceError(
                f"the workspace has no table {name!r} (it has: {', '.join(self.tables()) or 'none'})",
                table=name,
                fix="load it with `omnimodel ingest`, or skip the analysis that needs it",
            )
        return self.con.table(name)

    def require_value(self, parameter: str, value, *places: str) -> None:
        """Stop with a clear error when a filter parameter (a segment, region or channel) names a value that
        none of ``places`` ("table.column") holds: a filter that matches nothing would give an empty report
        marked OK. None (no filter) always passes."""
        if value is None:
            return
        import difflib

        from omnimodel.exceptions import ParameterError

        found: set[str] = set()
        for place in places:
            table, column = place.split(".")
            if self.has(table, column):
                t = self.con.table(table)
                found |= {str(v) for v in t.select(t[column]).distinct().to_pandas()[column].dropna()}
        if str(value) in found:
            return
        where = " or ".join(places)
        if not found:
            raise ParameterError(
                f"{parameter}={value!r}, but the data has no {where}",
                fix=f"leave {parameter} out (None), or load data with that column",
            )
        close = difflib.get_close_matches(str(value), sorted(found), n=1, cutoff=0.6)
        shown = ", ".join(sorted(found)[:12]) + (", ..." if len(found) > 12 else "")
        raise ParameterError(
            f"{parameter}={value!r} matches nothing in {where}"
            + (f"; did you mean {close[0]!r}?" if close else ""),
            fix=f"use one of {shown}, or None for all",
        )

    def channels(self) -> list[str]:
        """Every channel the data names (orders, touchpoints, deals' source channels), sorted.

        Charts give each its own colour from this list, so a channel looks the same in every report.
        """
        names: set[str] = set()
        for table, column in (
            ("orders", "channel"),
            ("touchpoints", "channel"),
            ("opportunities", "source_channel"),
        ):
            if self.has(table, column):
                t = self.table(table)
                values = t.select(t[column]).distinct().execute()[column]
                names.update(str(v) for v in values.dropna())
        return sorted(names)

    def currency(self) -> str | None:
        """The currency of the workspace's amounts (ISO 4217), as ingest recorded it; None when unknown."""
        return self.meta().get("currency")

    def meta(self) -> dict:
        """What built this workspace: source, adapter, quirks handled, time, package version."""
        if self.path is None or META_TABLE not in self.con.list_tables():
            return {}
        rows = self.con.table(META_TABLE).execute()
        return {k: json.loads(v) for k, v in zip(rows["key"], rows["value"], strict=True)}

    def truth(self) -> dict | None:
        """The planted truth of a demo workspace (None for real data)."""
        return self.meta().get("truth")

    def fingerprint(self) -> str:
        """sha256 of the workspace file: identifies exactly which data a report was built from."""
        if self.path is None:
            return "backend:" + type(self.con).__module__
        return file_fingerprint(self.path)

    def close(self) -> None:
        """Release the engine connection."""
        with contextlib.suppress(Exception):
            self.con.disconnect()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r}, tables={self.tables()})"


def file_fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def write_workspace(
    path: str | os.PathLike, tables: dict[str, pd.DataFrame], meta: dict | None = None
) -> Path:
    """Write canonical tables to a DuckDB workspace file atomically.

    Known columns are cast to their canonical SQL type; extra columns are kept as they are. The file appears
    at ``path`` only when complete; on any error the temporary file is removed and ``path`` is untouched.
    """
    import duckdb

    from omnimodel.data.validation import coerce
    from omnimodel.version import __version__

    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
        try:
            for name, frame in tables.items():
                typed = coerce(name, frame) if name in TABLES else frame
                con.register("_incoming", typed)
                cols = []
                for col in typed.columns:
                    spec = (
                        TABLES[name].column(col)
                        if name in TABLES and col in TABLES[name].column_names
                        else None
                    )
                    q = '"' + str(col).replace('"', '""') + '"'
                    cols.append(f"CAST({q} AS {SQL_TYPES[spec.dtype]}) AS {q}" if spec else q)
                con.execute(f'CREATE TABLE "{name}" AS SELECT {", ".join(cols)} FROM _incoming')
                con.unregister("_incoming")
            info = {
                "version": __version__,
                "created_at": pd.Timestamp.now(tz="UTC").isoformat(),
                **(meta or {}),
            }
            con.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR, value VARCHAR)")
            con.executemany(
                f"INSERT INTO {META_TABLE} VALUES (?, ?)",
                [(k, json.dumps(v, default=str)) for k, v in info.items()],
            )
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise
    return path


def _remove_stale_temporaries(path: Path) -> None:
    """Temporary files a killed write left beside ``path`` (``.NAME.tmp-PID`` and its ``.wal``) whose process is
    gone: removed, so a SIGKILL leaves nothing behind for long."""
    for tmp in path.parent.glob(f".{path.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1].removesuffix(".wal")
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            tmp.unlink(missing_ok=True)
        except PermissionError:
            pass  # another user's live process


def copy_workspace(ws: Workspace, con, tables: list[str] | None = None) -> Workspace:
    """Copy canonical tables into another Ibis backend (e.g. a Spark session) and return it as a Workspace.

    Meant for moving a workspace that fits in memory; larger data is ingested on the target engine directly.

    Examples
    --------
    >>> import ibis  # doctest: +SKIP
    >>> spark_ws = copy_workspace(Workspace("data/demo.duckdb"), ibis.pyspark.connect(session))  # doctest: +SKIP
    """
    for name in tables or ws.tables():
        con.create_table(name, ws.table(name).to_pyarrow(), overwrite=True)
    return Workspace.from_backend(con)
