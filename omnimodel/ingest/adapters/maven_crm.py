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

from omnimodel.data.countries import to_iso2
from omnimodel.ingest.adapters import LoadedData
from omnimodel.ingest.adapters.source import Column, check_file, money, rows, stop, unknown
from omnimodel.ingest.readers import read_table_file

STAGES = ["prospecting", "engaging"]
FILES = ("sales_pipeline.csv", "accounts.csv", "products.csv", "sales_teams.csv")
#: the columns read from each file, as the export names them
COLUMNS = {
    "sales_pipeline.csv": [
        Column("opportunity_id", filled=True, unique=True),
        Column("sales_agent", filled=True),
        Column("product", filled=True),
        Column("account"),
        Column("deal_stage", filled=True),
        Column("engage_date", "date", happened=True),
        Column("close_date", "date", happened=True),
        money("close_value"),
    ],
    "accounts.csv": [
        Column("account", filled=True, unique=True),
        Column("sector"),
        Column("office_location"),
        Column("employees", "int", min=0),
        money("revenue"),
    ],
    "products.csv": [
        Column("product", filled=True, unique=True),
        Column("series"),
        money("sales_price", filled=True),
    ],
    "sales_teams.csv": [
        Column("sales_agent", filled=True, unique=True),
        Column("manager"),
        Column("regional_office"),
    ],
}
#: canonical column -> the source column behind it, named in the canonical validation's messages
ORIGINS = {
    "opportunities.opportunity_id": "sales_pipeline.csv column opportunity_id",
    "opportunities.amount": "sales_pipeline.csv column close_value, or products.csv sales_price",
    "opportunities.created_date": "sales_pipeline.csv column engage_date",
    "opportunities.closed_date": "sales_pipeline.csv column close_date",
    "opportunities.stage": "sales_pipeline.csv column deal_stage",
    "opportunities.outcome": "sales_pipeline.csv column deal_stage",
    "opportunities.account_id": "sales_pipeline.csv column account",
    "opportunities.owner": "sales_pipeline.csv column sales_agent",
    "sales_team.owner": "sales_teams.csv column sales_agent",
    "sales_team.manager": "sales_teams.csv column manager",
    "sales_team.team": "sales_teams.csv column regional_office",
    "opportunities.region": "sales_teams.csv column regional_office",
    "opportunities.product": "sales_pipeline.csv column product",
    "stage_events.entered_at": "sales_pipeline.csv columns engage_date and close_date",
    "customers.customer_id": "accounts.csv column account",
    "customers.country": "accounts.csv column office_location",
    "customers.segment": "accounts.csv column sector",
    "products.product_id": "products.csv column product",
    "products.price": "products.csv column sales_price",
}


def _check(pipe: pd.DataFrame, accounts, products, teams) -> None:
    """Every problem of the export in its own words, before anything is reshaped."""
    frames = dict(zip(FILES, (pipe, accounts, products, teams), strict=True))
    problems = [p for name, frame in frames.items() for p in check_file(name, frame, COLUMNS[name])]
    stop(problems)  # the rules below need the columns and their types
    file = "sales_pipeline.csv"
    stage = pipe["deal_stage"].str.strip().str.lower()
    odd = stage.notna() & ~stage.isin(["prospecting", "engaging", "won", "lost"])
    shown = ", ".join(pipe.loc[odd, "deal_stage"].unique()[:3])
    problems += rows(file, pipe, "deal_stage", f"stages other than Prospecting, Engaging, Won, Lost ({shown})",
                     odd, "use the export's four stages")  # fmt: skip
    won, closed = stage.eq("won"), stage.isin(["won", "lost"])
    problems += rows(file, pipe, "close_value", "won deals without a close value", won & pipe["close_value"].isna(),
                     "fill the deal's value (what was booked)")  # fmt: skip
    problems += rows(file, pipe, "close_date", "won or lost deals without a close date",
                     closed & pipe["close_date"].isna(), "fill the date the deal closed")  # fmt: skip
    problems += rows(file, pipe, "engage_date", "engaging, won or lost deals without an engage date",
                     stage.isin(["engaging", "won", "lost"]) & pipe["engage_date"].isna(),
                     "fill the date the deal was engaged")  # fmt: skip
    engage, close = pd.to_datetime(pipe["engage_date"]), pd.to_datetime(pipe["close_date"])
    problems += rows(file, pipe, "close_date", "close dates before the engage date", close < engage,
                     "check both dates")  # fmt: skip
    problems += unknown(file, pipe, "account", accounts["account"], "accounts.csv column account")
    problems += unknown(file, pipe, "sales_agent", teams["sales_agent"], "sales_teams.csv column sales_agent")
    problems += unknown(
        file, pipe, "product", products["product"], "products.csv column product", _product_key
    )
    stop(problems)


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
    _check(pipe, accounts, products, teams)
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
        }
    )
    sales_team = pd.DataFrame(
        {"owner": teams["sales_agent"], "manager": teams["manager"], "team": teams["regional_office"]}
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
            "sales_team": sales_team,
        },
        quirks,
        stages=STAGES,
        origins=ORIGINS,
        currency="USD",  # a US company's export; its data dictionary gives no other
    )
