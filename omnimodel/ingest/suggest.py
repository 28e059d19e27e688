"""``omnimodel map --suggest``: a first mapping file for an export folder, proposed from its names and values.

Every proposal is for the user to check: which file feeds which canonical table (by the columns it has and its
name), column renames (exact, known synonyms in English and German, then close spellings), date formats that
fit every value (ambiguous day/month orders are marked), decimal commas, country names to ISO codes, a key of
two columns where the order number repeats across customers, and the kind of each channel from its name.
What it cannot tell is written as a ``TODO`` comment at the top of the file.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from omnimodel.data.countries import CODES, to_iso2
from omnimodel.data.schema import TABLES, UNCATEGORISED
from omnimodel.exceptions import OmnimodelError
from omnimodel.ingest.names import (
    FLAT_TABLES,
    ISO,
    LINE_TOTALS,
    NAMED_ONLY,
    ONE_CLOSE_DATE,
    SHAPES,
    SUFFIXES,
    SYNONYMS,
    TABLE_NAMES,
    channel_kind,
    date_format,
    normalise,
)
from omnimodel.ingest.readers import WORKBOOKS, read_table_file


@dataclass
class _File:
    """One file, or one sheet of a workbook."""

    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    separator: str = ","
    sheet: str | None = None

    @property
    def name(self) -> str:
        return self.path.name + (f" sheet {self.sheet}" if self.sheet else "")


def _read_all(path: Path, encoding: str | None) -> list[_File]:
    """A file's tables: a CSV or Parquet file, or each sheet of a workbook (named where it has several)."""
    if path.suffix.lower() not in WORKBOOKS:
        return [_read(path, encoding)]
    try:
        sheets = pd.ExcelFile(path).sheet_names
    except Exception as exc:
        raise OmnimodelError(
            f"cannot read {path} as a workbook: {exc}", fix="save it again, or as CSV"
        ) from exc
    if len(sheets) == 1:
        return [_File(path, read_table_file(path))]
    return [_File(path, read_table_file(path, sheet=s), sheet=s) for s in sheets]


def _read(path: Path, encoding: str | None) -> _File:
    if path.suffix.lower() not in (".csv",):
        return _File(path, read_table_file(path))
    raw = path.read_bytes()[:200_000]
    chosen = encoding
    if chosen is None:
        for candidate in ("utf-8", "cp1252"):
            try:
                raw.decode(candidate)
            except UnicodeDecodeError:
                continue
            chosen = candidate
            break
        chosen = chosen or "latin-1"
    header = raw.decode(chosen, errors="replace").removeprefix("\ufeff").splitlines()[0]
    try:
        separator = csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        separator = ","
    frame = read_table_file(path, encoding=chosen, separator=separator)
    return _File(path, frame, None if chosen == "utf-8" else chosen, separator)


def _match_columns(table: str, columns: list[str]) -> dict[str, str]:
    """Canonical column -> source column, each source column used once (exact, synonyms, then close)."""
    by_norm = {normalise(c): c for c in columns}
    singular = table.rstrip("s").replace("_", "")
    out: dict[str, str] = {}
    for col in TABLES[table].column_names:
        names = [normalise(col), *SYNONYMS.get(col, [])]
        if col.endswith("_id"):
            names.append("id")  # an "Id" column in the file of that table
        if col == "name":  # a flat export names the customer and the product: each table takes its own
            names = [
                f"{singular}name",
                {"customers": "kundenname", "products": "produktname"}.get(table, ""),
                *names,
            ]
        if col == f"{singular}_id" or (table == "order_lines" and col == "order_id"):
            names.append(f"{singular}id")
        hit = next((by_norm[n] for n in names if n in by_norm and by_norm[n] not in out.values()), None)
        if hit is None:
            free = [n for n, c in by_norm.items() if c not in out.values()]
            close = difflib.get_close_matches(normalise(col), free, n=1, cutoff=0.85)
            hit = by_norm[close[0]] if close else None
        if hit is not None:
            out[col] = hit
    if "id" in by_norm and by_norm["id"] in out.values():
        # A bare "Id" is the table's own key, never a reference to another table.
        own = TABLES[table].key[0]
        out = {c: s for c, s in out.items() if s != by_norm["id"] or c == own}
    return out


def _score(table: str, file: _File, columns: dict[str, str]) -> float:
    required = TABLES[table].required_columns
    hit_required = sum(c in columns for c in required)
    name_fit = _name_fit(table, file)
    if table in NAMED_ONLY and name_fit < 0.8:
        return 0.0
    return hit_required / len(required) * 2 + len(columns) / len(TABLES[table].columns) + name_fit


