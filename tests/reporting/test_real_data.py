"""The five reports on the bundled real data, as a new user would run them: UCI Online Retail (orders, no CRM),
the Maven CRM export (a pipeline, no orders) and the Olist marketing funnel (leads, wins only). Every parameter
but the sampler sizes is left at its default (taken from the data). Each report either runs or says in one
line what its data lack; the guard finds nothing to remove; every PDF prints whole."""

from __future__ import annotations

import pytest
import yaml

from omnimodel.cli import main
from omnimodel.ingest.load import ingest
from omnimodel.reporting.runner import run_reports
from omnimodel.reporting.suite import load_report_suite
from tests.conftest import SHARED_DATA
from tests.reporting.test_own_data import SMALL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout"),
]


@pytest.fixture(scope="module", params=["online_retail", "maven_crm", "olist_funnel"])
def real_run(request, tmp_path_factory):
    """The README's commands: ingest, `omnimodel init` (goals from the workspace), report."""
    adapter = request.param
    tmp = tmp_path_factory.mktemp(adapter)
    workspace, project = tmp / f"{adapter}.duckdb", tmp / "project"
    ingest(SHARED_DATA / adapter, adapter, workspace)
    assert main(["init", str(project), "--workspace", str(workspace)]) == 0
    config = yaml.safe_load((project / "reports.yaml").read_text())
    config["parameters"] = SMALL  # the one edit: small sampler settings (this test is about the data)
    (project / "reports.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return adapter, run_reports(load_report_suite(project / "reports.yaml"), jobs=2, echo=lambda _: None)


#: per data set, the reports that end early and the start of the line that says why (the others run whole)
STOPPED = {
    "online_retail": {
        "03_pipeline_forecast": "No pipeline data in this workspace",
        "05_what_if": "No what-if: its levers move the targets; targets grow last year's",
    },
    "maven_crm": {
        "01_customer_profile": "No orders in this workspace: channel mix",
        "02_segments_regions": "No orders in this workspace: segments, regions",
        "04_channel_targets": "No orders in this workspace: revenue forecasts",
        "05_what_if": "No orders in this workspace: revenue forecasts",
    },
    "olist_funnel": {
        "01_customer_profile": "No customers in this workspace",
        "02_segments_regions": "No customers in this workspace",
        "04_channel_targets": "No orders in this workspace: revenue forecasts",
        "05_what_if": "No orders in this workspace: revenue forecasts",
    },
}


def test_each_report_runs_or_says_what_its_data_lack(real_run):
    adapter, result = real_run
    for r in result.manifest["reports"]:
        assert r["status"] == "OK", (adapter, r["name"], r.get("error"))
        expected = STOPPED[adapter].get(r["name"])
        note = r.get("note") or ""
        assert note.startswith(expected) if expected else not note, (adapter, r["name"], note)
        if expected:  # the line is on the page too, where the sections would have been, not in an appendix
            page = (result.run_dir / r["html"]).read_text()
            at, appendix = page.find(expected.split(":")[0]), page.find('id="Appendix"')
            assert at > 0 and (appendix < 0 or at < appendix), (adapter, r["name"])
    if (
        adapter == "maven_crm"
    ):  # a CRM without orders: its accounts' deals before the line that ends 01 and 02
        assert "Accounts and their deals" in (result.run_dir / "01_customer_profile.html").read_text()
        segments = (result.run_dir / "02_segments_regions.html").read_text().replace("&#x27;", "'")
        assert "Deals by the accounts' segment" in segments and "Deals by the accounts' country" in segments
    if adapter == "online_retail":  # no complete calendar year: 04 gives the baseline and says why
        page = (result.run_dir / "04_channel_targets.html").read_text().replace("&#x27;", "'")
        assert "Baseline forecasts only: targets grow last year's revenue, but the orders" in page
        summary = next(r for r in result.manifest["reports"] if r["name"] == "04_channel_targets")["summary"]
        assert summary["actions"][-1].startswith("No targets yet: targets grow last year's revenue")


def test_the_guard_finds_nothing_on_real_data(real_run):
    from omnimodel.reporting.guard import findings

    adapter, result = real_run
    for r in result.manifest["reports"]:
        assert not r.get("removed"), (adapter, r["name"], r["removed"])
        assert findings((result.run_dir / r["html"]).read_text()) == [], (adapter, r["name"])


def test_every_real_data_report_prints_whole(real_run):
    from omnimodel.reporting.pdf import paper_size
    from tests.browser.test_whatif_voila import MISSING
    from tests.reporting.printed import print_problems

    if MISSING:
        pytest.skip("Debian chromium is not installed: the run writes no PDFs and says so")
    adapter, result = real_run
    for r in result.manifest["reports"]:
        problems = print_problems(result.run_dir / r["html"], result.run_dir / r["pdf"], paper_size())
        assert problems == [], (adapter, r["name"])
