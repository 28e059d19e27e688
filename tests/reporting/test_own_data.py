"""A client's own exports end to end: canonical CSV files with the client's channel names, ingested as a user
would, give five good reports; without CRM data as well, the pipeline report saying so in one line.

The exports are the small demo company written out as plain CSV (not through the demo adapter), with other
channel names and dates left as they are; every report parameter is left at its default (taken from the data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from omnimodel.cli import main
from omnimodel.config import load_report_suite
from omnimodel.reporting.runner import run_reports

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
RENAMED = {
    "webshop": "Online-Shop",
    "app": "App",
    "stores": "Filiale",
    "marketplace": "Amazon",
    "call_centre": "Telefon",
    "field_sales": "Außendienst",
}
CHANNEL_COLUMNS = {
    "channels": "channel",
    "orders": "channel",
    "customers": "acquisition_channel",
    "complaints": "channel",
    "touchpoints": "channel",
    "opportunities": "source_channel",
}
SMALL = {  # small sampler settings: this test checks that the reports run on such data, the model tests the models
    "02_segments_regions": {"clv_draws": 150, "clv_fit_customers": 800},
    "03_pipeline_forecast": {"draws": 200, "backtest_snapshots": 1},
    "04_channel_targets": {"choose_origins": 1, "score_origins": 2, "draws": 200},
    "05_what_if": {"choose_origins": 1, "draws": 200},
}


def _export(folder: Path, tables: dict, with_pipeline: bool) -> Path:
    folder.mkdir(parents=True)
    for name, frame in tables.items():
        if not with_pipeline and name in ("opportunities", "stage_events"):
            continue
        frame = frame.copy()
        if name in CHANNEL_COLUMNS:
            frame[CHANNEL_COLUMNS[name]] = frame[CHANNEL_COLUMNS[name]].replace(RENAMED)
        frame.to_csv(folder / f"{name}.csv", index=False)
    if with_pipeline:
        stages = {"stages": ["lead", "qualified", "proposal", "negotiation"], "name": "Client pipeline"}
        (folder / "funnel.yaml").write_text(yaml.safe_dump(stages))
    return folder


def _goals(path: Path) -> Path:
    """The demo's goals with the client's channel names."""
    goals = yaml.safe_load((ROOT / "goals.yaml").read_text())
    for key in ("channel_shift", "margin_floor", "channel_cost", "return_rate", "capacity"):
        goals[key] = {RENAMED.get(k, k): v for k, v in (goals.get(key) or {}).items()}
    path.write_text(yaml.safe_dump(goals, allow_unicode=True))
    return path


def _run(tmp: Path, workspace: Path, goals: Path):
    entries = []
    for nb in sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")):
        params = dict(SMALL.get(nb, {}))
        if nb in ("04_channel_targets", "05_what_if"):
            params["goals"] = str(goals)
        entries.append({"notebook": nb, "parameters": params})
    config = {"workspace": str(workspace), "output": str(tmp / "reports"), "notebooks": entries}
    config["notebooks_dir"] = str(ROOT / "notebooks")
    (tmp / "reports.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return run_reports(load_report_suite(tmp / "reports.yaml"), jobs=2, echo=lambda _: None)


@pytest.fixture(scope="module", params=[True, False], ids=["with CRM data", "orders only"])
def client_run(request, tmp_path_factory, demo_small):
    tables, _ = demo_small
    tmp = tmp_path_factory.mktemp("client")
    exports = _export(tmp / "exports", tables, with_pipeline=request.param)
    workspace = tmp / "client.duckdb"
    assert main(["ingest", str(exports), "--adapter", "canonical", "--workspace", str(workspace)]) == 0
    return request.param, _run(tmp, workspace, _goals(tmp / "goals.yaml"))


def test_five_reports_on_a_clients_own_exports(client_run):
    with_pipeline, result = client_run
    reports = result.manifest["reports"]
    assert [r["status"] for r in reports] == ["OK"] * 5, [(r["name"], r.get("error")) for r in reports]
    pipeline = next(r for r in reports if r["name"] == "03_pipeline_forecast")
    page = (result.run_dir / pipeline["html"]).read_text()
    if with_pipeline:
        assert "Client pipeline" in page and not pipeline.get("note")
    else:
        assert pipeline["note"].startswith("No pipeline data in this workspace")
        assert "No pipeline data in this workspace" in page
        assert "Traceback" not in page and "An Exception was encountered" not in page


def test_the_reports_speak_of_the_clients_channels(client_run):
    _, result = client_run
    pages = {r["name"]: (result.run_dir / r["html"]).read_text() for r in result.manifest["reports"]}
    assert not [name for name, page in pages.items() if "webshop" in page or "field_sales" in page]
    assert "Filiale" in pages["04_channel_targets"] and "Außendienst" in pages["04_channel_targets"]
    assert json.loads((result.run_dir / "manifest.json").read_text())["status"] == "OK"
