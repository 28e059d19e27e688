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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from omnimodel.data.countries import CODES, to_iso2
from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError
from omnimodel.ingest.readers import read_table_file

#: other names exports use for a canonical column (normalised: lower case, letters and digits only)
SYNONYMS = {
    "customer_id": [
        "customerid",
        "custid",
        "customer",
        "customerno",
        "customernumber",
        "kundennr",
        "kundennummer",
        "kundenid",
        "kunde",
        "clientid",
        "client",
    ],
    "order_id": [
        "orderid",
        "order",
        "orderno",
        "ordernumber",
        "bestellnr",
        "bestellnummer",
        "bestellung",
        "auftragsnr",
        "auftragsnummer",
        "invoiceno",
        "invoice",
    ],
    "order_date": [
        "orderdate",
        "date",
        "datum",
        "bestelldatum",
        "auftragsdatum",
        "invoicedate",
        "purchasedate",
        "createdat",
        "orderedat",
    ],
    "product_id": [
        "productid",
        "product",
        "sku",
        "articleid",
        "article",
        "artikel",
        "artikelnr",
        "artikelnummer",
        "stockcode",
        "itemid",
        "item",
    ],
    "quantity": ["qty", "quantity", "menge", "anzahl", "units", "stueck"],
    "unit_price": ["unitprice", "price", "preis", "einzelpreis", "stueckpreis", "itemprice"],
    "unit_cost": ["unitcost", "cost", "einstandspreis", "kosten", "cogs"],
    "discount": ["discount", "rabatt", "nachlass"],
    "line_no": ["lineno", "line", "linenumber", "position", "pos", "positionsnr", "posnr"],
    "channel": ["channel", "kanal", "vertriebskanal", "saleschannel", "verkaufskanal"],
    "country": ["country", "land", "countrycode", "laendercode"],
    "region": ["region", "gebiet", "verkaufsgebiet", "salesregion"],
    "segment": ["segment", "kundensegment", "customersegment"],
    "category": ["category", "kategorie", "warengruppe", "productcategory", "produktkategorie"],
    "brand": ["brand", "marke", "hersteller"],
    "price": ["price", "listprice", "listenpreis", "preis", "vkpreis"],
    "cost": ["cost", "einstandspreis", "ek", "ekpreis", "kosten"],
    "name": ["name", "fullname", "produktname", "productname", "bezeichnung"],
    "email": ["email", "emailaddress", "mail"],
    "acquisition_date": ["acquisitiondate", "signupdate", "firstorderdate", "kundeseit", "registered"],
    "return_id": ["returnid", "return", "retourennr", "ruecksendungnr"],
    "return_date": ["returndate", "retourendatum", "ruecksendedatum"],
    "reason": ["reason", "grund", "retourengrund"],
}
#: other names exports use for a canonical table
TABLE_NAMES = {
    "customers": ["customers", "customer", "kunden", "clients", "accounts"],
    "products": ["products", "product", "artikel", "produkte", "items", "catalog", "katalog"],
    "orders": ["orders", "order", "bestellungen", "auftraege", "sales", "transactions", "umsatz"],
    "order_lines": [
        "orderlines",
        "lines",
        "orderitems",
        "positionen",
        "bestellpositionen",
        "auftragspositionen",
    ],
    "returns": ["returns", "retouren", "ruecksendungen"],
}
DATE_FORMATS = [
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%y",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d",
]  # fmt: skip
ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
KIND_WORDS = {
    "online": ["online", "web", "shop", "app", "amazon", "ebay", "marketplace", "ecommerce", "internet", "mobile"],
    "offline": ["store", "filiale", "laden", "branch", "retail", "outlet", "geschaeft", "shoppingcenter"],
    "assisted": ["call", "phone", "telefon", "field", "aussendienst", "agent", "sales", "b2b", "vertrieb", "katalog"],
}  # fmt: skip
SUFFIXES = (".csv", ".parquet", ".pq", ".xlsx", ".xlsm")


def normalise(name: str) -> str:
    """A name as the matcher compares it: lower case, umlauts spelt out, letters and digits only."""
    text = str(name).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass
class _File:
    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    separator: str = ","
    notes: list[str] = field(default_factory=list)


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
    stem = normalise(file.path.stem)
    name_fit = max(
        difflib.SequenceMatcher(None, stem, n).ratio()
        for n in TABLE_NAMES.get(table, [table]) + [normalise(table)]
    )
    return hit_required / len(required) * 2 + len(columns) / len(TABLES[table].columns) + name_fit


def _date_format(values: pd.Series) -> tuple[str | None, list[str]]:
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].drop_duplicates().head(2000)
    if sample.empty:
        return None, []
    fits = [f for f in DATE_FORMATS if pd.to_datetime(sample, format=f, errors="coerce").notna().all()]
    return (fits[0] if fits else None), fits


def _kind(channel: str) -> str | None:
    text = normalise(channel)
    for kind, words in KIND_WORDS.items():
        if any(w in text for w in words):
            return kind
    return None


def suggest_mapping(folder: Path, encoding: str | None = None) -> str:
    """The text of a proposed ``mapping.yaml`` for the export files in ``folder``."""
    if not folder.is_dir():
        raise OmnimodelError(f"{folder} is not a folder", fix="pass the folder holding the export files")
    files = [_read(p, encoding) for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES]
    if not files:
        raise OmnimodelError(f"no CSV, Parquet or Excel files in {folder}", fix="export the tables into it")
    todo: list[str] = []
    candidates = []
    for f in files:
        for table in TABLES:
            cols = _match_columns(table, list(f.frame.columns))
            if any(c in cols for c in TABLES[table].required_columns):
                candidates.append((_score(table, f, cols), table, f, cols))
    chosen: dict[str, tuple[_File, dict[str, str]]] = {}
    used: set[Path] = set()
    for score, table, f, cols in sorted(candidates, key=lambda c: -c[0]):
        if table in chosen or f.path in used or score < 1.5:
            continue
        chosen[table] = (f, cols)
        used.add(f.path)
    for f in files:
        if f.path not in used:
            todo.append(
                f"{f.path.name}: no canonical table fits its columns; add it under tables: if it is one"
            )
    order = {name: i for i, name in enumerate(TABLES)}
    mapping: dict = {"tables": {}}
    channel_values: set[str] = set()
    for table in sorted(chosen, key=lambda name: order[name]):
        f, cols = chosen[table]
        spec: dict = {"file": f.path.name}
        if f.encoding:
            spec["encoding"] = f.encoding
        if f.separator != ",":
            spec["separator"] = f.separator
        spec["columns"] = dict(cols)
        schema = TABLES[table]
        missing = [c for c in schema.required_columns if c not in cols]
        if missing:
            todo.append(
                f"{table}: required column(s) {', '.join(missing)} not found in {f.path.name}; name them"
            )
        dates, values = {}, {}
        for col, src in cols.items():
            dtype = schema.column(col).dtype
            data = f.frame[src].astype("string")
            if dtype in ("date", "timestamp"):
                fmt, fits = _date_format(data)
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
            if col == "channel" and table == "orders":
                channel_values |= set(data.dropna().astype(str))
        if dates:
            spec["dates"] = dates
        if values:
            spec["values"] = values
        mapping["tables"][table] = spec
    _order_key(mapping, chosen, todo)
    for table, (f, _) in chosen.items():
        spec = mapping["tables"][table]
        named = set(spec["columns"].values()) | {c for parts in spec.get("keys", {}).values() for c in parts}
        left = [str(c) for c in f.frame.columns if c not in named]
        if left:
            todo.append(f"{table}: {f.path.name} column(s) {', '.join(left)} left out; map any that belong")
    if channel_values:
        kinds = {c: _kind(c) for c in sorted(channel_values)}
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


def _order_key(mapping: dict, chosen: dict, todo: list[str]) -> None:
    """Where order numbers repeat across customers, propose order number plus customer as the order key, in
    every table whose file has both columns."""
    if "orders" not in chosen:
        return
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
