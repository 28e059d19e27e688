"""Accounts with their deals and activities: the customer profile of a B2B company whose CRM is its record of
customers (an account's open, won and lost deals, their value, and how often the sales team was in touch)."""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.workspace import Workspace


def accounts_with_deals(ws: Workspace, top: int = 15) -> pd.DataFrame | None:
    """Per account (``customers`` referenced by ``opportunities.account_id``): open deals and their value, won
    deals and their value, lost deals, activities on its deals and the last one; the most won value first.
    None where the workspace has no deals linked to its customers."""
    if not (ws.has("customers") and ws.has("opportunities")):
        return None
    opp = ws.table("opportunities")
    if "account_id" not in opp.columns:
        return None
    customers = ws.table("customers")
    keep = [c for c in ("segment", "country", "region") if c in customers.columns]
    deals = opp.filter(opp.account_id.notnull()).select("opportunity_id", "account_id", "outcome", "amount")
    amount = deals.amount.fill_null(0)
    per = deals.group_by("account_id").aggregate(
        open_deals=(deals.outcome == "open").sum(),
        open_value=ibis.ifelse(deals.outcome == "open", amount, 0).sum(),
        won_deals=(deals.outcome == "won").sum(),
        won_value=ibis.ifelse(deals.outcome == "won", amount, 0).sum(),
        lost_deals=(deals.outcome == "lost").sum(),
    )
    if ws.has("activities"):
        act = ws.table("activities")
        touched = act.join(deals.select("opportunity_id", "account_id"), "opportunity_id")
        contact = touched.group_by("account_id").aggregate(
            activities=touched.count(), last_activity=touched.activity_date.max()
        )
        per = per.left_join(contact, "account_id").drop("account_id_right")
    linked = customers.select("customer_id", *keep).join(per, customers.customer_id == per.account_id)
    frame = linked.drop("account_id").order_by(ibis.desc("won_value"), "customer_id").execute()
    if frame.empty:
        return None
    frame = frame.rename(columns={"customer_id": "account"})
    if "activities" in frame:
        frame["activities"] = frame["activities"].fillna(0).astype(int)
    return frame.head(top).reset_index(drop=True)
