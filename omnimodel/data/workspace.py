"""The workspace: where canonical tables live, and the engine that queries them.

By default a DuckDB file (``data/demo.duckdb`` for the demo company). Queries are written once with Ibis and
run unchanged on any Ibis backend: a workspace can equally be a Spark cluster (``sc://host:15002``), a local
Spark or a warehouse, named by a URL or a block (:mod:`omnimodel.data.engines`), or any Ibis connection
wrapped with :meth:`Workspace.from_backend`.

A DuckDB workspace is written in one go into a temporary file that is renamed into place only when complete, so
a failed or interrupted build never leaves a half-built workspace behind and never touches an existing one. On
another engine the tables are written under temporary names and swapped in only once all of them are written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from omnimodel.data import engines
from omnimodel.data.schema import TABLES
from omnimodel.exceptions import WorkspaceError

if TYPE_CHECKING:
    import ibis

META_TABLE = "_omnimodel_meta"
SQL_TYPES = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


#: workspaces open on an engine, closed by :func:`close_engines` when a command ends
_ENGINES: weakref.WeakSet = weakref.WeakSet()


def close_engines() -> None:
    """Close every engine workspace still open (its Spark Connect session ends while the server still answers,
    not at interpreter exit); the CLI calls it when a command ends."""
    for ws in list(_ENGINES):
        ws.close()


class Workspace:
    """Read access to the canonical tables of one workspace.

    Parameters
    ----------
    where : str, Path, dict or Location
        A DuckDB workspace file built by ``omnimodel demo`` or ``omnimodel ingest``, or an engine's URL or block
        (``sc://host:15002``, ``{"backend": "spark", "url": ..., "database": ...}``; see
        :mod:`omnimodel.data.engines`) that ``omnimodel ingest`` or ``omnimodel demo`` wrote to.

    Examples
    --------
    >>> ws = Workspace("data/demo.duckdb")  # doctest: +SKIP
    >>> ws.table("orders").count().execute()  # doctest: +SKIP
    >>> Workspace("sc://spark-host:15002").tables()  # doctest: +SKIP
    """

    def __init__(self, where: str | os.PathLike | dict | engines.Location):
        self.location = engines.parse(where)
        self.path: Path | None = self.location.path
        self.database: str | None = self.location.database
        if self.path is not None and not self.path.exists():
            raise WorkspaceError(
                f"no workspace at {self.path}",
                fix="build the demo with `omnimodel demo` or load your data with `omnimodel ingest`",
            )
        try:
            self.con = engines.connect(self.location)
        except WorkspaceError:
            raise
        except Exception as exc:  # a corrupt or foreign file
            raise WorkspaceError(
                f"cannot open {self.path} as a DuckDB workspace: {exc}",
                fix="rebuild it with `omnimodel demo` or `omnimodel ingest`",
            ) from exc
        if self.path is None:
            _ENGINES.add(self)
        if self.path is None and META_TABLE not in self._names():
            self.close()
            raise WorkspaceError(
                f"no omnimodel workspace at {self.name}",
                fix=f"load your data into it with `omnimodel ingest SOURCE --workspace '{self.name.split(' ')[0]}'` "
                "(or `omnimodel demo --workspace ...`)",
            )

    @classmethod
    def from_backend(cls, con: Any, database: str | None = None) -> Workspace:
        """Wrap any Ibis backend connection (PySpark, Postgres, Snowflake, ...) that holds canonical tables."""
        ws = cls.__new__(cls)
        ws.location = engines.Location("ibis", backend=type(con).__module__.split(".")[-1], database=database)
        ws.path, ws.con, ws.database = None, con, database
        return ws

    @property
    def name(self) -> str:
        """The workspace as shown and as the forecast ledger keys it: a file's path, an engine's URL."""
        return self.location.name

    def _names(self) -> list[str]:
        try:
            return self.con.list_tables(database=self.database) if self.database else self.con.list_tables()
        except Exception:  # the database does not exist (yet)
            return []

    def tables(self) -> list[str]:
        """Canonical tables present, in data-model order."""
        present = set(self._names())
        return [t for t in TABLES if t in present]

    def has(self, table: str, column: str | None = None) -> bool:
        """Whether the workspace holds ``table`` (and, when given, its ``column``)."""
        if table not in self.tables():
            return False
        return column is None or column in self.table(table).columns

    def table(self, name: str) -> ibis.Table:
        """An Ibis table expression; a clear error when the table is not in the workspace."""
        if name not in self.tables():
            raise WorkspaceError(
                f"the workspace has no table {name!r} (it has: {', '.join(self.tables()) or 'none'})",
                table=name,
                fix="load it with `omnimodel ingest`, or skip the analysis that needs it",
            )
        return self.con.table(name, database=self.database) if self.database else self.con.table(name)

    def require_value(self, parameter: str, value: str | None, *places: str) -> None:
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
                t = self.table(table)
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
        if META_TABLE not in self._names():
            return {}
        meta = (
            self.con.table(META_TABLE, database=self.database)
            if self.database
            else self.con.table(META_TABLE)
        )
        rows = meta.execute()
        return {k: json.loads(v) for k, v in zip(rows["key"], rows["value"], strict=True)}

    def truth(self) -> dict | None:
        """The planted truth of a demo workspace (None for real data)."""
        return self.meta().get("truth")

    def fingerprint(self) -> str:
        """sha256 of the workspace file: identifies exactly which data a report was built from. On another
        engine (no file to hash), sha256 of what wrote the workspace (its meta, with the time) and every
        table's row count: a new ingest or an added row changes it."""
        if self.path is None:
            counts = {t: int(self.table(t).count().execute()) for t in self.tables()}
            digest = hashlib.sha256(json.dumps([self.name, self.meta(), counts], default=str).encode())
            return "sha256:" + digest.hexdigest()
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
        return f"Workspace({self.name!r}, tables={self.tables()})"


