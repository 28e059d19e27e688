"""A client's own exports end to end: canonical CSV files with the client's channel names, ingested as a user
would, give five good reports; without CRM data (and without customer segments, regions and returns) as well,
the pipeline report saying so in one line and the targets saying profits are before returns.

The exports are the small demo company written out as plain CSV (not through the demo adapter), with other
channel names and dates left as they are; every report parameter is left at its default (taken from the data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from omnimodel.cli import main
from tests.data.client_export import CHANNELS

pytestmark = pytest.mark.slow
RENAMED = CHANNELS  # the client's own channel names
CHANNEL_COLUMNS = {
    "channels": "channel",
    "orders": "channel",
    "customers": "acquisition_channel",
    "complaints": "channel",
    "touchpoints": "channel",
    "opportunities": "source_channel",
}
SMALL = {  # shared parameters: each notebook takes the ones it declares
    "clv_draws": 150,
    "clv_fit_customers": 800,
    "draws": 200,
    "backtest_snapshots": 1,
    "choose_origins": 1,
    "score_origins": 2,
}


def _export(folder: Path, tables: dict, with_pipeline: bool) -> Path:
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        if not with_pipeline and name in ("opportunities", "stage_events", "returns"):
            continue  # a plain shop: no CRM, and no returns export (optional; 01, 04 and 05 failed without it)
        frame = frame.copy()
        if not with_pipeline and name == "customers":
            # A plain shop: no CRM, and customers without segment or region (both optional).
            frame = frame.drop(columns=["segment", "region"])
        if name in CHANNEL_COLUMNS:
            frame[CHANNEL_COLUMNS[name]] = frame[CHANNEL_COLUMNS[name]].replace(RENAMED)
        frame.to_csv(folder / f"{name}.csv", index=False)
    if with_pipeline:
        stages = {"stages": ["lead", "qualified", "proposal", "negotiation"], "name": "Client pipeline"}
        (folder / "funnel.yaml").write_text(yaml.safe_dump(stages))
    return folder


class Run:
    """A finished report run as the tests read it: its folder and manifest."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.manifest = json.loads((run_dir / "manifest.json").read_text())


@pytest.fixture(
    scope="module", params=[True, False], ids=["with CRM data", "orders only, no segments or regions"]
)
def client_run(request, tmp_path_factory, demo_small):
    """The README's "Your own data" commands, run as written: validate, ingest, init, report."""
    tables, _ = demo_small
    tmp = tmp_path_factory.mktemp("client")
    exports = _export(tmp / "exports", tables, with_pipeline=request.param)
    workspace, project = tmp / "acme.duckdb", tmp / "acme"
    assert main(["validate", str(exports), "--adapter", "canonical"]) == 0
    assert main(["ingest", str(exports), "--adapter", "canonical", "--workspace", str(workspace)]) == 0
    assert main(["init", str(project), "--workspace", str(workspace)]) == 0
    # The one edit: small sampler settings for every notebook (this test is about the data, not the models).
    config = yaml.safe_load((project / "reports.yaml").read_text())
    config["parameters"] = SMALL
    (project / "reports.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    main(
        ["report", "--jobs", "2", "--config", str(project / "reports.yaml")]
    )  # `cd acme && omnimodel report`
    runs = sorted(p for p in (project / "reports").iterdir() if p.name[0].isdigit())
    return request.param, Run(runs[-1])


def test_five_reports_on_a_clients_own_exports(client_run):
    with_pipeline, result = client_run
    reports = result.manifest["reports"]
    assert [r["status"] for r in reports] == ["OK"] * 5, [(r["name"], r.get("error")) for r in reports]
    pipeline = next(r for r in reports if r["name"] == "03_pipeline_forecast")
    page = (result.run_dir / pipeline["html"]).read_text()
    if with_pipeline:
        assert "Bookings in" in page and not pipeline.get("note")  # the forecast, with the stored funnel
    else:
        assert pipeline["note"].startswith("No pipeline data in this workspace")
        targets = (result.run_dir / "04_channel_targets.html").read_text()
        assert "No returns in this workspace: profits are before returns" in targets
        assert "No pipeline data in this workspace" in page
        assert "Traceback" not in page and "An Exception was encountered" not in page


def test_the_reports_speak_of_the_clients_channels(client_run):
    _, result = client_run
    pages = {r["name"]: (result.run_dir / r["html"]).read_text() for r in result.manifest["reports"]}
    assert not [name for name, page in pages.items() if "webshop" in page or "field_sales" in page]
    # 04 lists the goals, which `omnimodel init` filled with the workspace's own channels
    assert "Filiale" in pages["04_channel_targets"] and "Außendienst" in pages["04_channel_targets"]
    # 04 and 05 show one plan: computed by one, reused by the other
    assert sorted("Plan reused" in pages[n] for n in ("04_channel_targets", "05_what_if")) == [False, True]
    assert json.loads((result.run_dir / "manifest.json").read_text())["status"] == "OK"


def test_the_clients_reports_show_nothing_a_reader_must_not_see(client_run):
    _, result = client_run
    removed = {r["name"]: r["removed"] for r in result.manifest["reports"] if r.get("removed")}
    assert not removed, removed
