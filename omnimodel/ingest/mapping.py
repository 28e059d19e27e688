"""A mapping file: which export file feeds which canonical table, and how its columns and values translate.

Exports rarely come with the canonical names. A ``mapping.yaml`` in the export folder (or given with
``--mapping``) says, per canonical table, which file (CSV, Parquet or Excel) to read, its encoding and
separator, column renames, explicit date formats (never guessed), decimal commas, value maps (channel or stage
names, country names to ISO codes) and keys made of several columns (an order number that repeats across
customers). ``omnimodel map --suggest FOLDER`` writes a first version to edit
(:mod:`omnimodel.ingest.suggest`).

.. code-block:: yaml

    encoding: cp1252            # of every file, unless a table says otherwise
    tables:
      orders:
        file: Bestellungen.csv
        separator: ";"
        columns: {order_date: Datum, channel: Kanal, country: Land}   # canonical: yours
        keys: {order_id: [BestellNr, KundenNr]}                        # joined with "-"
        dates: {order_date: "%d.%m.%Y"}
        values: {country: {Deutschland: DE, Österreich: AT}}
        decimal: ","
    channels: {Online-Shop: online, Filiale: offline, Telefon: assisted}

Columns not named in the mapping are kept only where their name is already canonical; the others are left out
(and listed), so a column the data model does not know (a phone number under another name) never slips in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from omnimodel.config import read_yaml
from omnimodel.data.schema import CHANNEL_KINDS, TABLES
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.ingest.readers import read_table_file

_TABLE_KEYS = {"file", "sheet", "encoding", "separator", "columns", "keys", "dates", "values", "decimal"}


@dataclass
class TableMapping:
    """How one canonical table is read from one export file."""

    table: str
    file: str
    sheet: str | None = None
    encoding: str | None = None
    separator: str = ","
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column
    keys: dict[str, list[str]] = field(default_factory=dict)  # canonical -> source columns joined by "-"
    dates: dict[str, str] = field(default_factory=dict)  # canonical -> strftime format
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical -> {yours: canonical}
    decimal: str = "."


@dataclass
class Mapping:
    """A whole mapping file: one :class:`TableMapping` per table, a default encoding, channel kinds."""

    path: Path
    tables: dict[str, TableMapping]
    encoding: str = "utf-8"
    channels: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> set[str]:
        """The export files the mapping reads (so the folder scan does not call them unknown)."""
        return {t.file for t in self.tables.values()}


def _fail(path: Path, where: str, message: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {message}", fix=fix)


def _str_map(raw, path: Path, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, where, "must be a mapping of names", fix=f"write it as `{where}: {{name: value}}`")
    return {str(k): str(v) for k, v in raw.items()}


def parse_mapping(raw: Any, path: Path) -> Mapping:
    """Check a parsed mapping file; every mistake is a :class:`ConfigError` naming the line to change."""
    if not isinstance(raw, dict) or not isinstance(raw.get("tables"), dict):
        raise _fail(
            path, "top level", "no `tables:` section", fix="start from `omnimodel map --suggest FOLDER`"
        )
    unknown = set(raw) - {"tables", "encoding", "channels"}
    if unknown:
        raise _fail(
            path,
            "top level",
            f"unknown key(s) {', '.join(sorted(unknown))}",
            "use tables, encoding, channels",
        )
    tables = {}
    for name, spec in raw["tables"].items():
        if name not in TABLES:
            raise _fail(path, f"tables.{name}", "not a canonical table", f"use one of {', '.join(TABLES)}")
        if not isinstance(spec, dict) or "file" not in spec:
            raise _fail(path, f"tables.{name}", "needs `file:`", "name the export file that feeds this table")
        bad = set(spec) - _TABLE_KEYS
        if bad:
            raise _fail(
                path,
                f"tables.{name}",
                f"unknown key(s) {', '.join(sorted(bad))}",
                f"use {', '.join(sorted(_TABLE_KEYS))}",
            )
        known = set(TABLES[name].column_names)
        columns = _str_map(spec.get("columns"), path, f"tables.{name}.columns")
        keys = {str(k): [str(c) for c in v] for k, v in (spec.get("keys") or {}).items()}
        dates = _str_map(spec.get("dates"), path, f"tables.{name}.dates")
        values = {
            str(k): _str_map(v, path, f"tables.{name}.values.{k}")
            for k, v in (spec.get("values") or {}).items()
        }
        for section, names in (("columns", columns), ("keys", keys), ("dates", dates), ("values", values)):
            wrong = [c for c in names if c not in known]
            if wrong:
                raise _fail(
                    path,
                    f"tables.{name}.{section}",
                    f"{', '.join(wrong)} not a column of {name}",
                    f"the left side is the canonical column: {', '.join(TABLES[name].column_names)}",
                )
        for col, fmt in dates.items():
            if "%" not in fmt:
                raise _fail(
                    path,
                    f"tables.{name}.dates.{col}",
                    f"{fmt!r} is not a date format",
                    'use strftime codes, e.g. "%d.%m.%Y"',
                )
        decimal = str(spec.get("decimal", "."))
        if decimal not in (".", ","):
            raise _fail(path, f"tables.{name}.decimal", f"{decimal!r}", 'use "." or ","')
        tables[name] = TableMapping(
            name,
            str(spec["file"]),
            sheet=spec.get("sheet"),
            encoding=spec.get("encoding"),
            separator=str(spec.get("separator", ",")),
            columns=columns,
            keys=keys,
            dates=dates,
            values=values,
            decimal=decimal,
        )
    kinds = _str_map(raw.get("channels"), path, "channels")
    bad_kinds = {c: k for c, k in kinds.items() if k not in CHANNEL_KINDS}
    if bad_kinds:
        raise _fail(
            path,
            "channels",
            ", ".join(f"{c}: {k}" for c, k in bad_kinds.items()),
            f"the kind of a channel is one of {', '.join(CHANNEL_KINDS)}",
        )
    return Mapping(path, tables, str(raw.get("encoding") or "utf-8"), kinds)


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file."""
    path = Path(path)
    return parse_mapping(read_yaml(path, "mapping file", fix="give the path of a mapping.yaml"), path)


