"""A CRM's opportunity list without stage history (HubSpot's deals export, from its public column documentation)
to five reports, as a new user would: the unedited `map --suggest`, ingest, init, report. 03 forecasts from the
one open phase and says so in one line, with today's deals per CRM stage as the export has them; 01, 02, 04 and 05
each say in one line what a CRM-only workspace lacks."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from omnimodel.cli import main
from tests.data.crm_exports import write_crm_files, write_hubspot_deals, write_salesforce_opportunities
from tests.data.shop_exports import suggest_and_ingest
from tests.reporting.report_text import reader_problems
from tests.reporting.test_own_data import SMALL

pytestmark = pytest.mark.slow

STOPPED = {
    "01_customer_profile": "No customers in this workspace",
    "02_segments_regions": "No customers in this workspace",
    "04_channel_targets": "No orders in this workspace",
    "05_what_if": "No orders in this workspace",
}


@pytest.fixture(scope="module")
def crm_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crm")
    deals = write_hubspot_deals(tmp / "exports")
    return _run(tmp, deals)


def _run(tmp, deals):
    workspace, project = tmp / "crm.duckdb", tmp / "crm"
    suggest_and_ingest(tmp / "exports", workspace)
    assert main(["init", str(project), "--workspace", str(workspace)]) == 0
    config = yaml.safe_load((project / "reports.yaml").read_text())
    config["parameters"] = SMALL  # the one edit: small sampler settings
    (project / "reports.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    assert main(["report", "--config", str(project / "reports.yaml")]) == 0
    run = project / "reports" / "latest"
    return deals, run, json.loads((run / "manifest.json").read_text())


def _visible(page: str) -> str:
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S))
    return re.sub(r"\s+", " ", text)


def test_five_reports_and_the_forecast_from_the_list(crm_run):
    _, run, manifest = crm_run
    reports = {r["name"]: r for r in manifest["reports"]}
    assert [r["status"] for r in reports.values()] == ["OK"] * 5
    for name, start in STOPPED.items():
        assert (reports[name].get("note") or "").startswith(start), name
    assert not reports["03_pipeline_forecast"].get("note")
    cards = reports["03_pipeline_forecast"]["summary"]["cards"]
    assert cards[0]["label"].startswith("Bookings ") and cards[0]["value"] not in ("–", "0")
    page = (run / "03_pipeline_forecast.html").read_text()
    assert not reader_problems(page) and not reports["03_pipeline_forecast"].get("removed")


def test_the_pipeline_report_says_there_is_no_stage_history_and_counts_deals_per_crm_stage(crm_run):
    deals, run, _ = crm_run
    text = _visible((run / "03_pipeline_forecast.html").read_text())
    assert "No stage history in this workspace (an opportunity list)" in text
    for stage, count in deals.open_by_stage.items():  # the table of today's open deals per stage
        assert f"{stage} {count}" in text, stage
    # segments and regions the list does not carry are said once, not shown as "unknown"
    assert "No region in the opportunity data" in text and "unknown" not in text


def test_a_crm_exported_as_separate_files_gives_five_whole_reports(tmp_path):
    """Contacts, leads, activities, opportunities, sales and sales lines (Dynamics 365's entity columns)."""
    crm = write_crm_files(tmp_path / "exports")
    _, run, manifest = _run(tmp_path, crm)
    reports = {r["name"]: r for r in manifest["reports"]}
    assert [r["status"] for r in reports.values()] == ["OK"] * 5
    assert not [n for n, r in reports.items() if r.get("note") or r.get("removed")]
    text = _visible((run / "03_pipeline_forecast.html").read_text())
    for stage, count in crm.open_by_stage.items():
        assert f"{stage} {count}" in text, stage
    segments = _visible((run / "02_segments_regions.html").read_text())
    assert "leading with uncategorised" not in segments and "Address Retail through" in segments


@pytest.mark.parametrize("export", ["Shopify", "WooCommerce", "Salesforce"])
def test_each_documented_export_gives_five_reports_through_the_unedited_suggestion(tmp_path, export):
    """The other exports built from their public documentation, each through suggest, ingest, init, report."""
    from tests.data.shop_exports import write_shopify_export, write_woocommerce_export

    writer = {"Shopify": write_shopify_export, "WooCommerce": write_woocommerce_export,
              "Salesforce": write_salesforce_opportunities}[export]  # fmt: skip
    _, run, manifest = _run(tmp_path, writer(tmp_path / "exports"))
    reports = {r["name"]: r for r in manifest["reports"]}
    assert [r["status"] for r in reports.values()] == ["OK"] * 5, [
        (n, r.get("error")) for n, r in reports.items()
    ]
    assert not [n for n, r in reports.items() if r.get("removed")]
    for name, report in reports.items():
        assert not reader_problems((run / report["html"]).read_text()), (export, name)
    if export == "Salesforce":  # a CRM only: 03 runs whole, the others say what they lack
        assert not reports["03_pipeline_forecast"].get("note")
        assert all((reports[n].get("note") or "").startswith(s) for n, s in STOPPED.items())
    else:  # a shop only: 03 says there is no pipeline, the others run whole
        assert (reports["03_pipeline_forecast"].get("note") or "").startswith("No pipeline data")
        assert not [n for n, r in reports.items() if r.get("note") and n != "03_pipeline_forecast"]