def _name_fit(table: str, file: _File) -> float:
    stem = normalise(file.sheet or file.path.stem)
    return max(
        difflib.SequenceMatcher(None, stem, n).ratio()
        for n in TABLE_NAMES.get(table, [table]) + [normalise(table)]
    )


def suggest_mapping(folder: Path, encoding: str | None = None) -> str:
    """The text of a proposed ``mapping.yaml`` for the export files in ``folder``."""
    if not folder.is_dir():
        raise OmnimodelError(f"{folder} is not a folder", fix="pass the folder holding the export files")
    files = [
        f for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES for f in _read_all(p, encoding)
    ]
    if not files:
        raise OmnimodelError(f"no CSV, Parquet or Excel files in {folder}", fix="export the tables into it")
    todo: list[str] = []
    chosen, derived = _flat_tables(files, todo)
    candidates = []
    for f in files:
        for table in TABLES:
            cols = _match_columns(table, list(f.frame.columns))
            if any(c in cols for c in TABLES[table].required_columns):
                candidates.append((_score(table, f, cols), table, f, cols))
    used = {id(f) for f, _ in chosen.values()}
    for score, table, f, cols in sorted(candidates, key=lambda c: -c[0]):
        if table in chosen or id(f) in used or score < 1.5:
            continue
        chosen[table] = (f, cols)
        used.add(id(f))
    deals = chosen.get("opportunities", (None, {}))[1]
    if "expected_close_date" not in deals and normalise(deals.get("closed_date", "")) in ONE_CLOSE_DATE:
        deals["expected_close_date"] = deals["closed_date"]  # expected while open, actual once closed
        todo.append(
            f"opportunities: {deals['closed_date']!r} read as the expected close date of open deals and the "
            "closed date of won and lost ones (as CRMs keep it); check it"
        )
    for f in files:
        if id(f) not in used:
            todo.append(f"{f.name}: no canonical table fits its columns; add it under tables: if it is one")
    order = {name: i for i, name in enumerate(TABLES)}
    mapping: dict = {"tables": {}}
    channel_values: set[str] = set()
    for table in sorted(chosen, key=lambda name: order[name]):
        f, cols = chosen[table]
        spec: dict = {"file": f.path.name}
        if f.sheet:
            spec["sheet"] = f.sheet
        if f.encoding:
            spec["encoding"] = f.encoding
        if f.separator != ",":
            spec["separator"] = f.separator
        spec["columns"] = dict(cols)
        spec.update(derived.get(table, {}))
        schema = TABLES[table]
        given = (
            set(cols)
            | set(spec.get("derived", {}))
            | ({"return_id", "quantity"} if "whole_orders" in spec else set())
        )
        missing = [c for c in schema.required_columns if c not in given and c != "line_no"]
        if missing:
            todo.append(f"{table}: required column(s) {', '.join(missing)} not found in {f.name}; name them")
        dates, values = {}, {}
        for col, src in cols.items():
            dtype = schema.column(col).dtype
            data = f.frame[src].astype("string")
            if dtype in ("date", "timestamp"):
                fmt, fits = date_format(data)
                if fmt is None:
                    todo.append(f"{table}.{col}: no known date format fits {src!r}; add it under dates:")
                elif fmt not in ISO:
                    dates[col] = fmt
                    if len(fits) > 1 and fits[1] not in ISO:
                        todo.append(f"{table}.{col}: {src!r} fits {fmt!r} and {fits[1]!r}; check which it is")
            elif (
                dtype in ("float", "int") and data.str.contains(r"^-?[\d.]*,\d+$", regex=True, na=False).any()
            ):
                spec["decimal"] = ","
            if col == "country":
                text = data.dropna().astype(str).str.strip().drop_duplicates()
                names = text[~(text.str.upper().isin(CODES) & (text.str.len() == 2))]
                iso = to_iso2(names)
                known = {n: c for n, c in zip(names, iso, strict=True) if pd.notna(c)}
                if known:
                    values[col] = known
                unknown = sorted(n for n in names if n not in known)
                if unknown:
                    todo.append(f"{table}.country: no ISO code known for {', '.join(unknown[:10])}; add them")
            if col == "outcome" and "outcome" not in spec.get("values", {}):
                values[col] = _outcomes(data, src, todo)
            if col == "channel" and table == "orders":
                channel_values |= set(data.dropna().astype(str))
        if dates:
            spec["dates"] = dates
        if values:
            spec["values"] = spec.get("values", {}) | values
        mapping["tables"][table] = spec
    _order_key(mapping, chosen, todo)
    _left_out(mapping, chosen, todo)
    for spec in mapping["tables"].values():  # the file's keys in the order a reader expects
        for key in ("derived", "where", "conflicts", "whole_orders"):
            if key in spec:
                spec[key] = spec.pop(key)
    if channel_values:
        kinds = {c: channel_kind(c) for c in sorted(channel_values)}
        mapping["channels"] = {c: k for c, k in kinds.items() if k}
        unknown = [c for c, k in kinds.items() if not k]
        if unknown:
            todo.append(
                f"channels: kind (online, offline or assisted) of {', '.join(unknown)} unknown; add them"
            )
    head = [
        f"# Proposed by `omnimodel map --suggest {folder}`: check every line, then",
        "#   omnimodel validate FOLDER --adapter canonical   (uses FOLDER/mapping.yaml)",
        "# Left of each colon the canonical name (docs/data-model.md), right your export's.",
    ]
    head += [f"# TODO {t}" for t in todo]
    return "\n".join(head) + "\n" + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True)


