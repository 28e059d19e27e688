"""Adapters on the real datasets in ../shared/data: everything loads, validates clean, and quirks are reported."""

from __future__ import annotations

import pandas as pd
import pytest

from omnimodel.cli import main
from omnimodel.ingest import validation
from omnimodel.ingest.adapters import load
from omnimodel.ingest.adapters.crm_export import DEFAULT_MAPPING
from omnimodel.ingest.load import ingest

from ..conftest import SHARED_DATA

pytestmark = pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")


@pytest.fixture(scope="module")
def maven():
    return load(SHARED_DATA / "maven_crm", "maven_crm")


@pytest.fixture(scope="module")
def olist():
    return load(SHARED_DATA / "olist_funnel", "olist_funnel")


@pytest.fixture(scope="module")
def retail():
    return load(SHARED_DATA / "online_retail", "online_retail")


def test_maven_crm_loads_clean_with_its_quirks_named(maven):
    assert validation.validate(maven.tables, stages=maven.stages) == []
    opp = maven.tables["opportunities"]
    assert len(opp) == 8800
    assert opp["outcome"].value_counts().to_dict() == {"won": 4238, "lost": 2473, "open": 2089}
    assert "GTXPro" not in set(opp["product"]) and "GTX Pro" in set(opp["product"])
    assert "technolgy" not in set(maven.tables["customers"]["segment"])
    text = " ".join(maven.quirks)
    for quirk in ("GTXPro", "technolgy", "Philipines", "no date", "list price", "no account"):
        assert quirk in text, quirk
    # lost deals get the list price, won deals keep their value
    won = opp[opp["outcome"] == "won"]
    assert (won["amount"] > 0).all() and opp.loc[opp["outcome"] == "lost", "amount"].gt(0).all()


def test_olist_funnel_loads_clean_and_decides_lost_and_open_openly(olist):
    assert validation.validate(olist.tables, stages=olist.stages) == []
    opp = olist.tables["opportunities"]
    assert len(opp) == 8000 and (opp["outcome"] == "won").sum() == 842
    assert {"lost", "open"} <= set(opp["outcome"])
    closed = opp.dropna(subset=["closed_date"])
    assert (pd.to_datetime(closed["closed_date"]) >= pd.to_datetime(closed["created_date"])).all()
    assert (opp["source_channel"] == "missing").sum() == 60
    assert any("won before the first contact" in q for q in olist.quirks)


def test_online_retail_loads_clean_and_accounts_for_every_line(retail):
    assert validation.validate(retail.tables) == []
    t = retail.tables
    assert t["customers"]["customer_id"].nunique() == len(t["customers"]) > 4000
    assert set(t["orders"]["country"]) >= {"GB", "IE", "ZA", "US"}
    assert not t["order_lines"]["product_id"].isin(["POST", "DOT", "M", "BANK CHARGES"]).any()
    assert (t["order_lines"]["quantity"] > 0).all() and (t["order_lines"]["unit_price"] > 0).all()
    # every source line is either loaded, or counted in a reported quirk
    raw = pd.read_parquet(SHARED_DATA / "online_retail" / "online_retail_lines.parquet")
    counted = {q.split(" ")[0].replace(",", ""): q for q in retail.quirks}
    duplicates, non_product, adjust = (int(k) for k in list(counted)[:3])
    cancel_lines = int(
        next(q for q in retail.quirks if "cancellation lines" in q).split(" ")[0].replace(",", "")
    )
    assert len(raw) == duplicates + non_product + adjust + cancel_lines + len(t["order_lines"])


def test_validate_command_prints_a_clean_summary(capsys):
    assert main(["validate", str(SHARED_DATA / "maven_crm"), "--adapter", "maven_crm"]) == 0
    out = capsys.readouterr().out
    assert (
        "Rows loaded:" in out and "opportunities" in out and "Quirks handled:" in out and "No problems" in out
    )