def file_fingerprint(path: Path) -> str:
    """sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def write_workspace(
    where: str | os.PathLike | dict | engines.Location,
    tables: dict[str, pd.DataFrame],
    meta: dict | None = None,
) -> Path | str:
    """Write canonical tables to a workspace: a DuckDB file (atomically) or an engine (a URL or block).

    Known columns are cast to their canonical SQL type; extra columns are kept as they are. A file appears at
    ``where`` only when complete; on any error the temporary file is removed and ``where`` is untouched. On an
    engine, see :func:`_write_engine`. Returns the file's path, or the engine's name.
    """
    if isinstance(where, (str, os.PathLike)) and "://" not in str(where):
        return _write_file(Path(where).resolve(), tables, meta)
    location = engines.parse(where)
    if location.kind == "duckdb":
        assert location.path is not None
        return _write_file(location.path, tables, meta)
    return _write_engine(location, tables, meta)


def _fill(con, tables: dict[str, pd.DataFrame], meta: dict | None) -> None:
    """Create the tables, typed, and the meta table in a DuckDB connection."""
    from omnimodel.data.cells import coerce

    for name, frame in tables.items():
        typed = coerce(name, frame) if name in TABLES else frame
        con.register("_incoming", typed)
        cols = []
        for col in typed.columns:
            spec = TABLES[name].column(col) if name in TABLES and col in TABLES[name].column_names else None
            q = '"' + str(col).replace('"', '""') + '"'
            cols.append(f"CAST({q} AS {SQL_TYPES[spec.dtype]}) AS {q}" if spec else q)
        con.execute(f'CREATE TABLE "{name}" AS SELECT {", ".join(cols)} FROM _incoming')
        con.unregister("_incoming")
    con.execute(f"CREATE TABLE {META_TABLE} (key VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {META_TABLE} VALUES (?, ?)", meta_rows(meta))


def meta_rows(meta: dict | None) -> list[tuple[str, str]]:
    """The meta table's rows: what omnimodel wrote the workspace with, when, and from what (JSON values)."""
    from omnimodel.version import __version__

    info = {"version": __version__, "created_at": pd.Timestamp.now(tz="UTC").isoformat(), **(meta or {})}
    return [(k, json.dumps(v, default=str)) for k, v in info.items()]