def _outcomes(data: pd.Series, column: str, todo: list[str]) -> dict[str, str]:
    """A deal's outcome from its status: won and lost by their words, everything else open."""
    out = {}
    for value in sorted(set(data.dropna().astype(str))):
        text = normalise(value)
        out[value] = (
            "won"
            if "won" in text or "gewonnen" in text
            else "lost"
            if "lost" in text or "verloren" in text
            else "open"
        )
    todo.append(
        f"opportunities.outcome: {column!r} read as "
        + ", ".join(f"{v} -> {o}" for v, o in out.items())
        + "; check it"
    )
    return out


def _left_out(mapping: dict, chosen: dict, todo: list[str]) -> None:
    """Each file's columns that no table reads, once per file (a flat export feeds several tables)."""
    named: dict[int, set] = {}
    for table, (f, _) in chosen.items():
        spec = mapping["tables"][table]
        cols = set(spec["columns"].values()) | {c for parts in spec.get("keys", {}).values() for c in parts}
        cols |= set(spec.get("where", {})) | set(
            re.findall(r"\{([^{}]+)\}", " ".join(spec.get("derived", {}).values()))
        )
        named.setdefault(id(f), set()).update(cols)
    for key, cols in named.items():
        tables = [t for t, (f, _) in chosen.items() if id(f) == key]
        f = chosen[tables[0]][0]
        left = [str(c) for c in f.frame.columns if c not in cols]
        if left:
            todo.append(
                f"{', '.join(tables)}: {f.name} column(s) {', '.join(left)} left out; map any that belong"
            )


def _flat_tables(files: list[_File], todo: list[str]) -> tuple[dict, dict]:
    """Tables from a flat order-line export (customers, products, orders and lines on one sheet) and from the
    sheets beside it (returned order ids, the sales team), with the derived columns and rules they need."""
    chosen: dict[str, tuple[_File, dict[str, str]]] = {}
    extra: dict[str, dict] = {}
    lines = _shapes(files, chosen, extra, todo)
    if lines is None:
        lines = next((f for f in files if _is_order_lines(f)), None)
        if lines is None:
            return chosen, extra
        for table in FLAT_TABLES:
            cols = _match_columns(table, list(lines.frame.columns))
            if TABLES[table].key[0] in cols:
                chosen[table] = (lines, cols)
    columns = list(lines.frame.columns)
    line_cols = chosen["order_lines"][1]
    by_norm = {normalise(c): c for c in columns}
    if "unit_price" not in line_cols:
        total = next((by_norm[n] for n in LINE_TOTALS if n in by_norm), None)
        if total is not None:
            discount = line_cols.get("discount")
            text = f"{{{total}}} / {{{line_cols['quantity']}}}" + (
                f" / (1 - {{{discount}}})" if discount else ""
            )
            extra["order_lines"] = {"derived": {"unit_price": text}}
            todo.append(
                f"order_lines.unit_price: derived as {text} ({total!r} taken for the line's total after "
                "discount); check it"
            )
    for table, column, value in (("orders", "channel", "online"), ("products", "category", UNCATEGORISED)):
        if table in chosen and column not in chosen[table][1] | extra.get(table, {}).get("derived", {}):
            extra.setdefault(table, {}).setdefault("derived", {})[column] = f"'{value}'"
            todo.append(
                f"{table}.{column}: {lines.name} has none; every row gets {value!r}: name the right one"
            )
    if (
        "customers" in chosen
        and "country" not in chosen["customers"][1]
        and "country" in chosen.get("orders", (0, {}))[1]
    ):
        chosen["customers"][1]["country"] = chosen["orders"][1]["country"]
    for table in ("customers", "products", "orders"):
        if table in chosen:
            _conflicts(table, lines, chosen[table][1], extra, todo)
    returns = next((f for f in files if f is not lines and _is_returned_orders(f)), None)
    if returns is not None:
        cols = _match_columns("returns", list(returns.frame.columns))
        flag = _flag_column(returns.frame)
        extra["returns"] = {"whole_orders": True} | ({"where": {flag: "Yes"}} if flag else {})
        chosen["returns"] = (
            returns,
            {"order_id": cols["order_id"]}
            | {c: s for c, s in cols.items() if c in ("return_date", "reason")},
        )
        todo.append(f"returns: each order listed in {returns.name} counted as returned whole (all its lines)")
    return chosen, extra


