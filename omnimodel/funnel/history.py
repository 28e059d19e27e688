"""What the deals' amounts and expected close dates were on earlier dates.

An export keeps only the latest values. Two sources remember earlier ones: the workspace's optional
``opportunity_history`` (a CRM's opportunity field history) and the forecast ledger's deal states recorded at
each forecast (:mod:`~omnimodel.funnel.ledger`). :func:`recorded_states` puts them in one table (``as_of``,
``opportunity_id``, ``amount``, ``expected_close_date``) for the deals at risk (pushed again and again, amount
cut) and for why a forecast changed (:func:`states_on` a date).
"""

from __future__ import annotations

import pandas as pd

from omnimodel.data.workspace import Workspace

COLUMNS = ["as_of", "opportunity_id", "amount", "expected_close_date"]


def workspace_history(ws: Workspace, until: pd.Timestamp) -> pd.DataFrame:
    """The workspace's opportunity history recorded on or before ``until`` (empty without the table)."""
    if not ws.has("opportunity_history"):
        return pd.DataFrame(columns=COLUMNS)
    t = ws.table("opportunity_history")
    rows = t.filter(t.recorded_at <= pd.Timestamp(until).date()).execute()
    return rows.rename(columns={"recorded_at": "as_of"})[COLUMNS]


def recorded_states(
    ws: Workspace, until: pd.Timestamp, ledger_deals: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every recorded state of every deal up to ``until``: the workspace's history and the ledger's deal rows
    (``ledger_deals``, as :func:`omnimodel.funnel.ledger.read` gives them), oldest first."""
    states = workspace_history(ws, until)
    if ledger_deals is not None and len(ledger_deals):
        states = (
            pd.concat([states, ledger_deals[COLUMNS]], ignore_index=True) if len(states) else ledger_deals
        )
    states = states[COLUMNS].assign(
        as_of=pd.to_datetime(states["as_of"]),
        expected_close_date=pd.to_datetime(states["expected_close_date"]),
        amount=states["amount"].astype(float),
    )
    states = states[states["as_of"] <= pd.Timestamp(until)]
    return states.sort_values(["opportunity_id", "as_of"], kind="stable", ignore_index=True)


def states_on(states: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Each deal's last recorded state on or before ``day`` (the values a CRM showed that day)."""
    known = states[pd.to_datetime(states["as_of"]) <= pd.Timestamp(day)]
    return known.drop_duplicates("opportunity_id", keep="last").reset_index(drop=True)
