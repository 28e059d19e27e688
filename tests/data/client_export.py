"""The small demo company written out as a German retailer's exports: other file and column names, Excel and
Parquet beside CSV, cp1252 text with semicolons and decimal commas, day-first dates, country names, the
client's channel names, and order numbers that restart for every customer. Planted truth for the mapping."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CHANNELS = {
    "webshop": "Online-Shop",
    "app": "App",
    "stores": "Filiale",
    "marketplace": "Amazon",
    "call_centre": "Telefon",
    "field_sales": "Außendienst",
}
COUNTRIES = {"DE": "Germany", "FR": "France", "NL": "Netherlands", "SE": "Sweden", "DK": "Denmark"}


def write_client_export(tables: dict, folder: Path) -> Path:
    """Write the export files into ``folder``; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = tables["orders"].sort_values(["customer_id", "order_date", "order_id"]).copy()
    # The shop numbers orders per customer: 1, 2, 3 ... for everyone.
    orders["BestellNr"] = (orders.groupby("customer_id").cumcount() + 1).astype(str)
    number = orders.set_index("order_id")[["BestellNr", "customer_id"]]

    c = tables["customers"]
    kunden = pd.DataFrame(
        {
            "KundenNr": c["customer_id"],
            "Land": c["country"].map(COUNTRIES).fillna(c["country"]),
            "Region": c["region"],
            "Segment": c["segment"],
            "Kunde seit": pd.to_datetime(c["acquisition_date"]).dt.strftime("%d.%m.%Y"),
            "Telefon": c["phone"],  # not a canonical column: must stay out
            "Straße": c["delivery_address"],  # and cp1252 text in the header
        }
    )
    kunden.to_csv(folder / "Kunden.csv", sep=";", index=False, encoding="cp1252")

    p = tables["products"]
    artikel = pd.DataFrame(
        {"Artikelnummer": p["product_id"], "Bezeichnung": p["name"], "Warengruppe": p["category"],
         "Preis": p["price"], "Marke": p["brand"]}
    )  # fmt: skip
    artikel.to_parquet(folder / "Artikel.parquet", index=False)

    bestellungen = pd.DataFrame(
        {
            "BestellNr": orders["BestellNr"],
            "KundenNr": orders["customer_id"],
            "Datum": orders["order_date"].dt.strftime("%d.%m.%Y %H:%M"),
            "Kanal": orders["channel"].map(CHANNELS),
            "Land": orders["country"].map(COUNTRIES).fillna(orders["country"]),
        }
    )
    bestellungen.to_excel(folder / "Bestellungen.xlsx", index=False)

    lines = tables["order_lines"].join(number, on="order_id")
    positionen = pd.DataFrame(
        {
            "BestellNr": lines["BestellNr"],
            "KundenNr": lines["customer_id"],
            "Pos": lines["line_no"],
            "Artikel": lines["product_id"],
            "Menge": lines["quantity"],
            "Preis": lines["unit_price"].map(lambda v: f"{v:.2f}".replace(".", ",")),
            "Rabatt": lines["discount"].map(lambda v: f"{v:.2f}".replace(".", ",")),
        }
    )
    positionen.to_csv(folder / "Bestellpositionen.csv", sep=";", index=False, encoding="cp1252")

    r = tables["returns"].join(number, on="order_id")
    retouren = pd.DataFrame(
        {
            "Retourennr": r["return_id"],
            "BestellNr": r["BestellNr"],
            "KundenNr": r["customer_id"],
            "Pos": r["line_no"],
            "Menge": r["quantity"],
            "Retourendatum": pd.to_datetime(r["return_date"]).dt.strftime("%d.%m.%Y"),
            "Grund": r["reason"],
        }
    )
    retouren.to_csv(folder / "Retouren.csv", sep=";", index=False, encoding="cp1252")
    return folder
