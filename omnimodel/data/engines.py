"""Where a workspace lives: a DuckDB file (the default) or any engine Ibis reaches, named by a URL or a block.

Accepted wherever a workspace is (the CLI's ``--workspace``, ``workspace:`` in reports.yaml, the notebooks'
``workspace`` parameter, :class:`~omnimodel.data.workspace.Workspace`):

- a DuckDB file: ``data/demo.duckdb`` (or ``duckdb:///abs/path.duckdb``);
- Spark Connect: ``sc://host:15002`` (a Spark cluster's Connect server; ``pip install 'omnimodel[spark]'``),
  the tables in the database ``omnimodel`` unless ``;database=NAME`` ends the URL;
- any other Ibis URL: ``postgres://user@host:5432/dbname``, ``trino://...``, ``snowflake://...`` (with that
  backend's Ibis extra installed);
- a block (a mapping, in reports.yaml or a notebook parameter)::

      workspace:
        backend: spark            # spark (Spark Connect), duckdb, or any Ibis backend
        url: sc://127.0.0.1:15002
        database: omnimodel       # the database (Spark) or schema the canonical tables are in

  Other keys go to the backend's ``ibis.<backend>.connect`` (host, user, password, ...).

Analyses query through Ibis, so the engine does the row-level work; models see aggregates only.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from omnimodel.environment import resolve_path
from omnimodel.exceptions import ConfigError, WorkspaceError

#: the database (Spark) the canonical tables go in when none is named
DEFAULT_DATABASE = "omnimodel"


@dataclass(frozen=True)
class Location:
    """A parsed workspace location: ``kind`` is duckdb (a file), spark (Spark Connect), or ibis (any other)."""

    kind: str
    path: Path | None = None
    url: str | None = None
    database: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    backend: str | None = None

    @property
    def name(self) -> str:
        """How the location is shown and keyed (a file's path; a URL without its password)."""
        if self.kind == "duckdb":
            return str(self.path)
        shown = (
            _without_password(self.url) if self.url else f"{self.backend}://{self.settings.get('host', '')}"
        )
        return shown + (f" (database {self.database})" if self.database else "")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def parse(spec: str | os.PathLike | dict | Location) -> Location:
    """A workspace location from a path, a URL or a block (see the module's description)."""
    if isinstance(spec, Location):
        return spec
    if isinstance(spec, dict):
        return _from_block(spec)
    text = str(spec).strip()
    if "://" not in text:
        return Location("duckdb", path=resolve_path(text))
    scheme = text.split("://", 1)[0].lower()
    if scheme == "duckdb":
        return Location("duckdb", path=resolve_path(text.split("://", 1)[1] or "."))
    if scheme == "sc":
        url, database = _split_database(text)
        return Location("spark", url=url, database=database or DEFAULT_DATABASE, backend="pyspark")
    return Location("ibis", url=text, backend=scheme)


def _split_database(url: str) -> tuple[str, str | None]:
    """A Spark Connect URL without its ``;database=NAME`` parameter, and the name."""
    match = re.search(r";database=([A-Za-z0-9_]+)", url)
    if not match:
        return url, None
    return url[: match.start()] + url[match.end() :], match.group(1)


def _from_block(block: dict) -> Location:
    settings = dict(block)
    backend = str(settings.pop("backend", "")).lower()
    url = settings.pop("url", None)
    database = settings.pop("database", None) or settings.pop("schema", None)
    if not backend and not url:
        raise ConfigError(
            "a workspace block needs `backend:` or `url:`",
            fix="write e.g. {backend: spark, url: 'sc://host:15002', database: omnimodel}",
        )
    file_url = url is None or "://" not in str(url) or str(url).startswith("duckdb://")
    if backend in ("", "duckdb") and file_url:
        path = settings.pop("path", None) or url
        if backend == "duckdb" or path:
            return Location("duckdb", path=resolve_path(str(path).removeprefix("duckdb://")))
    if backend == "spark" or (url and str(url).startswith("sc://")):
        if not url:
            raise ConfigError("a spark workspace block needs `url: sc://host:port`", fix="add the url")
        url, named = _split_database(str(url))
        return Location("spark", url=url, database=database or named or DEFAULT_DATABASE, backend="pyspark")
    return Location("ibis", url=url, database=database, settings=settings, backend=backend or None)


def connect(location: Location, read_only: bool = True) -> Any:
    """An Ibis connection to the location (a DuckDB file opens read-only unless writing)."""
    import ibis

    if location.kind == "duckdb":
        assert location.path is not None
        return ibis.duckdb.connect(str(location.path), read_only=read_only)
    try:
        if location.kind == "spark":
            return ibis.pyspark.connect(spark_session(location.url or ""))
        if location.url:
            return ibis.connect(location.url, **location.settings)
        return getattr(ibis, location.backend or "").connect(**location.settings)
    except WorkspaceError:
        raise
    except ImportError as exc:
        extra = "spark" if location.backend == "pyspark" else location.backend
        raise WorkspaceError(
            f"cannot reach {location.name}: {exc}",
            fix=f"install the engine's client: pip install 'omnimodel[{extra}]'"
            if extra == "spark"
            else f"install the engine's Ibis extra: pip install 'ibis-framework[{extra}]'",
        ) from exc
    except Exception as exc:  # the engine is down, refused the credentials, ...
        raise WorkspaceError(
            f"cannot reach {location.name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            fix="check the URL and that the engine is running and reachable from here",
        ) from exc


def spark_session(url: str) -> Any:
    """A Spark Connect session to ``url`` (``sc://host:port``): a thin gRPC client, the work runs there."""
    import socket

    from pyspark.sql import SparkSession

    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 15002
    try:  # the client would retry an unreachable server for minutes: say it at once
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise WorkspaceError(
            f"no Spark Connect server answers at {host}:{port} ({exc.strerror or exc})",
            fix="start the cluster's Spark Connect server (sbin/start-connect-server.sh) or fix the URL",
        ) from exc

    # Ibis passes verifySchema when it uploads a small frame; Spark Connect warns that it ignores it, which
    # would show in a report: nothing for a reader to act on
    warnings.filterwarnings("ignore", message=".*verifySchema.*", category=UserWarning)
    session = SparkSession.builder.remote(url).getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")  # dates stay the dates the exports said
    return session
