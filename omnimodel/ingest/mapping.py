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

One file or sheet may feed several tables (a flat order export: customers, products, orders and order lines
from one sheet); :mod:`omnimodel.ingest.flat` merges the repeated rows by key and reads the keys below.

.. code-block:: yaml

    tables:
      orders:
        file: Superstore.xls
        sheet: Orders
        columns: {order_id: Order ID, order_date: Order Date, country: Country/Region}
        derived: {channel: "'online'"}                 # a constant, or columns in braces: "{Sales} / {Quantity}"
      customers:
        file: Superstore.xls
        sheet: Orders
        columns: {customer_id: Customer ID, segment: Segment}
        conflicts: most_frequent                       # where rows of one customer disagree (default: an error)
      returns:
        file: Superstore.xls
        sheet: Returns
        columns: {order_id: Order ID}
        where: {Returned: "Yes"}                       # only the rows flagged
        whole_orders: true                             # each listed order returned with all its lines
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from omnimodel.config import read_yaml
from omnimodel.data.schema import CHANNEL_KINDS, TABLES
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.ingest import flat
from omnimodel.ingest.names import OFFSET
from omnimodel.ingest.readers import read_table_file

_TABLE_KEYS = {"file", "sheet", "encoding", "separator", "columns", "keys", "dates", "values", "decimal"}
_FLAT_KEYS = {"derived", "where", "conflicts", "whole_orders"}
#: the key of a value map that names the value of every other one
OTHERWISE = "*"
#: tables whose fields an order-line export gives on an order's first row only
_ORDER_LEVEL = ("customers", "orders")


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
    derived: dict[str, flat.Expression] = field(default_factory=dict)  # canonical -> expression
    where: dict[str, list[str]] = field(default_factory=dict)  # source column -> values of the rows kept
    conflicts: str | None = None  # how rows of one key that disagree are settled (None: an error)
    whole_orders: bool = False  # returns: each listed order returned with all its lines

    @property
    def source(self) -> tuple[str, str | None]:
        """The file and sheet it reads."""
        return (self.file, self.sheet)

    @property
    def is_flat(self) -> bool:
        """Whether it needs the in-memory reader's steps (flat exports, default values, one close date)."""
        return bool(
            self.derived
            or self.where
            or self.conflicts
            or self.whole_orders
            or any(OTHERWISE in v for v in self.values.values())
            or self.one_close_date
        )

    @property
    def one_close_date(self) -> bool:
        """Whether one column gives both close dates (Salesforce's and HubSpot's Close Date: expected while a
        deal is open, actual once it is won or lost)."""
        closed = self.columns.get("closed_date")
        return closed is not None and closed == self.columns.get("expected_close_date")

    def source_columns(self, canonical: str) -> list[str]:
        """The export's columns a canonical column is made of."""
        if canonical in self.keys:
            return self.keys[canonical]
        if canonical in self.derived:
            return self.derived[canonical].columns
        return [self.columns[canonical]] if canonical in self.columns else []


