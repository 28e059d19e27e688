"""An opportunity list without stage history (most CRM exports: id, stage, status, created and close dates).

The pipeline model learns from the stages deals passed through and when. A list that shows only each deal's
stage today cannot say which stage a won or lost deal was in before, so the stage names cannot carry a chance:
the model then sees one open phase, from a deal's created date to its closed date, and the chance to win comes
from open deals' ages. The stage history this gives (a deal is won or lost on its closed date) is written as
``stage_events`` and the funnel as one phase, ``open``; the list's own stages stay in ``opportunities.stage``
for the report's count of today's deals per stage. Where a ``stage_events`` export exists it is used instead.
"""

from __future__ import annotations

import pandas as pd

#: the one phase of a pipeline known without stage history
OPEN = "open"
#: the funnel stored for such a workspace
FUNNEL = {
    "name": "Open deals (the export has no stage history)",
    "stages": [OPEN],
}
QUIRK = (
    "no stage history (stage_events): each deal is open from its created date until it is won or lost on its "
    "closed date, and its chance to win is measured from open deals' ages, not per stage; the list's own stages "
    "are kept for today's count of deals per stage (export the stage history as stage_events to have chances "
    "per stage)"
)


def closing_events(opportunities: pd.DataFrame) -> pd.DataFrame:
    """``stage_events`` of deals that were won or lost: the outcome on the closed date (text, as read)."""
    have = {"opportunity_id", "outcome", "closed_date"} <= set(opportunities.columns)
    if not have:
        return pd.DataFrame(columns=["opportunity_id", "stage", "entered_at"], dtype="string")
    closed = opportunities[
        opportunities["outcome"].isin(["won", "lost"]) & opportunities["closed_date"].notna()
    ]
    return pd.DataFrame(
        {
            "opportunity_id": closed["opportunity_id"],
            "stage": closed["outcome"],
            "entered_at": closed["closed_date"].astype("string").str.slice(0, 10),
        }
    ).reset_index(drop=True)


def has_stage_history(events: pd.Series) -> bool:
    """Whether stage events name any open stage (not only won and lost): a history the stages can be read from."""
    return bool((~events.isin(["won", "lost"])).any())