def read_mapped(folder: Path, spec: TableMapping, encoding: str) -> tuple[pd.DataFrame, list[str]]:
    """One canonical table from its export file as the mapping says, as text columns for validation, and what
    was done on the way. Dates come out as ISO text; a value that does not fit its format is an error naming
    the rows."""
    path = folder / spec.file
    if not path.exists():
        raise OmnimodelError(
            f"{spec.file} (named in the mapping) is not in {folder}",
            table=spec.table,
            fix="correct `file:` in the mapping or add the file",
        )
    source = read_table_file(
        path, spec.table, encoding=spec.encoding or encoding, separator=spec.separator, sheet=spec.sheet
    )
    named = named_columns(spec, list(source.columns))
    table = TABLES[spec.table]
    out = pd.DataFrame(index=source.index)
    for col in table.column_names:
        if col in spec.keys:
            parts = source[spec.keys[col]].astype("string")
            joined = parts.iloc[:, 0].str.cat([parts[c] for c in parts.columns[1:]], sep="-")
            out[col] = joined.where(parts.notna().all(axis=1))
        elif col in spec.columns:
            out[col] = source[spec.columns[col]]
        elif col in source.columns and col not in named:
            out[col] = source[col]
    notes = []
    left_out = [c for c in source.columns if c not in named and c not in out.columns]
    if left_out:
        notes.append(f"{spec.file}: column(s) {', '.join(map(str, left_out))} not in the mapping, left out")
    for col, mapping in spec.values.items():
        if col in out:
            out[col] = out[col].replace(mapping)
    for col in out.columns:
        dtype = table.column(col).dtype
        if col in spec.dates:
            out[col] = _dates(out[col], spec.dates[col], dtype, spec, col)
        elif dtype in ("float", "int") and spec.decimal == ",":
            out[col] = (
                out[col].astype("string").str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            )
    notes.append(f"{spec.file} -> {spec.table}: {len(out):,} rows mapped")
    return out.reset_index(drop=True), notes


def named_columns(spec: TableMapping, columns: list) -> set[str]:
    """The export's columns the mapping names (renamed or joined into keys); one the file lacks is an error."""
    named = set(spec.columns.values()) | {c for parts in spec.keys.values() for c in parts}
    missing = sorted(named - set(columns))
    if missing:
        raise OmnimodelError(
            f"{spec.file} has no column(s) {', '.join(missing)} named in the mapping",
            table=spec.table,
            fix=f"correct the mapping; the file's columns are {', '.join(map(str, columns))}",
        )
    return named


def _dates(values: pd.Series, fmt: str, dtype: str, spec: TableMapping, column: str) -> pd.Series:
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    bad = parsed.isna() & text.notna() & (text != "")
    if bad.any():
        rows = [int(i) + 2 for i in bad[bad].index[:5]]  # the file's line numbers: the header is line 1
        raise OmnimodelError(
            f"{int(bad.sum()):,} value(s) of {spec.file} do not match the date format {fmt!r}, "
            f"e.g. {', '.join(repr(v) for v in text[bad].head(3))}",
            table=spec.table,
            column=column,
            rows=[f"line {r}" for r in rows],
            fix="correct the format under `dates:` in the mapping (strftime codes) or the values",
        )
    iso = parsed.dt.strftime("%Y-%m-%d" if dtype == "date" else "%Y-%m-%d %H:%M:%S")
    return iso.astype("string").where(parsed.notna())


def channels_frame(mapping: Mapping) -> pd.DataFrame | None:
    """The channels table declared in the mapping (channel and kind), if it declares one."""
    if not mapping.channels:
        return None
    return pd.DataFrame(
        {"channel": list(mapping.channels), "kind": list(mapping.channels.values())}, dtype="string"
    )
