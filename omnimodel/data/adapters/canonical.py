"""The canonical adapter: a folder with one CSV or Parquet file per canonical table (``orders.csv``, ...).

The simplest way to bring your own data: export each table with the column names of docs/data-model.md.
Files whose name is not a canonical table are reported, not silently ignored. An optional ``funnel.yaml``
(``stages: [lead, qualified, proposal]``, open stages in order) turns on the stage checks.
"""

from __future__ import annotations

from pathlib import Path

from omnimodel.data.adapters import LoadedData
from omnimodel.data.readers import read_table_file
from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError


def load(source: Path) -> LoadedData:
    """Read a folder with one file per canonical table (CSV or Parquet) and an optional ``funnel.yaml``."""
    if not source.is_dir():
        raise OmnimodelError(
            f"{source} is not a folder",
            fix="pass a folder with one file per table, e.g. customers.csv, orders.csv, order_lines.csv",
        )
    tables, quirks = {}, []
    for path in sorted(source.iterdir()):
        if path.suffix.lower() not in (".csv", ".parquet", ".pq"):
            continue
        if path.stem not in TABLES:
            quirks.append(f"{path.name}: not a canonical table name, not loaded")
            continue
        tables[path.stem] = read_table_file(path)
    if not tables:
        raise OmnimodelError(
            f"no table files in {source}", fix=f"name files after the canonical tables: {', '.join(TABLES)}"
        )
    return LoadedData(tables, quirks, stages=_funnel_stages(source / "funnel.yaml"))


def _funnel_stages(path: Path) -> list[str] | None:
    """Open stages in order from an optional ``funnel.yaml`` (``stages: [lead, qualified, ...]``)."""
    if not path.exists():
        return None
    import yaml

    from omnimodel.exceptions import ConfigError

    raw = yaml.safe_load(path.read_text()) or {}
    stages = raw.get("stages") if isinstance(raw, dict) else None
    if not isinstance(stages, list) or not stages:
        raise ConfigError(
            f"{path} needs a list `stages:` of open stages in order", fix="e.g. stages: [lead, won]"
        )
    return [s["name"] if isinstance(s, dict) else str(s) for s in stages]


def load_workspace(source: Path) -> LoadedData:
    """Read every canonical table of an existing workspace back (to validate it again)."""
    from omnimodel.data.workspace import Workspace

    with Workspace(source) as ws:
        tables = {name: ws.table(name).execute() for name in ws.tables()}
    return LoadedData(tables, [])