def test_ingest_real_data_into_a_workspace(tmp_path):
    report = ingest(SHARED_DATA / "olist_funnel", "olist_funnel", tmp_path / "olist.duckdb")
    assert report.ok and report.rows["opportunities"] == 8000
    from omnimodel import Workspace

    with Workspace(tmp_path / "olist.duckdb") as ws:
        assert ws.table("opportunities").count().execute() == 8000
        assert ws.meta()["adapter"] == "olist_funnel" and ws.meta()["quirks"]


def _salesforce_export(tables, folder):
    """The demo company's pipeline written the way Salesforce exports it."""
    opp = tables["opportunities"]
    names = {
        "lead": "Prospecting",
        "qualified": "Qualification",
        "proposal": "Proposal/Price Quote",
        "negotiation": "Negotiation/Review",
        "won": "Closed Won",
        "lost": "Closed Lost",
    }
    closed = opp["outcome"] != "open"
    sf = pd.DataFrame(
        {
            "Id": opp["opportunity_id"],
            "AccountId": opp["account_id"],
            "CreatedDate": opp["created_date"].dt.date,
            "Amount": opp["amount"],
            "LeadSource": opp["source_channel"],
            "Region__c": opp["region"],
            "BillingCountry": opp["country"],
            "Segment__c": opp["segment"],
            "Product_Family__c": opp["product"],
            "OwnerId": opp["owner"],
            "StageName": opp["stage"].map(names),
            "CloseDate": opp["closed_date"].where(closed, opp["expected_close_date"]).dt.date,
            "IsClosed": closed,
            "IsWon": opp["outcome"] == "won",
        }
    )
    ev = tables["stage_events"]
    hist = pd.DataFrame(
        {
            "OpportunityId": ev["opportunity_id"],
            "StageName": ev["stage"].map(names),
            "CreatedDate": ev["entered_at"].dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }
    )
    hist = pd.concat([hist, hist.iloc[:5]])  # amount edits repeat a stage row
    folder.mkdir()
    sf.to_csv(folder / "Opportunity.csv", index=False)
    hist.to_csv(folder / "OpportunityHistory.csv", index=False)
    return folder


def test_crm_export_round_trips_the_demo_pipeline(tmp_path, demo_small):
    tables, _ = demo_small
    folder = _salesforce_export(tables, tmp_path / "sf")
    (folder / "mapping.yaml").write_text(
        DEFAULT_MAPPING.read_text()
        .replace("Prospecting: prospecting", "Prospecting: lead")
        .replace("Qualification: qualification", "Qualification: qualified")
    )
    data = load(folder, "crm_export")
    assert validation.validate(data.tables, stages=data.stages) == []
    got = validation.coerce("opportunities", data.tables["opportunities"]).set_index("opportunity_id")
    want = tables["opportunities"].set_index("opportunity_id")
    got.index = got.index.astype(str)
    assert got.index.equals(want.index)
    assert (got["outcome"].astype(str) == want["outcome"]).all()
    assert (got["stage"].astype(str) == want["stage"]).all()
    assert (got["closed_date"] == want["closed_date"]).sum() == want["closed_date"].notna().sum()
    assert (got["expected_close_date"].notna() == (want["outcome"] == "open")).all()
    assert len(data.tables["stage_events"]) == len(tables["stage_events"])
    assert any("merged" in q for q in data.quirks)


def test_crm_export_names_missing_mapped_columns(tmp_path, demo_small):
    folder = _salesforce_export(demo_small[0], tmp_path / "sf")
    frame = pd.read_csv(folder / "Opportunity.csv").drop(columns=["StageName"])
    frame.to_csv(folder / "Opportunity.csv", index=False)
    from omnimodel.exceptions import OmnimodelError

    with pytest.raises(OmnimodelError, match="StageName") as err:
        load(folder, "crm_export")
    assert "mapping" in err.value.fix