def _write_file(path: Path, tables: dict[str, pd.DataFrame], meta: dict | None) -> Path:
    import duckdb

    def fill(tmp: Path) -> None:
        con = duckdb.connect(str(tmp))
        try:
            _fill(con, tables, meta)
            con.execute("CHECKPOINT")
        finally:
            con.close()

    return atomic_file(path, fill)


def check_replaceable(path: Path) -> None:
    """Only a workspace is ever replaced: an existing file at ``path`` that is not one (a source export, a
    workbook, another program's database) is refused, named, before anything is read or written."""
    if not path.exists():
        return
    if path.is_dir():
        raise WorkspaceError(
            f"{path} is a folder, not a workspace file",
            fix="give --workspace a file path such as data/shop.duckdb",
        )
    with path.open("rb") as f:
        head = f.read(12)
    ours = head[8:12] == b"DUCK"  # DuckDB's magic bytes
    if ours:
        import duckdb

        try:
            con = duckdb.connect(str(path), read_only=True)
        except Exception:  # a damaged or busy workspace file: rebuilding it is what the user asks
            return
        try:
            ours = META_TABLE in {
                r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
        finally:
            con.close()
    if not ours:
        raise WorkspaceError(
            f"{path} exists and is not an omnimodel workspace: nothing was written (it would have been replaced)",
            fix="give --workspace a new path such as data/shop.duckdb, or move that file away first",
        )


def atomic_file(path: Path, fill: Callable[[Path], Any]) -> Path:
    """Write a DuckDB file whole or not at all: ``fill(tmp)`` writes a temporary file beside ``path``, which
    replaces ``path`` only when ``fill`` returns; on any error it is removed and ``path`` is untouched. An
    existing file that is not a workspace is never replaced (:func:`check_replaceable`)."""
    check_replaceable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        fill(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise
    return path


#: tables are written under this prefix first and renamed once every one of them is written
STAGING = "_omnimodel_new_"


def _write_engine(location: engines.Location, tables: dict[str, pd.DataFrame], meta: dict | None) -> str:
    """Write the tables to an engine as its own tables (managed Parquet tables on Spark), typed as in a DuckDB
    workspace (see :func:`swap_in`)."""
    import duckdb

    typed = duckdb.connect()  # the canonical types, as a DuckDB workspace has them
    try:
        _fill(typed, tables, meta)
        con = engines.connect(location, read_only=False)
        arrow = {name: typed.execute(f'SELECT * FROM "{name}"').fetch_arrow_table() for name in tables}
        swap_in(con, location.database, arrow, meta)
    finally:
        typed.close()
    return location.name


def swap_in(con: Any, database: str | None, tables: dict, meta: dict | None) -> None:
    """Write tables (Arrow tables or Ibis expressions the engine computes) and the meta table to an engine.
    Each goes under a temporary name first; only when all are written do they replace the workspace's tables,
    so a failed write leaves the earlier workspace as it was (they are swapped one by one at the end, not in one
    transaction: a reader in those seconds may see old and new tables)."""
    db = database
    qualified = (lambda t: f"{db}.{t}") if db else (lambda t: t)  # noqa: E731
    listed = lambda: con.list_tables(database=db) if db else con.list_tables()  # noqa: E731
    info = pd.DataFrame(meta_rows(meta), columns=["key", "value"])
    names = [*tables, META_TABLE]
    try:
        if db:
            con.create_database(db, force=True)
        for name, data in [*tables.items(), (META_TABLE, info)]:
            con.create_table(STAGING + name, data, database=db, overwrite=True)
        for name in [t for t in listed() if t in TABLES or t == META_TABLE]:
            con.drop_table(name, database=db, force=True)  # the earlier workspace's tables, all replaced
        for name in names:
            con.rename_table(qualified(STAGING + name), qualified(name))
    finally:
        for t in [t for t in listed() if t.startswith(STAGING)]:
            con.drop_table(t, database=db, force=True)


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


def copy_workspace(ws: Workspace, con: Any, tables: list[str] | None = None) -> Workspace:
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
