"""Olist marketing funnel -> opportunities (one per qualified lead) and stage events.

Funnel: mql -> won | lost. Olist records only won deals, so the adapter decides the rest and says so:

- a lead without a deal is ``lost`` once it has waited longer than :data:`LOST_AFTER_DAYS` before the end of
  the data (closed on the day that wait ran out), otherwise still ``open`` (right-censored);
- the one deal won before its first contact gets its won date moved to the first-contact date;
- a missing origin becomes the channel ``missing`` (``unknown`` stays a channel of its own);
- segment, lead type, sales rep and seller state exist only for won deals: they are kept as ``won_*``
  columns, never as deal attributes a model could learn the outcome from.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omnimodel.exceptions import OmnimodelError
from omnimodel.ingest.adapters import LoadedData
from omnimodel.ingest.adapters.source import Column, check_file, money, stop, unknown
from omnimodel.ingest.readers import read_table_file

STAGES = ["mql"]
LOST_AFTER_DAYS = 180  # most won deals close well within it (median 14 days); the share is reported
FILES = {
    "leads": "olist_marketing_qualified_leads_dataset.csv",
    "deals": "olist_closed_deals_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
}
#: the columns read from each file, as the export names them
COLUMNS = {
    "leads": [
        Column("mql_id", filled=True, unique=True),
        Column("first_contact_date", "date", filled=True, happened=True),
        Column("landing_page_id"),
        Column("origin"),
    ],
    "deals": [
        Column("mql_id", filled=True, unique=True),
        Column("seller_id"),
        Column("sdr_id"),
        Column("sr_id"),
        Column("won_date", "timestamp", filled=True, happened=True),
        Column("business_segment"),
        Column("lead_type"),
        money("declared_monthly_revenue"),
    ],
    "sellers": [Column("seller_id"), Column("seller_state")],
}
ORIGINS = {
    "opportunities.opportunity_id": f"{FILES['leads']} column mql_id",
    "opportunities.created_date": f"{FILES['leads']} column first_contact_date",
    "opportunities.amount": f"{FILES['deals']} column declared_monthly_revenue",
    "opportunities.source_channel": f"{FILES['leads']} column origin",
    "opportunities.closed_date": f"{FILES['deals']} column won_date",
    "stage_events.entered_at": f"{FILES['leads']} first_contact_date and {FILES['deals']} won_date",
}


def _check(leads: pd.DataFrame, deals: pd.DataFrame, sellers: pd.DataFrame) -> None:
    """Every problem of the export in its own words, before anything is reshaped."""
    frames = {"leads": leads, "deals": deals, "sellers": sellers}
    stop([p for key, frame in frames.items() for p in check_file(FILES[key], frame, COLUMNS[key])])
    # A deal whose lead is missing would vanish without a word.
    stop(unknown(FILES["deals"], deals, "mql_id", leads["mql_id"], f"{FILES['leads']} column mql_id"))


def load(source: Path) -> LoadedData:
    """Read Olist's marketing funnel (leads and closed deals) into opportunities and stage events."""
    if source.is_file():
        source = source.parent
    missing = [f for f in FILES.values() if not (source / f).exists()]
    if missing:
        raise OmnimodelError(
            f"{source} lacks {', '.join(missing)}", fix="pass the folder of the Olist funnel files"
        )
    leads = read_table_file(source / FILES["leads"], "leads")
    deals = read_table_file(source / FILES["deals"], "deals")
    sellers = read_table_file(source / FILES["sellers"], "sellers")
    _check(leads, deals, sellers)
    quirks = []

    created = pd.to_datetime(leads["first_contact_date"], errors="coerce")
    deal = deals.set_index("mql_id")
    won_at = pd.to_datetime(leads["mql_id"].map(deal["won_date"]), errors="coerce")
    early = won_at.notna() & (won_at.dt.normalize() < created)
    if early.any():
        ids = ", ".join(leads.loc[early, "mql_id"].str[:8])
        quirks.append(
            f"{early.sum()} deal(s) won before the first contact ({ids}...): won date set to the "
            "first-contact date"
        )
        won_at = won_at.where(~early, created)
    end = won_at.max().normalize()
    won = won_at.notna()
    waited_out = ~won & (created + pd.Timedelta(days=LOST_AFTER_DAYS) <= end)
    outcome = pd.Series("open", index=leads.index).where(~won, "won").where(~waited_out, "lost")
    closed = (
        won_at.dt.normalize()
        .where(won, created + pd.Timedelta(days=LOST_AFTER_DAYS))
        .where(outcome != "open")
    )
    within = ((won_at - created).dt.days[won] <= LOST_AFTER_DAYS).mean()
    quirks.append(
        f"only won deals are recorded: {waited_out.sum()} leads without a deal after {LOST_AFTER_DAYS} days "
        f"counted as lost, {(outcome == 'open').sum()} younger ones as still open (data ends {end.date()}; "
        f"{within:.0%} of won deals closed within {LOST_AFTER_DAYS} days)"
    )
    origin = leads["origin"].fillna("missing")
    if leads["origin"].isna().any():
        quirks.append(f"{leads['origin'].isna().sum()} leads without origin: channel 'missing'")
    state = (
        leads["mql_id"]
        .map(deal["seller_id"])
        .map(sellers.drop_duplicates("seller_id").set_index("seller_id")["seller_state"])
    )
    quirks.append(
        f"segment, lead type, sales rep and seller state exist only for won deals ({state.notna().sum()} of "
        f"{won.sum()} have a state): kept as won_* columns, not as deal attributes, so no model can learn the "
        "outcome from them"
    )
    revenue = pd.to_numeric(leads["mql_id"].map(deal["declared_monthly_revenue"]), errors="coerce")
    quirks.append(
        f"declared monthly revenue is 0 or missing for {(revenue.fillna(0) == 0).sum()} leads: "
        "amount left empty (no deal values in this source)"
    )
    opportunities = pd.DataFrame(
        {
            "opportunity_id": leads["mql_id"],
            "account_id": leads["mql_id"].map(deal["seller_id"]),
            "created_date": created,
            "amount": revenue.where(revenue > 0),
            "source_channel": origin,
            "region": pd.NA,
            "country": "BR",
            "segment": pd.NA,
            "product": pd.NA,
            "owner": pd.NA,
            # Known only once a deal is won: kept apart so no model can learn the outcome from them.
            "won_seller_state": state,
            "won_business_segment": leads["mql_id"].map(deal["business_segment"]),
            "won_lead_type": leads["mql_id"].map(deal["lead_type"]),
            "won_sr_id": leads["mql_id"].map(deal["sr_id"]),
            "stage": outcome.where(outcome != "open", "mql"),
            "expected_close_date": pd.NaT,
            "closed_date": closed,
            "outcome": outcome,
            "landing_page_id": leads["landing_page_id"],
            "sdr_id": leads["mql_id"].map(deal["sdr_id"]),
        }
    )
    events = pd.concat(
        [
            pd.DataFrame({"opportunity_id": leads["mql_id"], "stage": "mql", "entered_at": created}),
            pd.DataFrame({"opportunity_id": leads["mql_id"], "stage": outcome, "entered_at": closed}),
        ]
    )
    events = events[events["stage"] != "open"].dropna(subset=["entered_at"])
    events = events.sort_values(["opportunity_id", "entered_at"], kind="stable", ignore_index=True)
    return LoadedData(
        {"opportunities": opportunities, "stage_events": events},
        quirks,
        stages=STAGES,
        origins=ORIGINS,
        currency="BRL",
    )
