"""UCI Online Retail invoice lines -> customers, products, orders, order lines and returns.

A UK online gift-ware retailer selling through its webshop only. Quirks handled (each reported with counts):

- exact duplicate lines are removed as double records;
- non-product codes (postage, carriage, manual, discount, samples, fees) are not order lines; their count and
  amount are reported;
- stock adjustments (negative quantity outside cancellations) and lines with a price of 0 or less are left out;
- cancellations (invoice numbers starting with ``C``) become returns of the latest earlier purchase of the same
  product by the same customer; those without such a purchase are reported and left out;
- lines without a customer id stay as anonymous orders (revenue counts, profiles skip them);
- country aliases (EIRE, RSA, USA, Channel Islands, European Community, Unspecified) map to ISO codes;
- product categories are derived from description keywords (the source has none);
- segments (wholesale when a customer averages 150+ units per order, else retail) and regions (UK, Europe,
  Rest of world) are derived, as the source has neither.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.data.countries import to_iso2
from omnimodel.ingest.adapters import LoadedData
from omnimodel.ingest.adapters.source import MAX_AMOUNT, Column, check_file, stop, typed
from omnimodel.ingest.readers import read_table_file

WHOLESALE_UNITS_PER_ORDER = 150
#: the columns read from the invoice lines (negative quantities and prices are cancellations and adjustments)
COLUMNS = [
    Column("InvoiceNo", filled=True),
    Column("StockCode", filled=True),
    Column("Description"),
    Column("Quantity", "int", filled=True, min=-1e9, max=1e9),
    Column("InvoiceDate", "timestamp", filled=True, happened=True),
    Column("UnitPrice", "float", filled=True, min=-MAX_AMOUNT, max=MAX_AMOUNT),
    Column("CustomerID", "int"),
    Column("Country", filled=True),
]
ORIGINS = {
    "orders.order_id": "column InvoiceNo",
    "orders.order_date": "column InvoiceDate",
    "order_lines.product_id": "column StockCode",
    "order_lines.quantity": "column Quantity",
    "order_lines.unit_price": "column UnitPrice",
    "customers.customer_id": "column CustomerID",
    "orders.country": "column Country",
}
EUROPE = [
    "AT",
    "BE",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "ES",
    "EU",
    "FI",
    "FR",
    "GR",
    "IE",
    "IS",
    "IT",
    "JE",
    "LT",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "SE",
]
NON_PRODUCT_CODES = {
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",
    "PADS",
    "B",
    "m",
}
CATEGORY_KEYWORDS = [  # first match wins
    ("seasonal", r"CHRISTMAS|XMAS|EASTER|HALLOWEEN|ADVENT"),
    ("bags", r"\bBAGS?\b|PURSE|SHOPPER|TOTE"),
    ("candles and lights", r"CANDLE|T-LIGHT|TEALIGHT|LANTERN|LIGHTS?\b|LAMP"),
    ("kitchen and dining", r"MUG|CUP|PLATE|BOWL|TEAPOT|\bJAR\b|BOTTLE|CAKE|BAKING|LUNCH|NAPKIN|TRAY|CUTLERY"),
    ("stationery and wrap", r"CARD|WRAP|PAPER|RIBBON|\bTAGS?\b|NOTEBOOK|\bPEN\b|PENCIL|STICKER|CHALK"),
    ("toys and games", r"DOLL|TOY|GAME|PLAYHOUSE|SPACEBOY|JIGSAW|SKITTLES|PUPPET"),
    ("jewellery and accessories", r"NECKLACE|BRACELET|EARRING|\bRING\b|HAIR|JEWEL|UMBRELLA"),
    ("garden", r"GARDEN|PLANT|FLOWER|\bPOTS?\b|WATERING|BIRD"),
    (
        "home decor",
        r"HEART|SIGN|FRAME|CLOCK|DOORSTOP|CUSHION|DECORATION|ORNAMENT|HANGING|GARLAND|BUNTING|"
        r"WREATH|VASE|HOOK|BOX|MIRROR|DRAWER|CABINET|COAT RACK",
    ),
]


def _category(descriptions: pd.Series) -> pd.Series:
    text = descriptions.fillna("").str.upper()
    out = pd.Series("other", index=descriptions.index)
    assigned = pd.Series(False, index=descriptions.index)
    for name, pattern in CATEGORY_KEYWORDS:
        hit = text.str.contains(pattern, regex=True) & ~assigned
        out[hit] = name
        assigned |= hit
    return out


def load(source: Path) -> LoadedData:
    """Read UCI Online Retail's invoice lines into customers, products, orders, order lines and returns."""
    path = source / "online_retail_lines.parquet" if source.is_dir() else source
    raw = read_table_file(path, "online_retail_lines")
    stop(check_file(path.name, raw, COLUMNS))
    raw = typed(raw, COLUMNS)
    quirks = []
    n0 = len(raw)
    lines = raw.drop_duplicates()
    if len(lines) < n0:
        quirks.append(f"{n0 - len(lines):,} exact duplicate lines removed as double records")
    lines = lines.assign(
        InvoiceNo=lines["InvoiceNo"].astype(str),
        StockCode=lines["StockCode"].astype(str).str.strip(),
        amount=lines["Quantity"] * lines["UnitPrice"],
    )
    cancel = lines["InvoiceNo"].str.startswith("C")
    non_product = lines["StockCode"].isin(NON_PRODUCT_CODES)
    quirks.append(
        f"{non_product.sum():,} lines with non-product codes (postage, carriage, manual, discount, samples, "
        f"fees; net {lines.loc[non_product, 'amount'].sum():,.0f} GBP) are not order lines"
    )
    adjust = ~cancel & ~non_product & ((lines["Quantity"] <= 0) | (lines["UnitPrice"] <= 0))
    quirks.append(f"{adjust.sum():,} stock adjustments or zero/negative-price lines left out")
    sales = lines[~cancel & ~non_product & ~adjust].copy()
    cancels = lines[cancel & ~non_product & (lines["Quantity"] < 0)].copy()

    iso = to_iso2(sales["Country"])
    aliases = sorted(
        {
            c
            for c in sales["Country"].unique()
            if c.strip().lower()
            in {"eire", "rsa", "usa", "channel islands", "european community", "unspecified"}
        }
    )
    if aliases:
        quirks.append(
            "country aliases mapped: "
            + ", ".join(f"{a} -> {to_iso2(pd.Series([a]))[0]}" for a in aliases)
            + " (JE stands for Jersey and Guernsey; EU and ZZ are not countries)"
        )
    unknown = sorted(sales.loc[iso.isna(), "Country"].unique())
    if unknown:
        quirks.append(f"unknown countries kept as ZZ: {', '.join(unknown)}")
    sales["country"] = iso.fillna("ZZ").to_numpy()
    sales["customer_id"] = sales["CustomerID"].astype("Int64").astype("string")
    anonymous = sales["customer_id"].isna()
    quirks.append(
        f"{anonymous.sum():,} lines ({sales.loc[anonymous, 'InvoiceNo'].nunique():,} orders) have no "
        "customer id: kept as anonymous orders"
    )

    sales = sales.sort_values(["InvoiceNo", "InvoiceDate"], kind="stable")
    sales["line_no"] = sales.groupby("InvoiceNo").cumcount() + 1
    first = sales.groupby("InvoiceNo", sort=False).agg(
        order_date=("InvoiceDate", "min"),
        customer_id=("customer_id", "first"),
        country=("country", "first"),
        stamps=("InvoiceDate", "nunique"),
    )
    if (first["stamps"] > 1).any():
        quirks.append(
            f"{(first['stamps'] > 1).sum()} invoices span two timestamps: the order date is the first"
        )
    orders = pd.DataFrame(
        {
            "order_id": first.index,
            "customer_id": first["customer_id"].to_numpy(),
            "order_date": first["order_date"].to_numpy(),
            "channel": "webshop",
            "country": first["country"].to_numpy(),
        }
    )
    quirks.append("single channel: every order is a webshop order")
    order_lines = pd.DataFrame(
        {
            "order_id": sales["InvoiceNo"].to_numpy(),
            "line_no": sales["line_no"].to_numpy(),
            "product_id": sales["StockCode"].to_numpy(),
            "quantity": sales["Quantity"].to_numpy(),
            "unit_price": sales["UnitPrice"].to_numpy(),
            "discount": 0.0,
        }
    )

    # Cancellations -> returns of the latest earlier purchase of the same product by the same customer.
    cancels["customer_id"] = cancels["CustomerID"].astype("Int64").astype("string")
    cancels = cancels.dropna(subset=["customer_id"]).sort_values("InvoiceDate")
    bought = sales.dropna(subset=["customer_id"]).sort_values("InvoiceDate")
    matched = pd.merge_asof(
        cancels,
        bought[["InvoiceDate", "customer_id", "StockCode", "InvoiceNo", "line_no", "Quantity"]],
        on="InvoiceDate",
        by=["customer_id", "StockCode"],
        direction="backward",
        suffixes=("", "_bought"),
    )
    ok = matched["InvoiceNo_bought"].notna()
    n_cancel = int((cancel & ~non_product).sum())
    quirks.append(
        f"{n_cancel:,} cancellation lines: {ok.sum():,} became returns of an earlier purchase; "
        f"{n_cancel - ok.sum():,} without a matching earlier purchase (or customer) left out"
    )
    m = matched[ok]
    qty = np.minimum(-m["Quantity"], m["Quantity_bought"]).astype(int)
    capped = int((-m["Quantity"] > m["Quantity_bought"]).sum())
    if capped:
        quirks.append(
            f"{capped:,} returns larger than the purchase they match: capped at the purchased quantity"
        )
    returns = pd.DataFrame(
        {
            "return_id": m["InvoiceNo"].to_numpy()
            + "-"
            + (m.groupby("InvoiceNo").cumcount() + 1).astype(str).to_numpy(),
            "order_id": m["InvoiceNo_bought"].to_numpy(),
            "line_no": m["line_no"].astype(int).to_numpy(),
            "quantity": qty.to_numpy(),
            "return_date": m["InvoiceDate"].dt.normalize().to_numpy(),
            "reason": "cancellation",
        }
    )

    known = sales.dropna(subset=["customer_id"])
    cust = known.groupby("customer_id").agg(
        country=("country", lambda s: s.mode().iloc[0]),
        acquisition_date=("InvoiceDate", "min"),
    )
    # The source has no segments or regions: derive both and say how. Many buyers are wholesalers.
    units = known.groupby("customer_id").agg(units=("Quantity", "sum"), orders=("InvoiceNo", "nunique"))
    per_order = (units["units"] / units["orders"]).reindex(cust.index)
    segment = np.where(per_order >= WHOLESALE_UNITS_PER_ORDER, "wholesale", "retail")
    region = np.where(
        cust["country"].to_numpy() == "GB",
        "UK",
        np.where(np.isin(cust["country"].to_numpy(), EUROPE), "Europe", "Rest of world"),
    )
    quirks.append(
        f"no segments in the source: {int((segment == 'wholesale').sum()):,} customers averaging "
        f"{WHOLESALE_UNITS_PER_ORDER}+ units per order are 'wholesale', the rest 'retail'; regions UK, "
        "Europe and Rest of world from the country"
    )
    customers = pd.DataFrame(
        {
            "customer_id": cust.index,
            "country": cust["country"].to_numpy(),
            "region": region,
            "segment": segment,
            "is_business": segment == "wholesale",
            "acquisition_date": cust["acquisition_date"].dt.normalize().to_numpy(),
            "acquisition_channel": "webshop",
        }
    )
    desc = (
        sales.dropna(subset=["Description"])
        .groupby("StockCode")["Description"]
        .agg(lambda s: s.mode().iloc[0])
    )
    price = sales.groupby("StockCode")["UnitPrice"].median()
    products = pd.DataFrame(
        {
            "product_id": price.index,
            "name": desc.reindex(price.index).to_numpy(),
            "price": price.to_numpy(),
            "channels": "webshop",
        }
    )
    products["category"] = _category(products["name"]).to_numpy()
    matched_share = (products["category"] != "other").mean()
    quirks.append(
        f"product categories derived from description keywords: {matched_share:.0%} of "
        f"{len(products):,} products matched, the rest are 'other'"
    )
    return LoadedData(
        {
            "customers": customers,
            "products": products,
            "orders": orders,
            "order_lines": order_lines,
            "returns": returns,
        },
        quirks,
        origins={k: f"{path.name} {v}" for k, v in ORIGINS.items()},
        currency="GBP",  # the source's unit prices are in sterling
    )
