"""The canonical adapter: a folder with one CSV or Parquet file per canonical table (``orders.csv``, ...).

The simplest way to bring your own data: export each table with the column names of docs/data-model.md.
Files whose name is not a canonical table are reported, not silently ignored.
"""

from __future__ import annotations

from pathlib import Path

from omnimodel.data.adapters import LoadedData
from omnimodel.data.readers import read_table_file
from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError


def load(source: Path) -> LoadedData:
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
    return LoadedData(tables, quirks)


def load_workspace(source: Path) -> LoadedData:
    """Read every canonical table of an existing workspace back (to validate it again)."""
    from omnimodel.data.workspace import Workspace

    with Workspace(source) as ws:
        tables = {name: ws.table(name).execute() for name in ws.tables()}
    return LoadedData(tables, [])
