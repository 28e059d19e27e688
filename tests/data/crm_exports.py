"""CRM exports as HubSpot and Salesforce write them, built from their public column documentation: opportunity
lists without stage history (each deal's stage today, its created date and one close date: expected while the
deal is open, actual once it is won or lost). The deals' truth comes back with the export for the tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: HubSpot's default sales pipeline, in order
HUBSPOT_STAGES = ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In",
                  "Contract Sent"]  # fmt: skip
#: Salesforce's default opportunity stages, in order
SALESFORCE_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Proposal/Price Quote",
                     "Negotiation/Review"]  # fmt: skip


@dataclass
class DealList:
    """A written opportunity list and the deals behind it."""

    path: Path
    deals: pd.DataFrame  # id, stage, outcome, created, closed (actual, for closed deals), expected, amount

    @property
    def open_by_stage(self) -> dict[str, int]:
        return self.deals[self.deals["outcome"] == "open"]["stage"].value_counts().to_dict()

    @property
    def won_by_year(self) -> pd.Series:
        won = self.deals[self.deals["outcome"] == "won"]
        return won["amount"].groupby(pd.to_datetime(won["closed"]).dt.year).sum()


def _deals(seed: int, n: int, stages: list[str]) -> pd.DataFrame:
    """Deals created 2023-01-02 to 2024-12-13; about 30 % won and 45 % lost 20 to 120 days after creation, the
    rest open in a stage, expected to close 15 to 90 days after the export (some already past due)."""
    rng = np.random.default_rng(seed)
    start, end = dt.date(2023, 1, 2), dt.date(2024, 12, 13)
    created = sorted(start + dt.timedelta(days=int(d)) for d in rng.integers(0, (end - start).days, n))
    rows = []
    for i, day in enumerate(created):
        age = (end - day).days
        closes = int(rng.integers(20, 121))
        roll = rng.random()
        outcome = "won" if roll < 0.3 and closes < age else "lost" if roll < 0.75 and closes < age else "open"
        closed = day + dt.timedelta(days=closes) if outcome != "open" else None
        expected = end + dt.timedelta(days=int(rng.integers(-20, 90))) if outcome == "open" else closed
        stage = {"won": "Closed Won", "lost": "Closed Lost"}.get(outcome) or stages[
            int(rng.integers(len(stages)))
        ]
        amount = float(round(rng.lognormal(9, 0.6), -1))
        rows.append((str(9000000 + i * 13), stage, outcome, day, closed, expected, amount))
    return pd.DataFrame(rows, columns=["id", "stage", "outcome", "created", "closed", "expected", "amount"])


def write_hubspot_deals(folder: Path, seed: int = 3, n: int = 700) -> DealList:
    """``all-deals.csv`` as HubSpot exports deals (default properties; dates as ``2023-05-04 13:22``)."""
    folder.mkdir(parents=True, exist_ok=True)
    deals = _deals(seed, n, HUBSPOT_STAGES)
    owners = ["Ana Souza", "Ben Okafor", "Chloé Martin", "Dev Patel"]
    frame = pd.DataFrame(
        {
            "Record ID": deals["id"],
            "Deal Name": [f"Deal {i}" for i in range(len(deals))],
            "Deal Stage": deals["stage"],
            "Close Date": [f"{d:%Y-%m-%d} 17:00" for d in deals["expected"]],
            "Deal owner": [owners[i % 4] for i in range(len(deals))],
            "Amount": deals["amount"].map(lambda a: f"{a:.2f}"),
            "Pipeline": "Sales Pipeline",
            "Create Date": [f"{d:%Y-%m-%d} 09:{i % 60:02d}" for i, d in enumerate(deals["created"])],
            "Last Activity Date": "",
            "Deal Type": ["newbusiness", "existingbusiness"] * (len(deals) // 2) + ["newbusiness"] * (len(deals) % 2),
            "Associated Company": [f"Company {i % 150}" for i in range(len(deals))],
            "Original Source Type": [["Organic Search", "Direct Traffic", "Offline Sources"][i % 3]
                                     for i in range(len(deals))],
        }
    )  # fmt: skip
    path = folder / "all-deals.csv"
    frame.to_csv(path, index=False)
    return DealList(path, deals)


def write_salesforce_opportunities(folder: Path, seed: int = 5, n: int = 500) -> DealList:
    """An opportunities report as Salesforce exports it (US locale dates ``5/4/2023``, amounts as numbers)."""
    folder.mkdir(parents=True, exist_ok=True)
    deals = _deals(seed, n, SALESFORCE_STAGES)
    frame = pd.DataFrame(
        {
            "Opportunity Owner": [["Maria Lopez", "Tom Becker", "Yuki Sato"][i % 3] for i in range(len(deals))],
            "Account Name": [f"Account {i % 120}" for i in range(len(deals))],
            "Opportunity Name": [f"Opportunity {i}" for i in range(len(deals))],
            "Opportunity ID": ["006" + d.rjust(15, "0") for d in deals["id"]],
            "Stage": deals["stage"],
            "Fiscal Period": [f"Q{(d.month - 1) // 3 + 1}-{d.year}" for d in deals["expected"]],
            "Amount": deals["amount"],
            "Probability (%)": deals["outcome"].map({"won": 100, "lost": 0}).fillna(40).astype(int),
            "Age": [(dt.date(2024, 12, 13) - d).days for d in deals["created"]],
            "Close Date": [f"{d.month}/{d.day}/{d.year}" for d in deals["expected"]],
            "Created Date": [f"{d.month}/{d.day}/{d.year}" for d in deals["created"]],
            "Next Step": "",
            "Lead Source": [["Web", "Phone Inquiry", "Partner Referral", "Trade Show"][i % 4] for i in range(len(deals))],
            "Type": "New Customer",
        }
    )  # fmt: skip
    deals["id"] = frame["Opportunity ID"]
    path = folder / "report1733900000000.csv"
    frame.to_csv(path, index=False)
    return DealList(path, deals)
