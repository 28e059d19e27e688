"""The canonical adapter: a folder with one CSV or Parquet file per canonical table (``orders.csv``, ...).

The simplest way to bring your own data: export each table with the column names of docs/data-model.md.
Where the exports have other file names, columns, date formats or value names, a ``mapping.yaml`` in the folder
(or ``--mapping FILE``) translates them (:mod:`omnimodel.ingest.mapping`). Files that are neither a canonical
table nor in the mapping are reported, not silently ignored. An optional ``funnel.yaml``
(``stages: [lead, qualified, proposal]``, open stages in order) turns on the stage checks.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from omnimodel.data.schema import TABLES, UNCATEGORISED
from omnimodel.exceptions import OmnimodelError
from omnimodel.funnel.definition import FunnelDefinition, load_funnel
from omnimodel.ingest import stage_history
from omnimodel.ingest.adapters import LoadedData
from omnimodel.ingest.mapping import Mapping, TableMapping, channels_frame, load_mapping, read_mapped
from omnimodel.ingest.readers import read_table_file


def load(source: Path, encoding: str | None = None, mapping: str | Path | None = None) -> LoadedData:
    """Read a folder with one file per canonical table (CSV, Parquet or Excel) and an optional ``funnel.yaml``.

    ``mapping`` (default: the folder's ``mapping.yaml`` if there is one) says which file feeds which table and
    how; ``encoding`` is the text encoding of files the mapping does not give one for (default UTF-8).
    """
    plan = plan_for(source, mapping)
    default_encoding = encoding or (plan.encoding if plan else "utf-8")
    files, quirks = table_files(source, plan)
    tables: dict = {}
    order = list(TABLES)
    for name, (path, spec) in sorted(files.items(), key=lambda item: order.index(item[0])):
        if plan is not None and spec is not None:  # in the schema's order: order lines before returns
            tables[name], notes = read_mapped(source, spec, plan, default_encoding, tables)
            quirks += notes
        else:
            required = TABLES[name].required_columns
            tables[name] = read_table_file(path, encoding=default_encoding, required=required)
    declared = channels_frame(plan) if plan else None
    if declared is not None:
        tables["channels"] = declared
    funnel = read_funnel(source / "funnel.yaml")
    if "order_lines" in tables and "products" not in tables and "product_id" in tables["order_lines"]:
        # the analyses join lines to products: an export without a product list gets one, without categories
        ids = tables["order_lines"]["product_id"].dropna().drop_duplicates()
        tables["products"] = pd.DataFrame({"product_id": ids, "category": UNCATEGORISED}, dtype="string")
        quirks.append(
            f"no products table: the {len(ids):,} products of the order lines listed without categories "
            f"('{UNCATEGORISED}'); export the product list with its categories for the assortment analyses"
        )
    if "opportunities" in tables and "stage_events" not in tables:  # an opportunity list: one open phase
        tables["stage_events"] = stage_history.closing_events(tables["opportunities"])
        quirks.append(stage_history.QUIRK + (" (funnel.yaml's stages need the history)" if funnel else ""))
        return LoadedData(tables, quirks, funnel=stage_history.FUNNEL, origins=origins(plan))
    return LoadedData(
        tables,
        quirks,
        stages=funnel.stage_names if funnel else None,
        funnel=funnel.to_dict() if funnel else None,
        origins=origins(plan),
    )


def plan_for(source: Path, mapping: str | Path | None) -> Mapping | None:
    """The mapping to read ``source`` with: the one given, else the folder's ``mapping.yaml``, else none."""
    if not source.is_dir():
        raise OmnimodelError(
            f"{source} is not a folder",
            fix="pass a folder with one file per table, e.g. customers.csv, orders.csv, order_lines.csv",
        )
    if mapping is None and (source / "mapping.yaml").exists():
        mapping = source / "mapping.yaml"
    return load_mapping(mapping) if mapping is not None else None


def table_files(
    source: Path, plan: Mapping | None
) -> tuple[dict[str, tuple[Path, TableMapping | None]], list[str]]:
    """Which file feeds which canonical table (with its mapping, where one says how), and notes on the files
    left out. A file named almost like a table, a table given twice, or no table at all is an error."""
    files: dict[str, tuple[Path, TableMapping | None]] = {}
    quirks = [f"mapping from {plan.path}"] if plan else []
    for spec in plan.tables.values() if plan else ():
        files[spec.table] = (source / spec.file, spec)
    for path in sorted(source.iterdir()):
        if path.suffix.lower() not in (".csv", ".parquet", ".pq", ".xlsx", ".xlsm", ".xls"):
            continue
        if plan and path.name in plan.files:
            continue
        if path.stem not in TABLES:
            close = difflib.get_close_matches(path.stem.lower().replace("-", "_"), TABLES, n=1, cutoff=0.8)
            if close:  # orderlines.csv: a table the user meant to give, not an extra file
                raise OmnimodelError(
                    f"{path.name} is not a canonical table name; did you mean {close[0]}?",
                    table=close[0],
                    fix=f"rename it {close[0]}{path.suffix}, or name it under `tables:` in a mapping.yaml",
                )
            quirks.append(f"{path.name}: not a canonical table name nor in a mapping, not loaded")
            continue
        if path.stem in files:
            given = files[path.stem][0].name + (" (in the mapping)" if files[path.stem][1] else "")
            raise OmnimodelError(
                f"{path.stem} is given twice: {given} and {path.name}",
                table=path.stem,
                fix="keep one of them (omnimodel does not guess which one is current)",
            )
        files[path.stem] = (path, None)
    if plan and plan.channels and "channels" in files:
        raise OmnimodelError(
            "channels are declared both in the mapping and as a file",
            table="channels",
            fix="keep one of them",
        )
    if not files and not (plan and plan.channels):
        raise OmnimodelError(
            f"no table files in {source}", fix=f"name files after the canonical tables: {', '.join(TABLES)}"
        )
    return files, quirks


def origins(plan: Mapping | None) -> dict[str, str]:
    """Where each mapped column came from ("table.column" -> the export's column), named in problems."""
    columns: dict[str, str] = {}
    for spec in plan.tables.values() if plan else ():
        columns |= {f"{spec.table}.{c}": f"{spec.file} column {s}" for c, s in spec.columns.items()}
        columns |= {f"{spec.table}.{c}": f"{spec.file} columns {' + '.join(s)}" for c, s in spec.keys.items()}
    return columns


def read_funnel(path: Path) -> FunnelDefinition | None:
    """The optional ``funnel.yaml``: open stages in order (``stages: [lead, qualified, ...]``, or phases with
    criteria and CRM probabilities as in ``omnimodel/funnel/definitions/demo.yaml``)."""
    return load_funnel(path) if path.exists() else None


def load_workspace(source: Path) -> LoadedData:
    """Read every canonical table of an existing workspace back (to validate it again)."""
    from omnimodel.data.workspace import Workspace

    with Workspace(source) as ws:
        tables = {name: ws.table(name).execute() for name in ws.tables()}
    return LoadedData(tables, [])
