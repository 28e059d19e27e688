"""The canonical adapter: a folder with one CSV or Parquet file per canonical table (``orders.csv``, ...).

The simplest way to bring your own data: export each table with the column names of docs/data-model.md.
Files whose name is not a canonical table are reported, not silently ignored. An optional ``funnel.yaml``
(``stages: [lead, qualified, proposal]``, open stages in order) turns on the stage checks.
"""

from __future__ import annotations

from pathlib import Path

from omnimodel.config import FunnelDefinition, load_funnel
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
    funnel = _funnel(source / "funnel.yaml")
    return LoadedData(
        tables,
        quirks,
        stages=funnel.stage_names if funnel else None,
        funnel=funnel.to_dict() if funnel else None,
    )


def _funnel(path: Path) -> FunnelDefinition | None:
    """The optional ``funnel.yaml``: open stages in order (``stages: [lead, qualified, ...]``, or phases with
    criteria and CRM probabilities as in ``omnimodel/funnel/definitions/demo.yaml``)."""
    return load_funnel(path) if path.exists() else None


def load_workspace(source: Path) -> LoadedData:
    """Read every canonical table of an existing workspace back (to validate it again)."""
    from omnimodel.data.workspace import Workspace

    with Workspace(source) as ws:
        tables = {name: ws.table(name).execute() for name in ws.tables()}
    return LoadedData(tables, [])
