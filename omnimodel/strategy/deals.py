"""Segments and regions of a CRM without orders: the accounts' deals by the segment, region and country the
accounts carry (accounts, open pipeline, won value, win rate), so a B2B company's strategy starts from its
pipeline where no order export exists."""

from __future__ import annotations

import ibis
import pandas as pd

from omnimodel.data.workspace import Workspace

#: account columns a CRM-only strategy can be broken down by
LEVELS = ("segment", "region", "country")


def deals_by_account_level(ws: Workspace) -> dict[str, pd.DataFrame]:
    """Per level the accounts carry (segment, region, country): accounts with deals, open deals and value, won
    deals and value, and the win rate of the closed deals; the most won value first. Empty without accounts
    linked to deals."""
    if not (ws.has("customers") and ws.has("opportunities")):
        return {}
    opp, customers = ws.table("opportunities"), ws.table("customers")
    if "account_id" not in opp.columns:
        return {}
    levels = [c for c in LEVELS if c in customers.columns]
    accounts = customers.select("customer_id", **{f"account_{c}": customers[c] for c in levels})
    t = opp.join(accounts, opp.account_id == accounts.customer_id)  # the account's levels, not the deal's own
    amount = t.amount.fill_null(0)
    out = {}
    for level in levels:
        frame = (
            t.group_by(**{level: t[f"account_{level}"]})
            .aggregate(
                accounts=t.account_id.nunique(),
                open_deals=(t.outcome == "open").sum(),
                open_value=ibis.ifelse(t.outcome == "open", amount, 0).sum(),
                won_deals=(t.outcome == "won").sum(),
                won_value=ibis.ifelse(t.outcome == "won", amount, 0).sum(),
                lost_deals=(t.outcome == "lost").sum(),
            )
            .order_by(ibis.desc("won_value"))
            .execute()
        )
        frame = frame[frame[level].notna()]
        if len(frame) < 2:  # one level (or none) is no breakdown
            continue
        closed = frame["won_deals"] + frame["lost_deals"]
        frame["win_rate"] = (frame["won_deals"] / closed).where(closed > 0)
        out[level] = frame.reset_index(drop=True)
    return out
