"""Maven Analytics "CRM + Sales + Opportunities" export -> opportunities, stage events, accounts, products.

Funnel: prospecting -> engaging -> won | lost. Quirks handled (each reported with its count):

- product ``GTXPro`` in the pipeline is ``GTX Pro`` in products.csv: normalised before joining;
- sector typo ``technolgy`` and country typo ``Philipines``: corrected;
- lost deals carry close_value 0 and open deals none: their amount is the product's list price instead;
- prospecting deals have no date at all: created on the data's last date (they exist only in the final
  snapshot) and get no stage event;
- open deals without an account keep an empty account.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omnimodel.data.adapters import LoadedData
from omnimodel.data.countries import to_iso2
from omnimodel.data.readers import read_table_file

STAGES = ["prospecting", "engaging"]
FILES = ("sales_pipeline.csv", "accounts.csv", "products.csv", "sales_teams.csv")


def _product_key(names: pd.Series) -> pd.Series:
    return names.str.replace(" ", "", regex=False).str.lower()


def load(source: Path) -> LoadedData:
    """Read Maven Analytics' CRM export into the canonical tables."""
    from omnimodel.exceptions import OmnimodelError

    if source.is_file():
        source = source.parent
    missing = [f for f in FILES if not (source / f).exists()]
    if missing:
        raise OmnimodelError(
            f"{source} lacks {', '.join(missing)}", fix="pass the folder of the unzipped Maven CRM export"
        )
    pipe = read_table_file(source / "sales_pipeline.csv", "sales_pipeline")
    accounts = read_table_file(source / "accounts.csv", "accounts")
    products = read_table_file(source / "products.csv", "products")
    teams = read_table_file(source / "sales_teams.csv", "sales_teams")
    quirks = []

    # Products: one spelling per product.
    products["key"] = _product_key(products["product"])
    pipe["product_key"] = _product_key(pipe["product"])
    respelled = (pipe["product"] != pipe["product_key"].map(products.set_index("key")["product"])).sum()
    if respelled:
        quirks.append(
            f"{respelled} pipeline rows spell a product differently from products.csv "
            "(e.g. GTXPro vs GTX Pro): normalised to the products.csv name"
        )
    pipe["product"] = pipe["product_key"].map(products.set_index("key")["product"]).fillna(pipe["product"])

    # Accounts: typos in sector and country.
    typo = accounts["sector"].str.strip().str.lower().eq("technolgy")
    if typo.any():
        quirks.append(f"{typo.sum()} accounts with sector 'technolgy': corrected to 'technology'")
    accounts["sector"] = accounts["sector"].str.strip().str.lower().replace({"technolgy": "technology"})
    iso = to_iso2(accounts["office_location"])
    if accounts["office_location"].eq("Philipines").any():
        quirks.append("country 'Philipines' read as the Philippines (PH)")
    unknown = accounts.loc[iso.isna(), "office_location"].unique()
    if len(unknown):
        quirks.append(f"unknown countries kept as ZZ: {', '.join(map(str, unknown))}")
    accounts["country"] = iso.fillna("ZZ")

    stage = pipe["deal_stage"].str.strip().str.lower()
    outcome = stage.where(stage.isin(["won", "lost"]), "open")
    engage = pd.to_datetime(pipe["engage_date"], errors="coerce")
    close = pd.to_datetime(pipe["close_date"], errors="coerce")
    last_date = pd.concat([engage, close]).max()
    no_date = engage.isna()
    if no_date.any():
        quirks.append(
            f"{no_date.sum()} prospecting deals have no date: created_date set to the data's last date "
            f"{last_date.date()} (they enter only the final snapshot)"
        )
    price = pipe["product"].map(products.set_index("product")["sales_price"].astype(float))
    value = pd.to_numeric(pipe["close_value"], errors="coerce")
    use_price = outcome.ne("won")
    quirks.append(
        f"{use_price.sum()} lost or open deals have close value 0 or none (lost deal size is not "
        "recorded): amount set to the product's list price"
    )
    no_account = pipe["account"].isna()
    if no_account.any():
        quirks.append(f"{no_account.sum()} open deals have no account: account left empty")

    region = pipe["sales_agent"].map(teams.set_index("sales_agent")["regional_office"])
    acc = accounts.set_index("account")
    opportunities = pd.DataFrame(
        {
            "opportunity_id": pipe["opportunity_id"],
            "account_id": pipe["account"],
            "created_date": engage.fillna(last_date),
            "amount": value.where(~use_price, price),
            "source_channel": pd.NA,
            "region": region,
            "country": pipe["account"].map(acc["country"]),
            "segment": pipe["account"].map(acc["sector"]),
            "product": pipe["product"],
            "owner": pipe["sales_agent"],
            "stage": stage,
            "expected_close_date": pd.NaT,
            "closed_date": close,
            "outcome": outcome,
            "manager": pipe["sales_agent"].map(teams.set_index("sales_agent")["manager"]),
        }
    )
    events = pd.concat(
        [
            pd.DataFrame(
                {"opportunity_id": pipe["opportunity_id"], "stage": "engaging", "entered_at": engage}
            ),
            pd.DataFrame({"opportunity_id": pipe["opportunity_id"], "stage": outcome, "entered_at": close}),
        ]
    ).dropna(subset=["entered_at"])
    events = events[events["stage"] != "open"].sort_values(
        ["opportunity_id", "entered_at"], ignore_index=True
    )
    customers = pd.DataFrame(
        {
            "customer_id": accounts["account"],
            "name": accounts["account"],
            "country": accounts["country"],
            "segment": accounts["sector"],
            "is_business": True,
            "employees": accounts["employees"],
            "revenue_musd": accounts["revenue"],
        }
    )
    product_table = pd.DataFrame(
        {
            "product_id": products["product"],
            "name": products["product"],
            "category": products["series"],
            "price": products["sales_price"],
            "is_b2b": True,
        }
    )
    return LoadedData(
        {
            "customers": customers,
            "products": product_table,
            "opportunities": opportunities,
            "stage_events": events,
        },
        quirks,
        stages=STAGES,
    )