def _shapes(files: list[_File], chosen: dict, extra: dict, todo: list[str]) -> _File | None:
    """Tables from files of a publicly documented shape (:data:`SHAPES`), mapped as documented; returns the one
    of order lines, if any."""
    lines = None
    for f in files:
        for shape, spec in SHAPES.items():
            if not set(spec["signature"]) <= set(f.frame.columns):
                continue
            todo.append(f"{f.name}: read as {shape}, by its documented columns")
            for table, columns in spec["columns"].items():
                cols = {c: s for c, s in columns.items() if s in f.frame.columns}
                if table in chosen or TABLES[table].key[0] not in cols:
                    continue
                chosen[table] = (f, cols)
                for key in ("derived", "values", "where"):
                    if table in spec.get(key, {}):
                        extra.setdefault(table, {})[key] = dict(spec[key][table])
                lines = f if table == "order_lines" else lines
    return lines


def _is_order_lines(f: _File) -> bool:
    cols = _match_columns("order_lines", list(f.frame.columns))
    orders = _match_columns("orders", list(f.frame.columns))
    return {"order_id", "product_id", "quantity"} <= set(cols) and "order_date" in orders


def _is_returned_orders(f: _File) -> bool:
    cols = _match_columns("returns", list(f.frame.columns))
    return (
        "order_id" in cols
        and len(f.frame.columns) <= 4
        and (_flag_column(f.frame) is not None or _name_fit("returns", f) >= 0.8)
    )


def _flag_column(frame: pd.DataFrame) -> str | None:
    """A column of Yes/No (or true/false, 1/0) flags."""
    for column in frame.columns:
        values = set(frame[column].dropna().astype(str).str.strip().str.lower())
        if values and values <= {"yes", "no", "y", "n", "true", "false", "ja", "nein"}:
            return str(column)
    return None


def _conflicts(table: str, f: _File, cols: dict[str, str], extra: dict, todo: list[str]) -> None:
    """Where rows of one key disagree in the export (a customer's ship-to region per order), propose the most
    frequent value and say which columns."""
    key = cols[TABLES[table].key[0]]
    others = [s for c, s in cols.items() if s != key]
    if not others:
        return
    counts = f.frame.groupby(key)[others].nunique()
    varying = [c for c in others if (counts[c] > 1).any()]
    if varying:
        extra.setdefault(table, {})["conflicts"] = "most_frequent"
        todo.append(
            f"{table}: {', '.join(varying)} differ between rows of one {key}; the most frequent value is taken"
        )


def _order_key(mapping: dict, chosen: dict, todo: list[str]) -> None:
    """Where order numbers repeat across customers, propose order number plus customer as the order key, in
    every table whose file has both columns."""
    if "orders" not in chosen or chosen["orders"][0] is chosen.get("order_lines", (None,))[0]:
        return  # none, or a flat export: its order numbers repeat once per line
    f, cols = chosen["orders"]
    if "order_id" not in cols or "customer_id" not in cols:
        return
    order_src, cust_src = cols["order_id"], cols["customer_id"]
    if not f.frame[order_src].duplicated().any():
        return
    if f.frame[[order_src, cust_src]].duplicated().any():
        todo.append(f"orders: {order_src!r} repeats, even with {cust_src!r}; the key needs another column")
        return
    for table, (tf, tcols) in chosen.items():
        if tcols.get("order_id") == order_src and cust_src in tf.frame.columns:
            spec = mapping["tables"][table]
            spec["columns"].pop("order_id")
            spec.setdefault("keys", {})["order_id"] = [order_src, cust_src]
        elif "order_id" in tcols:
            todo.append(f"{table}: order numbers repeat across customers; give order_id the same two columns")