@dataclass
class Mapping:
    """A whole mapping file: one :class:`TableMapping` per table, a default encoding, channel kinds."""

    path: Path
    tables: dict[str, TableMapping]
    encoding: str = "utf-8"
    channels: dict[str, str] = field(default_factory=dict)

    _sources: dict = field(default_factory=dict, repr=False)  # (file, sheet) -> its rows, read once

    @property
    def files(self) -> set[str]:
        """The export files the mapping reads (so the folder scan does not call them unknown)."""
        return {t.file for t in self.tables.values()}

    def shared(self, spec: TableMapping) -> bool:
        """Whether the file (and sheet) of ``spec`` feeds other tables too: a flat export."""
        return sum(t.source == spec.source for t in self.tables.values()) > 1

    @property
    def is_flat(self) -> bool:
        """Whether any table needs the in-memory reader's flat-export steps."""
        return any(t.is_flat or self.shared(t) for t in self.tables.values())

    def lookup(self, folder: Path, spec: TableMapping, name: str) -> pd.DataFrame | None:
        """What a derived column's ``lookup`` names: a sheet of ``spec``'s workbook, else a file of the folder."""
        from omnimodel.ingest.readers import WORKBOOKS

        if Path(spec.file).suffix.lower() in WORKBOOKS:
            if name in pd.ExcelFile(folder / spec.file).sheet_names:
                other = TableMapping(spec.table, spec.file, sheet=name)
                return self.read_source(folder, other, self.encoding)
        if (folder / name).is_file() and Path(name).name == name:
            other = TableMapping(spec.table, name, encoding=spec.encoding, separator=spec.separator)
            return self.read_source(folder, other, self.encoding)
        return None

    def read_source(self, folder: Path, spec: TableMapping, encoding: str) -> pd.DataFrame:
        """The rows of the file (and sheet) ``spec`` reads, read once however many tables it feeds."""
        if spec.source not in self._sources:
            self._sources[spec.source] = read_table_file(
                folder / spec.file,
                spec.table,
                encoding=spec.encoding or encoding,
                separator=spec.separator,
                sheet=spec.sheet,
            )
        return self._sources[spec.source]


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
        bad = set(spec) - _TABLE_KEYS - _FLAT_KEYS
        if bad:
            raise _fail(
                path,
                f"tables.{name}",
                f"unknown key(s) {', '.join(sorted(bad))}",
                f"use {', '.join(sorted(_TABLE_KEYS | _FLAT_KEYS))}",
            )
        known = set(TABLES[name].column_names)
        columns = _str_map(spec.get("columns"), path, f"tables.{name}.columns")
        keys = {str(k): [str(c) for c in v] for k, v in (spec.get("keys") or {}).items()}
        dates = _str_map(spec.get("dates"), path, f"tables.{name}.dates")
        values = {
            str(k): _str_map(v, path, f"tables.{name}.values.{k}")
            for k, v in (spec.get("values") or {}).items()
        }
        derived = {
            col: flat.Expression(str(text), f"{path}: tables.{name}.derived.{col}")
            for col, text in _str_map(spec.get("derived"), path, f"tables.{name}.derived").items()
        }
        sections = (
            ("columns", columns),
            ("keys", keys),
            ("dates", dates),
            ("values", values),
            ("derived", derived),
        )
        for section, names in sections:
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
            **_flat_keys(spec, name, path, set(columns) | set(keys), derived),
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


