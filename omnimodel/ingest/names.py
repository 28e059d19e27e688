"""The names exports give canonical tables and columns, in English and German, as ``map --suggest`` matches them
(lower case, umlauts spelt out, letters and digits only: :func:`normalise`); the date formats it tries and the
words that tell a channel's kind."""

import re
from typing import Any

import pandas as pd

from omnimodel.ingest.readers import WORKBOOKS

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
        "contactid",
        "accountid",
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
        "salesorderid",
        "salesorder",
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
    "unit_price": ["unitprice", "price", "preis", "einzelpreis", "stueckpreis", "itemprice", "priceperunit"],
    "unit_cost": ["unitcost", "cost", "einstandspreis", "kosten", "cogs"],
    "discount": ["discount", "rabatt", "nachlass"],
    "line_no": ["lineno", "line", "linenumber", "position", "pos", "positionsnr", "posnr"],
    "channel": ["channel", "kanal", "vertriebskanal", "saleschannel", "verkaufskanal"],
    "owner": [
        "owner",
        "person",
        "salesperson",
        "salesrep",
        "salesagent",
        "regionalmanager",
        "accountmanager",
        "dealowner",
        "opportunityowner",
        "verkaeufer",
        "owneridname",
        "ownerid",
    ],
    "team": ["team", "salesteam", "region", "office"],
    "manager": ["manager", "teamlead", "leiter"],
    "shipping_method": ["shippingmethod", "shipmode", "versandart"],
    "country": [
        "country",
        "land",
        "countrycode",
        "laendercode",
        "countryregion",
        "billingcountry",
        "shippingcountry",
        "shiptocountry",
        "billtocountry",
    ],
    "region": ["region", "gebiet", "verkaufsgebiet", "salesregion"],
    "segment": ["segment", "kundensegment", "customersegment", "industry", "sector", "branche"],
    "category": ["category", "kategorie", "warengruppe", "productcategory", "produktkategorie"],
    "brand": ["brand", "marke", "hersteller"],
    "price": ["price", "listprice", "listenpreis", "preis", "vkpreis"],
    "cost": ["cost", "einstandspreis", "ek", "ekpreis", "kosten"],
    "name": ["name", "fullname", "bezeichnung"],  # and the table's own: customername, productname
    "email": ["email", "emailaddress", "mail", "emailaddress1", "emailaddress"],
    "acquisition_date": ["acquisitiondate", "signupdate", "firstorderdate", "kundeseit", "registered"],
    # opportunities, as CRMs name their fields (Dynamics 365, HubSpot, Salesforce, Pipedrive)
    "opportunity_id": [
        "opportunityid",
        "regardingobjectid",
        "regardingopportunityid",
        "dealid",
        "opportunity",
    ],
    "created_date": ["createdon", "createddate", "createdate", "createdat", "erstelltam", "adddate"],
    "amount": ["estimatedvalue", "amount", "value", "dealvalue", "opportunityamount", "betrag", "wert"],
    "stage": ["stepname", "salesstage", "stage", "stagename", "dealstage", "phase"],
    "outcome": ["outcome", "statuscode", "status", "statecode", "result", "wonlost", "ergebnis"],
    "expected_close_date": ["estimatedclosedate", "expectedclosedate", "expectedclose", "forecastclosedate"],
    "closed_date": ["actualclosedate", "closeddate", "dateclosed", "wontime", "losttime", "closedate"],
    "account_id": ["accountid", "parentaccountid", "parentcontactid", "customerid", "account", "company"],
    # activities
    "type": ["activitytypecode", "activitytype", "type", "kind", "art"],
    "activity_date": ["scheduledstart", "actualstart", "activitydate", "duedate", "date", "datum"],
    "return_id": ["returnid", "return", "retourennr", "ruecksendungnr"],
    "return_date": ["returndate", "retourendatum", "ruecksendedatum"],
    "reason": ["reason", "grund", "retourengrund"],
}
#: other names exports use for a canonical table
TABLE_NAMES = {
    "customers": ["customers", "customer", "kunden", "clients", "accounts", "contacts", "kontakte"],
    "products": ["products", "product", "artikel", "produkte", "items", "catalog", "katalog"],
    "orders": ["orders", "order", "bestellungen", "auftraege", "sales", "transactions", "umsatz"],
    "order_lines": [
        "orderlines",
        "lines",
        "orderitems",
        "positionen",
        "bestellpositionen",
        "auftragspositionen",
        "saleslines",
        "salesorderlines",
        "salesorderdetails",
        "orderproducts",
    ],
    "returns": ["returns", "retouren", "ruecksendungen"],
    "sales_team": ["salesteam", "salesteams", "people", "team", "managers", "vertrieb", "verkaeufer"],
}
#: columns of an order-line export that hold the line's total after discount (unit price = total / quantity)
LINE_TOTALS = ["sales", "linetotal", "amount", "revenue", "total", "umsatz", "betrag", "lineitemtotal"]
#: a flat order-line export feeds these tables, merged by key (:mod:`omnimodel.ingest.flat`)
FLAT_TABLES = ("customers", "products", "orders", "order_lines")
#: tables whose key is made of other tables' ids: proposed only for a file named like them
NAMED_ONLY = {"wishlist", "quotas", "forecast_calls", "touchpoints", "stage_events", "opportunity_history"}
DATE_FORMATS = [
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%y",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d",
]  # fmt: skip
#: a UTC offset ending a timestamp ("2023-01-05 10:23:45 -0500", as Shopify writes): the local time is kept
OFFSET = r"\s*[+-]\d{2}:?\d{2}$"
ISO = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
KIND_WORDS = {
    "online": ["online", "web", "shop", "app", "amazon", "ebay", "marketplace", "ecommerce", "internet", "mobile"],
    "offline": ["store", "pos", "filiale", "laden", "branch", "retail", "outlet", "geschaeft", "shoppingcenter"],
    "assisted": ["call", "phone", "telefon", "field", "aussendienst", "agent", "sales", "b2b", "vertrieb", "katalog",
                 "partner", "reseller", "wholesale", "distributor", "haendler", "grosshandel"],
}  # fmt: skip
SUFFIXES = (".csv", ".parquet", ".pq", *WORKBOOKS)
#: a deal's one close date as CRMs keep it: expected while the deal is open, actual once it is won or lost
ONE_CLOSE_DATE = ("closedate", "closingdate", "closedat")
#: exports whose column sets are publicly documented, recognised by a few of their columns and mapped as documented
SHAPES: dict[str, dict[str, Any]] = {
    "a Shopify orders export": {
        "signature": ["Name", "Lineitem quantity", "Lineitem sku", "Financial Status"],
        "columns": {
            "customers": {"customer_id": "Email", "name": "Billing Name", "city": "Billing City",
                          "postal_code": "Billing Zip", "country": "Billing Country"},
            "products": {"product_id": "Lineitem sku", "name": "Lineitem name"},
            "orders": {"order_id": "Name", "customer_id": "Email", "order_date": "Created at", "channel": "Source",
                       "country": "Billing Country", "payment_method": "Payment Method",
                       "shipping_method": "Shipping Method"},
            "order_lines": {"order_id": "Name", "product_id": "Lineitem sku", "quantity": "Lineitem quantity",
                            "unit_price": "Lineitem price"},
        },
        # Shopify's line discount is an amount; the data model's is a share of the line's price
        "derived": {"order_lines": {"discount": "{Lineitem discount} / ({Lineitem price} * {Lineitem quantity})"}},
    },
    "a WooCommerce orders export (one row per item)": {
        "signature": ["order_id", "order_number", "item_quantity", "item_sku", "billing_email"],
        "columns": {
            "customers": {"customer_id": "billing_email", "name": "billing_full_name", "city": "billing_city",
                          "postal_code": "billing_postcode", "country": "billing_country"},
            "products": {"product_id": "item_sku", "name": "item_name"},
            "orders": {"order_id": "order_id", "customer_id": "billing_email", "order_date": "order_date",
                       "country": "billing_country", "payment_method": "payment_method",
                       "shipping_method": "shipping_method"},
            "order_lines": {"order_id": "order_id", "product_id": "item_sku", "quantity": "item_quantity"},
        },
        # a web shop's orders are online; the item subtotal is before discounts, the total after
        "derived": {
            "orders": {"channel": "'online'"},
            "order_lines": {"unit_price": "{item_subtotal} / {item_quantity}",
                            "discount": "1 - {item_total} / {item_subtotal}"},
        },
        # orders that were paid for: not cancelled, failed, pending payment or refunded
        "where": dict.fromkeys(("customers", "products", "orders", "order_lines"),
                               {"status": ["completed", "processing", "on-hold"]}),
    },
    "a HubSpot deals export": {
        "signature": ["Record ID", "Deal Name", "Deal Stage", "Create Date"],
        "columns": {
            "opportunities": {"opportunity_id": "Record ID", "created_date": "Create Date", "amount": "Amount",
                              "stage": "Deal Stage", "outcome": "Deal Stage", "owner": "Deal owner",
                              "account_id": "Associated Company", "source_channel": "Original Source Type",
                              "expected_close_date": "Close Date", "closed_date": "Close Date"},
        },
        "values": {"opportunities": {"outcome": {"Closed Won": "won", "Closed Lost": "lost", "*": "open"}}},
    },
    "a Salesforce opportunity report": {
        "signature": ["Opportunity Name", "Stage", "Close Date", "Created Date"],
        "columns": {
            "opportunities": {"opportunity_id": "Opportunity ID", "created_date": "Created Date", "amount": "Amount",
                              "stage": "Stage", "outcome": "Stage", "owner": "Opportunity Owner",
                              "account_id": "Account Name", "source_channel": "Lead Source",
                              "expected_close_date": "Close Date", "closed_date": "Close Date"},
        },
        "values": {"opportunities": {"outcome": {"Closed Won": "won", "Closed Lost": "lost", "*": "open"}}},
    },
}  # fmt: skip


def normalise(name: str) -> str:
    """A name as the matcher compares it: lower case, umlauts spelt out, letters and digits only."""
    text = str(name).lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text)


def date_format(values: pd.Series) -> tuple[str | None, list[str]]:
    """The first of :data:`DATE_FORMATS` every value fits, and all that fit (two: the order is ambiguous)."""
    sample = values.dropna().astype(str).str.strip()
    sample = sample[sample != ""].drop_duplicates().head(2000)
    if sample.empty:
        return None, []
    offset = bool(sample.str.contains(OFFSET, regex=True).all())
    if offset:  # the local time is read, its offset dropped (mapping.py does the same)
        sample = sample.str.replace(OFFSET, "", regex=True)
    fits = [f for f in DATE_FORMATS if pd.to_datetime(sample, format=f, errors="coerce").notna().all()]
    fits = [f"{f} %z" for f in fits] if offset else fits
    return (fits[0] if fits else None), fits


def channel_kind(channel: str) -> str | None:
    """A channel's kind (online, offline, assisted) from the words in its name, or None."""
    text = normalise(channel)
    for kind, words in KIND_WORDS.items():
        if any(w in text for w in words):
            return kind
    return None
