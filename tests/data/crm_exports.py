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


@dataclass
class CrmFiles:
    """A CRM exported as separate files, and its truth."""

    folder: Path
    deals: pd.DataFrame
    lines: pd.DataFrame  # the sales lines with their order's date

    @property
    def revenue_by_year(self) -> pd.Series:
        value = self.lines["Quantity"] * self.lines["PricePerUnit"]
        return value.groupby(pd.to_datetime(self.lines["OrderDate"]).dt.year).sum()

    @property
    def open_by_stage(self) -> dict[str, int]:
        return self.deals[self.deals["outcome"] == "open"]["stage"].value_counts().to_dict()


def write_crm_files(folder: Path, seed: int = 17) -> CrmFiles:
    """contacts, leads, activities, opportunities, sales and sales lines as a CRM exports its entities (the
    column names of Dynamics 365's Contact, Lead, Activity, Opportunity, Sales Order and Order Product): ids as
    GUID-like text, statuses Open / Won / Lost, the stage in ``StepName``, dates ``2024-03-05``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n_contacts = 150
    contacts = pd.DataFrame(
        {
            "ContactId": [f"c{i:04d}-7f3a" for i in range(n_contacts)],
            "FullName": [f"Contact {i}" for i in range(n_contacts)],
            "EMailAddress1": [f"contact{i}@example.com" for i in range(n_contacts)],
            "Country": [["Germany", "France", "Spain", "Italy"][i % 4] for i in range(n_contacts)],
            "Industry": [["Retail", "Manufacturing", "Services"][i % 3] for i in range(n_contacts)],
            "CreatedOn": [f"2022-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(n_contacts)],
        }
    )
    deals = _deals(seed, 400, ["Qualify", "Develop", "Propose", "Close"])
    deals["contact"] = [contacts["ContactId"][i % n_contacts] for i in range(len(deals))]
    opportunities = pd.DataFrame(
        {
            "OpportunityId": ["o-" + d for d in deals["id"]],
            "Name": [f"Opportunity {i}" for i in range(len(deals))],
            "ParentContactId": deals["contact"],
            "EstimatedValue": deals["amount"],
            "StepName": deals["stage"].replace({"Closed Won": "Close", "Closed Lost": "Close"}),
            "StatusCode": deals["outcome"].str.capitalize(),
            "CreatedOn": [f"{d:%Y-%m-%d}" for d in deals["created"]],
            "EstimatedCloseDate": [f"{d:%Y-%m-%d}" if o == "open" else "" for d, o in
                                   zip(deals["expected"], deals["outcome"], strict=True)],
            "ActualCloseDate": [f"{d:%Y-%m-%d}" if o != "open" else "" for d, o in
                                zip(deals["closed"], deals["outcome"], strict=True)],
            "OwnerIdName": [["Lena Vogel", "Marc Roux"][i % 2] for i in range(len(deals))],
        }
    )  # fmt: skip
    deals["stage"] = opportunities["StepName"]
    deals["id"] = opportunities["OpportunityId"]
    activities = pd.DataFrame(
        {
            "ActivityId": [f"a{i:05d}" for i in range(900)],
            "RegardingObjectId": [opportunities["OpportunityId"][int(i)] for i in rng.integers(0, len(deals), 900)],
            "ActivityTypeCode": [["Phone Call", "Email", "Appointment"][i % 3] for i in range(900)],
            "ScheduledStart": [f"{dt.date(2023, 1, 2) + dt.timedelta(days=int(d)):%Y-%m-%d}" for d in rng.integers(0, 700, 900)],
            "OwnerIdName": [["Lena Vogel", "Marc Roux"][i % 2] for i in range(900)],
        }
    )  # fmt: skip
    # an activity is never before its deal was created
    created = activities["RegardingObjectId"].map(opportunities.set_index("OpportunityId")["CreatedOn"])
    activities["ScheduledStart"] = np.maximum(activities["ScheduledStart"], created)
    leads = pd.DataFrame(
        {
            "LeadId": [f"l{i:04d}" for i in range(80)],
            "Subject": [f"Inbound {i}" for i in range(80)],
            "LeadSourceCode": [["Web", "Trade Show", "Advertisement"][i % 3] for i in range(80)],
            "StatusCode": [["New", "Contacted", "Qualified"][i % 3] for i in range(80)],
            "CreatedOn": [f"2024-{1 + i % 11:02d}-{1 + i % 28:02d}" for i in range(80)],
        }
    )
    orders, lines = [], []
    start = dt.date(2022, 1, 3)
    for n in range(900):
        day = start + dt.timedelta(days=int(n * 727 / 899))  # 2022-01-03 to 2023-12-31, evenly
        order = f"so-{10000 + n}"
        orders.append((order, contacts["ContactId"][int(rng.integers(n_contacts))], f"{day:%Y-%m-%d}",
                       ["Direct Sales", "Web Portal", "Partner"][n % 3]))  # fmt: skip
        for k in range(int(rng.integers(1, 4))):
            lines.append((order, k + 1, f"P-{int(rng.integers(1, 30)):03d}", int(rng.integers(1, 6)),
                          round(float(rng.uniform(20, 400)), 2), f"{day:%Y-%m-%d}"))  # fmt: skip
    sales = pd.DataFrame(orders, columns=["SalesOrderId", "CustomerId", "OrderDate", "SalesChannel"])
    sales["ShipToCountry"] = sales["CustomerId"].map(contacts.set_index("ContactId")["Country"])
    lines_frame = pd.DataFrame(
        lines, columns=["SalesOrderId", "LineNumber", "ProductId", "Quantity", "PricePerUnit", "OrderDate"]
    )
    for name, frame in (("contacts", contacts), ("leads", leads), ("activities", activities),
                        ("opportunities", opportunities), ("sales", sales),
                        ("saleslines", lines_frame.drop(columns="OrderDate"))):  # fmt: skip
        frame.to_csv(folder / f"{name}.csv", index=False)
    return CrmFiles(folder, deals, lines_frame)