def _flat_keys(spec: dict, name: str, path: Path, given: set[str], derived: dict) -> dict:
    """The flat-export keys of one table: derived columns, rows kept, how conflicts settle, whole orders."""
    twice = sorted(given & set(derived))
    if twice:
        raise _fail(path, f"tables.{name}.derived", f"{', '.join(twice)} also mapped to a column", "keep one")
    raw_where = spec.get("where") or {}
    if not isinstance(raw_where, dict):
        raise _fail(
            path, f"tables.{name}.where", "must name columns", 'write it as `where: {Returned: "Yes"}`'
        )
    where = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in raw_where.items()}
    conflicts = spec.get("conflicts")
    if conflicts is not None and conflicts not in flat.CONFLICT_RULES:
        raise _fail(
            path, f"tables.{name}.conflicts", f"{conflicts!r}", f"use {', '.join(flat.CONFLICT_RULES)}"
        )
    whole = spec.get("whole_orders", False)
    if not isinstance(whole, bool) or (whole and name != "returns"):
        raise _fail(
            path, f"tables.{name}.whole_orders", f"{whole!r}", "only returns take `whole_orders: true`"
        )
    return {"derived": derived, "where": where, "conflicts": conflicts, "whole_orders": whole}


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file."""
    path = Path(path)
    return parse_mapping(read_yaml(path, "mapping file", fix="give the path of a mapping.yaml"), path)


def read_mapped(
    folder: Path,
    spec: TableMapping,
    plan: Mapping,
    encoding: str,
    loaded: dict[str, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """One canonical table from its export file as the mapping says, as text columns for validation, and what
    was done on the way. Dates come out as ISO text; a value that does not fit its format is an error naming
    the rows. ``loaded``: the tables read before (the order lines that whole-order returns take)."""
    path = folder / spec.file
    if not path.exists():
        raise OmnimodelError(
            f"{spec.file} (named in the mapping) is not in {folder}",
            table=spec.table,
            fix="correct `file:` in the mapping or add the file",
        )
    source = plan.read_source(folder, spec, encoding)
    named = named_columns(spec, list(source.columns))
    table = TABLES[spec.table]
    notes = []
    orders = plan.tables.get("orders")
    if spec.table in _ORDER_LEVEL and orders is not None and orders.source == spec.source:
        used = [c for col in table.column_names for c in spec.source_columns(col)]
        source = flat.fill_order_fields(source, orders.source_columns("order_id"), used)
    out = pd.DataFrame(index=source.index)
    for col in table.column_names:
        if col in spec.keys:
            parts = source[spec.keys[col]].astype("string")
            joined = parts.iloc[:, 0].str.cat([parts[c] for c in parts.columns[1:]], sep="-")
            out[col] = joined.where(parts.notna().all(axis=1))
        elif col in spec.columns:
            out[col] = source[spec.columns[col]]
        elif col in spec.derived:
            out[col] = spec.derived[col].evaluate(
                source, spec.decimal, spec.file, spec.table, col, lambda name: plan.lookup(folder, spec, name)
            )
        elif col in source.columns and col not in named:
            out[col] = source[col]
    if {"order_id", "line_no"} <= set(table.column_names) and "line_no" not in out and "order_id" in out:
        if not spec.whole_orders:  # numbered before rows are filtered, so returns flagged on lines match
            out["line_no"] = flat.line_numbers(out["order_id"])
            notes.append(
                f"{spec.file} -> {spec.table}: no line numbers; each order's rows numbered in file order"
            )
    if spec.where:
        out = out[flat.where_rows(source, spec.where, spec.file, spec.table)]
    left_out = [c for c in source.columns if c not in named and c not in out.columns]
    if left_out and not plan.shared(spec):
        notes.append(f"{spec.file}: column(s) {', '.join(map(str, left_out))} not in the mapping, left out")
    for col, mapping in spec.values.items():
        if col in out:
            out[col] = _translate(out[col], mapping)
    for col in out.columns:
        dtype = table.column(col).dtype
        if col in spec.dates:
            out[col] = _dates(out[col], spec.dates[col], dtype, spec, col)
        elif dtype in ("float", "int") and spec.decimal == "," and col not in spec.derived:
            out[col] = (
                out[col].astype("string").str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            )
    if spec.one_close_date and "outcome" in out:
        closed = out["outcome"].isin(["won", "lost"])
        out["closed_date"] = out["closed_date"].where(closed)
        out["expected_close_date"] = out["expected_close_date"].where(~closed)
        notes.append(
            f"{spec.file} column {spec.columns['closed_date']}: the expected close date of open deals, the "
            "closed date of won and lost ones"
        )
    if spec.whole_orders:
        out = flat.whole_order_returns(out, (loaded or {}).get("order_lines"), spec.file)
        notes.append(f"{spec.file} -> returns: {out['order_id'].nunique():,} orders returned whole")
    elif spec.table == "returns" and "return_id" not in out and {"order_id", "line_no"} <= set(out.columns):
        out.insert(0, "return_id", out["order_id"] + "-" + out["line_no"].astype("string"))
    if plan.shared(spec) or spec.conflicts:
        out, merged = flat.one_row_per_key(out, list(table.key), spec.conflicts, spec.file, spec.table)
        notes += [merged] if merged else []
    notes.append(f"{spec.file} -> {spec.table}: {len(out):,} rows mapped")
    return out.reset_index(drop=True), notes


def _translate(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """A value map; ``"*"`` names the value of everything else (``{Closed Won: won, Closed Lost: lost, "*": open}``)."""
    given = {k: v for k, v in mapping.items() if k != OTHERWISE}
    out = values.replace(given)
    if OTHERWISE in mapping:
        out = out.where(values.isin(list(given)) | values.isna(), mapping[OTHERWISE])
    return out


def named_columns(spec: TableMapping, columns: list) -> set[str]:
    """The export's columns the mapping names (renamed, joined into keys, in expressions or in ``where``); one
    the file lacks is an error."""
    named = set(spec.columns.values()) | {c for parts in spec.keys.values() for c in parts}
    named |= {c for e in spec.derived.values() for c in e.columns} | set(spec.where)
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
    if fmt.endswith("%z"):  # the local time as the export shows it; the offset is dropped
        text, fmt = text.str.replace(OFFSET, "", regex=True), fmt.removesuffix("%z").rstrip()
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
