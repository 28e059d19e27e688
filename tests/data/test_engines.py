"""Naming a workspace: a file, an engine's URL or a block, each parsed to where it points; an unreachable
engine is a clear error, not minutes of retries."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from omnimodel import Workspace
from omnimodel.data.engines import DEFAULT_DATABASE, parse
from omnimodel.exceptions import ConfigError, WorkspaceError


def test_a_path_is_a_duckdb_file(tmp_path):
    loc = parse(tmp_path / "shop.duckdb")
    assert loc.kind == "duckdb" and loc.path == tmp_path / "shop.duckdb" and loc.name == str(loc.path)
    assert parse(f"duckdb://{tmp_path}/shop.duckdb").path == tmp_path / "shop.duckdb"
    assert parse({"backend": "duckdb", "path": str(tmp_path / "a.duckdb")}).path == tmp_path / "a.duckdb"


def test_spark_connect_urls_and_blocks():
    loc = parse("sc://spark-host:15002")
    assert (loc.kind, loc.url, loc.database) == ("spark", "sc://spark-host:15002", DEFAULT_DATABASE)
    named = parse("sc://spark-host:15002/;database=sales")
    assert (named.url, named.database) == ("sc://spark-host:15002/", "sales")
    block = parse({"backend": "spark", "url": "sc://10.0.0.5:15002", "database": "crm"})
    assert (block.kind, block.url, block.database) == ("spark", "sc://10.0.0.5:15002", "crm")
    assert block.name == "sc://10.0.0.5:15002 (database crm)"
    with pytest.raises(ConfigError, match="url"):
        parse({"backend": "spark"})
    with pytest.raises(ConfigError, match="backend"):
        parse({"database": "x"})


def test_other_engines_go_to_ibis_and_passwords_are_not_shown():
    loc = parse("postgres://ana:s3cret@db.example:5432/sales")
    assert loc.kind == "ibis" and loc.backend == "postgres"
    assert "s3cret" not in loc.name and "ana:***@db.example" in loc.name
    assert parse({"url": "postgres://ana@db/sales"}).kind == "ibis"  # a URL block without a backend key
    block = parse({"backend": "postgres", "host": "db", "user": "ana", "database": "sales"})
    assert (
        block.kind == "ibis" and block.settings == {"host": "db", "user": "ana"} and block.database == "sales"
    )


def test_an_unreachable_spark_server_is_a_clear_error_at_once():
    pytest.importorskip("pyspark.sql.connect.session", reason="needs the spark extra")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(WorkspaceError, match=f"no Spark Connect server answers at 127.0.0.1:{port}"):
        Workspace(f"sc://127.0.0.1:{port}")
    assert time.monotonic() - start < 30


def test_a_missing_file_workspace_still_says_how_to_build_one(tmp_path):
    with pytest.raises(WorkspaceError, match="no workspace at"):
        Workspace(Path(tmp_path) / "nothing.duckdb")
