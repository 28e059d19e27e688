"""Exports as shops and retailers make them, built from the public column documentation (not from any data set):

- a flat order export as legacy Excel (``.xls``) or ``.xlsx``, with the column set of Tableau's "Sample -
  Superstore" workbook: one row per order line, the order's, customer's and product's attributes repeated on
  every row, the line's sales after discount (no unit price), no channel; a ``Returns`` sheet of order ids
  flagged "Yes" and a ``People`` sheet naming each region's manager. Its quirks: a customer's city, state and
  region are the order's ship-to (they vary between a customer's orders) and a few product ids carry two names.

The truth (revenue per year, orders returned) comes back with the export, for the tests to check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SUPERSTORE_COLUMNS = [
    "Row ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID", "Customer Name", "Segment",
    "Country/Region", "City", "State", "Postal Code", "Region", "Product ID", "Category", "Sub-Category",
    "Product Name", "Sales", "Quantity", "Discount", "Profit",
]  # fmt: skip
PLACES = [  # (city, state, postal code, region)
    ("New York City", "New York", "10035", "East"),
    ("Philadelphia", "Pennsylvania", "19143", "East"),
    ("Los Angeles", "California", "90036", "West"),
    ("Seattle", "Washington", "98103", "West"),
    ("Chicago", "Illinois", "60623", "Central"),
    ("Houston", "Texas", "77095", "Central"),
    ("Atlanta", "Georgia", "30318", "South"),
    ("Miami", "Florida", "33142", "South"),
]
MANAGERS = {
    "East": "Chuck Magee",
    "West": "Sadie Pawthorne",
    "Central": "Roxanne Rodriguez",
    "South": "Fred Suzuki",
}
CATEGORIES = {
    "Furniture": ["Chairs", "Tables", "Bookcases"],
    "Office Supplies": ["Paper", "Binders", "Storage"],
    "Technology": ["Phones", "Accessories"],
}


@dataclass
class FlatExport:
    """A written flat export and what it must give once ingested."""

    path: Path
    lines: pd.DataFrame  # the Orders sheet as written
    returned: list[str]  # order ids on the Returns sheet

    @property
    def revenue_by_year(self) -> pd.Series:
        years = pd.to_datetime(self.lines["Order Date"]).dt.year
        return self.lines["Sales"].groupby(years).sum()


def suggest_and_ingest(folder: Path, workspace: Path) -> None:
    """What a new user types: `omnimodel map --suggest` into the folder's mapping.yaml, unedited, then `omnimodel
    ingest` (both must succeed)."""
    from omnimodel.cli import main

    assert main(["map", "--suggest", str(folder), "--out", str(folder / "mapping.yaml")]) == 0
    assert main(["ingest", str(folder), "--adapter", "canonical", "--workspace", str(workspace)]) == 0


def superstore_lines(seed: int = 7, customers: int = 220, orders: int = 1100) -> pd.DataFrame:
    """Order lines from 2021-01-04 to 2023-12-30 (the export ends in a year's last days)."""
    rng = np.random.default_rng(seed)
    products = []
    for i in range(48):
        category = list(CATEGORIES)[i % 3]
        sub = CATEGORIES[category][i % len(CATEGORIES[category])]
        code = f"{category[:3].upper()}-{sub[:2].upper()}-{10000000 + i * 137}"
        products.append((code, category, sub, f"{sub} model {i}", round(float(rng.uniform(5, 400)), 2)))
    people = []
    for i in range(customers):
        first, last = (
            ["Claire", "Sean", "Brosina", "Andrew", "Irene"][i % 5],
            ["Gute", "Miller", "Allen"][i % 3],
        )
        cid = f"{first[0]}{last[0]}-{10000 + i * 15}"
        people.append(
            (cid, f"{first} {last} {i}", ["Consumer", "Corporate", "Home Office"][i % 3], i % len(PLACES))
        )
    start, days = dt.date(2021, 1, 4), (dt.date(2023, 12, 30) - dt.date(2021, 1, 4)).days
    when = sorted(rng.integers(0, days, size=orders - 1).tolist()) + [days]  # the last on 30 December
    rows = []
    for n, offset in enumerate(when):
        date = start + dt.timedelta(days=int(offset))
        cid, name, segment, home = people[int(rng.integers(customers))]
        place = PLACES[home if rng.random() < 0.8 else int(rng.integers(len(PLACES)))]  # ship-to varies
        order_id = f"{['CA', 'US'][n % 2]}-{date.year}-{100000 + n * 7}"
        ship = date + dt.timedelta(days=int(rng.integers(0, 6)))
        mode = ["Standard Class", "Second Class", "First Class", "Same Day"][int(rng.integers(4))]
        for k in range(int(rng.integers(1, 5))):
            code, category, sub, pname, price = products[int(rng.integers(len(products)))]
            if k == 1 and code.endswith("0"):
                pname = pname + " (new)"  # Superstore's quirk: one product id, two names
            quantity, discount = int(rng.integers(1, 8)), float(rng.choice([0.0, 0.0, 0.1, 0.2]))
            sales = round(quantity * price * (1 - discount), 4)
            rows.append(
                [0, order_id, date, ship, mode, cid, name, segment, "United States", *place[:3], place[3], code,
                 category, sub, pname, sales, quantity, discount, round(sales * 0.15, 4)]
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=SUPERSTORE_COLUMNS)
    frame["Row ID"] = np.arange(1, len(frame) + 1)
    return frame


def write_flat_export(folder: Path, suffix: str = ".xls", seed: int = 7) -> FlatExport:
    """The workbook in ``folder`` (``.xls`` with real date cells as the legacy export has them; ``.xlsx`` with
    dates as month-first text, as a re-saved CSV gives them), with its Orders, Returns and People sheets."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = superstore_lines(seed)
    order_ids = lines["Order ID"].drop_duplicates()
    returned = order_ids.sample(frac=0.08, random_state=seed).tolist()
    returns = pd.DataFrame({"Returned": "Yes", "Order ID": returned})
    people = pd.DataFrame({"Regional Manager": list(MANAGERS.values()), "Region": list(MANAGERS)})
    path = folder / f"Sample - Superstore{suffix}"
    if suffix == ".xls":
        _write_xls(path, {"Orders": lines, "Returns": returns, "People": people})
    else:
        text = lines.copy()
        for column in ("Order Date", "Ship Date"):
            text[column] = [f"{d.month}/{d.day}/{d.year}" for d in text[column]]
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for name, sheet in (("Orders", text), ("Returns", returns), ("People", people)):
                sheet.to_excel(writer, sheet_name=name, index=False)
    return FlatExport(path, lines, returned)


def _write_xls(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """A legacy BIFF workbook (pandas no longer writes .xls; xlwt does, as old retail systems did)."""
    import xlwt

    book = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="M/D/YYYY")
    for name, frame in sheets.items():
        sheet = book.add_sheet(name)
        for j, column in enumerate(frame.columns):
            sheet.write(0, j, column)
        for i, row in enumerate(frame.itertuples(index=False), start=1):
            for j, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write(i, j, dt.datetime.combine(value, dt.time()), date_style)
                else:
                    sheet.write(i, j, value.item() if hasattr(value, "item") else value)
    book.save(str(path))


#: Shopify's orders export, as its help centre documents the columns ("Exporting orders"), in that order
SHOPIFY_COLUMNS = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at", "Accepts Marketing",
    "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code", "Discount Amount", "Shipping Method",
    "Created at", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price",
    "Lineitem sku", "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status",
    "Billing Name", "Billing Street", "Billing Address1", "Billing Address2", "Billing Company", "Billing City",
    "Billing Zip", "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City", "Shipping Zip",
    "Shipping Province", "Shipping Country", "Shipping Phone", "Notes", "Note Attributes", "Cancelled at",
    "Payment Method", "Payment Reference", "Refunded Amount", "Vendor", "Outstanding Balance", "Employee",
    "Location", "Device ID", "Id", "Tags", "Risk Level", "Source", "Lineitem discount", "Tax 1 Name",
    "Tax 1 Value", "Phone", "Receipt Number", "Duties", "Billing Province Name", "Shipping Province Name",
    "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
]  # fmt: skip
#: the columns Shopify fills on an order's every row; the others only on its first
SHOPIFY_LINE_COLUMNS = {
    "Name", "Lineitem quantity", "Lineitem name", "Lineitem price", "Lineitem compare at price", "Lineitem sku",
    "Lineitem requires shipping", "Lineitem taxable", "Lineitem fulfillment status", "Vendor", "Lineitem discount",
}  # fmt: skip


@dataclass
class ShopifyExport:
    """A written Shopify orders export and its lines' revenue (price x quantity - discount) by local date."""

    path: Path
    revenue: pd.Series  # by the order's local date

    @property
    def revenue_by_year(self) -> pd.Series:
        return self.revenue.groupby(pd.to_datetime(self.revenue.index).year).sum()


def write_shopify_export(folder: Path, seed: int = 11, orders: int = 700) -> ShopifyExport:
    """``orders_export_1.csv`` from 2022-01-03 to 2023-12-31: one row per line item, the order's fields on its
    first row only, timestamps with their UTC offset (daylight saving moves it), channel in ``Source`` (web,
    pos), line discounts as amounts."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    skus = [(f"SKU-{100 + i}", f"Tee {i} - {['S', 'M', 'L'][i % 3]}", round(float(rng.uniform(12, 90)), 2))
            for i in range(30)]  # fmt: skip
    buyers = [(f"buyer{i}@example.com", f"Buyer {i}", ["US", "US", "CA", "GB"][i % 4]) for i in range(160)]
    start = dt.datetime(2022, 1, 3, 9)
    span = (dt.datetime(2023, 12, 31, 18) - start).total_seconds()
    times = sorted(start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, orders - 1))
    times.append(dt.datetime(2023, 12, 31, 18))
    rows, revenue = [], {}
    for n, when in enumerate(times):
        email, name, country = buyers[int(rng.integers(len(buyers)))]
        offset = "-0400" if 3 < when.month < 11 else "-0500"
        order = {c: "" for c in SHOPIFY_COLUMNS}
        order |= {
            "Name": f"#{1001 + n}", "Email": email, "Financial Status": "paid", "Currency": "USD",
            "Created at": f"{when:%Y-%m-%d %H:%M:%S} {offset}", "Billing Name": name, "Billing Country": country,
            "Billing City": "Springfield", "Billing Zip": "01101", "Shipping Method": "Standard",
            "Payment Method": "Shopify Payments", "Source": "pos" if rng.random() < 0.25 else "web",
            "Id": str(4500000000 + n), "Accepts Marketing": "no", "Risk Level": "Low",
        }  # fmt: skip
        for k in range(int(rng.integers(1, 4))):
            sku, title, price = skus[int(rng.integers(len(skus)))]
            quantity = int(rng.integers(1, 4))
            discount = round(price * quantity * 0.1, 2) if rng.random() < 0.2 else 0.0
            line = (order if k == 0 else {c: (order[c] if c == "Name" else "") for c in SHOPIFY_COLUMNS}) | {
                "Lineitem quantity": str(quantity), "Lineitem name": title, "Lineitem price": f"{price:.2f}",
                "Lineitem sku": sku, "Lineitem requires shipping": "true", "Lineitem taxable": "true",
                "Lineitem fulfillment status": "fulfilled", "Vendor": "Acme Tees",
                "Lineitem discount": f"{discount:.2f}",
            }  # fmt: skip
            rows.append(line)
            revenue[when.date()] = revenue.get(when.date(), 0.0) + price * quantity - discount
    path = folder / "orders_export_1.csv"
    pd.DataFrame(rows, columns=SHOPIFY_COLUMNS).to_csv(path, index=False)
    return ShopifyExport(path, pd.Series(revenue).sort_index())


#: WooCommerce's Customer/Order/Coupon Export, "CSV one row per item" format, as its documentation lists the columns
WOOCOMMERCE_COLUMNS = [
    "order_id", "order_number", "order_number_formatted", "order_date", "status", "shipping_total",
    "shipping_tax_total", "fee_total", "fee_tax_total", "tax_total", "cart_discount", "order_discount",
    "discount_total", "order_total", "refunded_total", "order_currency", "payment_method", "shipping_method",
    "customer_id", "billing_first_name", "billing_last_name", "billing_full_name", "billing_company",
    "billing_email", "billing_phone", "billing_address_1", "billing_address_2", "billing_postcode", "billing_city",
    "billing_state", "billing_state_code", "billing_country", "shipping_first_name", "shipping_last_name",
    "shipping_full_name", "shipping_address_1", "shipping_address_2", "shipping_postcode", "shipping_city",
    "shipping_state", "shipping_state_code", "shipping_country", "shipping_company", "customer_note", "item_id",
    "item_product_id", "item_name", "item_sku", "item_quantity", "item_subtotal", "item_subtotal_tax",
    "item_total", "item_total_tax", "item_refunded", "item_refunded_qty", "item_meta", "shipping_items",
    "fee_items", "tax_items", "coupon_items", "order_notes", "download_permissions",
]  # fmt: skip


def write_woocommerce_export(folder: Path, seed: int = 13, orders: int = 600) -> ShopifyExport:
    """``orders-export.csv`` from 2022-01-03 to 2023-12-31, every order field on every item row; guests have
    customer_id 0; cancelled, failed and refunded orders are in the export and not in the revenue."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    skus = [(f"woo-{200 + i}", f"Mug {i}", round(float(rng.uniform(8, 40)), 2)) for i in range(25)]
    buyers = [
        (f"guest{i}@example.org", f"Guest {i}", ["DE", "AT", "CH", "FR"][i % 4], i % 3) for i in range(120)
    ]
    start = dt.datetime(2022, 1, 3, 10)
    span = (dt.datetime(2023, 12, 31, 12) - start).total_seconds()
    times = sorted(start + dt.timedelta(seconds=float(s)) for s in rng.uniform(0, span, orders - 1))
    times.append(dt.datetime(2023, 12, 31, 12))
    rows, revenue = [], {}
    for n, when in enumerate(times):
        email, name, country, registered = buyers[int(rng.integers(len(buyers)))]
        status = str(rng.choice(["completed"] * 8 + ["processing", "cancelled", "refunded", "failed"]))
        order = dict.fromkeys(WOOCOMMERCE_COLUMNS, "") | {
            "order_id": str(5000 + n), "order_number": str(5000 + n), "order_number_formatted": f"#{5000 + n}",
            "order_date": f"{when:%Y-%m-%d %H:%M:%S}", "status": status, "order_currency": "EUR",
            "payment_method": "stripe", "shipping_method": "flat_rate",
            "customer_id": str(100 + n % 50) if registered else "0", "billing_full_name": name,
            "billing_email": email, "billing_country": country, "billing_city": "Musterstadt",
            "billing_postcode": "12345",
        }  # fmt: skip
        for k in range(int(rng.integers(1, 4))):
            sku, title, price = skus[int(rng.integers(len(skus)))]
            quantity = int(rng.integers(1, 4))
            total = round(price * quantity * (0.9 if rng.random() < 0.2 else 1.0), 2)
            rows.append(order | {
                "item_id": str(n * 10 + k), "item_product_id": sku[4:], "item_name": title, "item_sku": sku,
                "item_quantity": str(quantity), "item_subtotal": f"{price * quantity:.2f}", "item_total": f"{total:.2f}",
            })  # fmt: skip
            if status in ("completed", "processing", "on-hold"):
                revenue[when.date()] = revenue.get(when.date(), 0.0) + total
    path = folder / "orders-export.csv"
    pd.DataFrame(rows, columns=WOOCOMMERCE_COLUMNS).to_csv(path, index=False)
    return ShopifyExport(path, pd.Series(revenue).sort_index())
