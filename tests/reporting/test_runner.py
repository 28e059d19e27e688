"""The report runner end to end: real notebooks, real kernels, real HTML.

One run of all five notebooks on a small demo workspace seeded with hostile text checks the happy path, the
HTML (no code, escaped text, no personal data) and the manifest. Small throwaway notebooks check the failure
and interrupt paths.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from omnimodel.data.workspace import write_workspace
from omnimodel.exceptions import ConfigError, ParameterError
from omnimodel.reporting.runner import run_reports
from omnimodel.reporting.suite import load_report_suite

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script>"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hostile_workspace(tmp_path_factory, demo_small):
    """The small demo with a script tag as a brand, a segment and a customer's name, and an e-mail to hide."""
    tables, truth = demo_small
    tables = {k: v.copy() for k, v in tables.items()}
    tables["products"]["brand"] = HOSTILE
    # a segment name shows in the segment tables of notebooks 01 and 02
    tables["customers"].loc[tables["customers"]["segment"] == "premium", "segment"] = HOSTILE
    tables["customers"].loc[:, "name"] = "Eve " + HOSTILE
    tables["customers"].loc[:, "email"] = "eve.secret@example.com"
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    return write_workspace(path, tables, {"source": "test", "adapter": "demo", "truth": truth})


def _suite(tmp: Path, workspace: Path, notebooks_dir: Path = ROOT / "notebooks", entries=None) -> Path:
    config = {
        "workspace": str(workspace),
        "notebooks_dir": str(notebooks_dir),
        "output": str(tmp / "reports"),
        "notebooks": entries or [p.stem for p in sorted(notebooks_dir.glob("*.ipynb"))],
    }
    path = tmp / "reports.yaml"
    path.write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "goals.yaml", tmp / "goals.yaml")  # a project keeps its goals beside its reports.yaml
    return path


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, hostile_workspace):
    tmp = tmp_path_factory.mktemp("run")
    lines: list[str] = []
    entries = [p.stem for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    # small sampler settings: this test checks the runner and the HTML, the model tests check the model
    small = {
        "03_pipeline_forecast": {"draws": 300, "backtest_snapshots": 1},
        "01_customer_profile": {"clv_draws": 200, "clv_fit_customers": 1000},  # as 02: one shared CLV fit
        "02_segments_regions": {"clv_draws": 200, "clv_fit_customers": 1000},
        "04_channel_targets": {"choose_origins": 1, "score_origins": 2, "draws": 200},
        "05_what_if": {"choose_origins": 1, "score_origins": 2, "draws": 200},  # as 04: one shared plan
    }
    entries = [{"notebook": n, "parameters": small[n]} if n in small else n for n in entries]
    result = run_reports(
        load_report_suite(_suite(tmp, hostile_workspace, entries=entries)), jobs=2, echo=lines.append
    )
    return result, lines


def test_every_notebook_runs_and_latest_points_at_the_run(full_run):
    result, lines = full_run
    assert result.ok, [r.get("error") for r in result.manifest["reports"]]
    names = [r["name"] for r in result.manifest["reports"]]
    assert names == [
        "01_customer_profile",
        "02_segments_regions",
        "03_pipeline_forecast",
        "04_channel_targets",
        "05_what_if",
    ]
    latest = result.run_dir.parent / "latest"
    assert latest.resolve() == result.run_dir.resolve()
    assert not list(result.run_dir.parent.glob(".*partial")), "temporary folder left behind"
    assert not (result.run_dir / ".pid").exists(), "a finished run leaves no pid file"
    for name in names:  # one progress line when it starts and one when it ends
        assert sum(name in line for line in lines) >= 2


def test_the_targets_and_what_if_reports_share_one_plan(full_run):
    result, _ = full_run
    text = {n: (result.run_dir / f"{n}.html").read_text() for n in ("04_channel_targets", "05_what_if")}
    said = sorted("Plan reused" in t for t in text.values())
    assert said == [False, True], "one report computes the plan, the other (waiting for it) reuses it"
    assert all("Plan computed" in t or "Plan reused" in t for t in text.values())


def test_the_profile_shows_a_customer_card_and_the_pipeline_its_measured_phases(full_run):
    result, _ = full_run
    text = {
        n: (result.run_dir / f"{n}.html").read_text() for n in ("01_customer_profile", "02_segments_regions")
    }
    profile = text["01_customer_profile"]
    assert "What the company sees" in profile and "What the customer sees" in profile
    assert "lifetime value, next 12 months (profit)" in profile and "(hidden: personal data)" in profile
    said = sorted("model reused" in t for t in text.values())
    assert said == [False, True], "one report fits the lifetime-value model, the other reuses it"
    pipeline = (result.run_dir / "03_pipeline_forecast.html").read_text()
    assert (
        "Measured phases" in pipeline
        and "not computable: the opportunities table has no discount" in pipeline
    )
    assert "association, not effect" in pipeline


def test_the_pipeline_report_rolls_up_by_team_without_naming_people(full_run):
    result, _ = full_run
    page = (result.run_dir / "03_pipeline_forecast.html").read_text()
    assert (
        "Roll-up by team, manager and owner" in page
        and "Owner targets: quota for 6 owners" in page
        and "for the 6 without one" in page
    )
    assert "Manager 01" in page and "Owner 01" in page  # pseudonyms, unless show_people
    assert "Mara Brandt" not in page and "Rep 01" not in page


def test_reports_run_on_the_projects_kernel_and_say_so(full_run):
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    result, _ = full_run
    spec = KernelSpecManager().get_kernel_spec("omnimodel")
    assert spec.argv[0] == sys.executable  # registered for this environment by the run
    version = result.manifest["versions"]["omnimodel"]
    for r in result.manifest["reports"]:
        executed = nbformat.read(result.run_dir / r["ipynb"], as_version=4)
        assert executed.metadata["kernelspec"]["name"] == "omnimodel"
        page = (result.run_dir / r["html"]).read_text()
        assert f"Made by omnimodel {version} on the kernel Python (omnimodel)" in page
        # the last thing on the page, not inside the inlined Vega code (which holds a "</body>" of its own)
        assert page.count('class="made-by"') == 1 and page.rfind('class="made-by"') > page.rfind("</main>")


def test_reports_load_nothing_from_other_hosts(full_run):
    import re

    result, _ = full_run
    for page in result.run_dir.glob("*.html"):
        text = page.read_text()
        scripts = re.findall(r"<script\b[^>]*>.*?</script>", text, flags=re.S | re.I)
        # omnimodel's own inlined Vega libraries name URLs they never load (the browser test counts requests)
        remote = [
            s[:120]
            for s in scripts
            if re.search(r"https?://", s) and not s.startswith("<script data-omnimodel")
        ]
        assert not remote, (page.name, remote)
        assert not re.search(r"<(link|img|iframe)\b[^>]*(href|src)=[\"']https?://", text, flags=re.I), (
            page.name
        )


def test_the_shipped_notebooks_open_on_the_projects_kernel():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "omnimodel", path.name


def test_index_links_every_report_with_status_and_parameters(full_run):
    result, _ = full_run
    index = result.index.read_text()
    for r in result.manifest["reports"]:
        assert f'href="{r["name"]}.html"' in index
        assert (result.run_dir / r["html"]).exists() and (result.run_dir / r["ipynb"]).exists()
    assert index.count('class="ok"') == 5


def test_manifest_records_inputs_versions_and_times(full_run):
    result, _ = full_run
    m = json.loads((result.run_dir / "manifest.json").read_text())
    assert m["status"] == "OK"
    assert m["workspace"]["fingerprint"].startswith("sha256:")
    assert {"pandas", "pymc", "papermill", "omnimodel"} <= set(m["versions"])
    assert m["started_at"] <= m["finished_at"]
    for r in m["reports"]:
        assert r["duration_s"] > 0 and r["status"] == "OK" and r["error"] is None
        assert "workspace" in r["parameters"]


def test_html_has_no_code_and_embeds_plots(full_run):
    result, _ = full_run
    for r in result.manifest["reports"]:
        page = (result.run_dir / r["html"]).read_text()
        assert "ws = Workspace(workspace)" not in page and "import overview" not in page
        assert "data:image/png;base64" in page, f"{r['name']} has no embedded plot"
        assert "<table" in page


def test_html_escapes_text_from_data(full_run):
    result, _ = full_run
    page = (result.run_dir / "02_segments_regions.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text ...
    for r in result.manifest["reports"]:
        assert HOSTILE not in (result.run_dir / r["html"]).read_text()  # ... and never as markup


def test_personal_data_stays_out_of_reports_by_default(full_run):
    result, _ = full_run
    for r in result.manifest["reports"]:
        page = (result.run_dir / r["html"]).read_text()
        assert "eve.secret@example.com" not in page and "Eve " not in page


def test_only_and_param_run_just_that_notebook(tmp_path, demo_workspace):
    suite = load_report_suite(_suite(tmp_path, demo_workspace))
    result = run_reports(
        suite, only=["03_pipeline_forecast"], params={"period": "2026Q2"}, echo=lambda _: None
    )
    assert result.ok
    assert [r["name"] for r in result.manifest["reports"]] == ["03_pipeline_forecast"]
    assert result.manifest["reports"][0]["parameters"]["period"] == "2026Q2"


def test_report_runs_record_their_forecasts_and_say_what_changed_since(tmp_path, demo_workspace):
    """Each good run adds its forecasts to the ledger beside the reports under its own run id; the next run
    explains the change since, on the page and on the index; a failed run adds nothing."""
    from omnimodel.funnel import ledger

    suite = load_report_suite(_suite(tmp_path, demo_workspace))
    base = {"period": "2025Q4", "backtest_snapshots": "0", "draws": "300"}

    def run(**params):
        return run_reports(
            suite, only=["03_pipeline_forecast"], params={**base, **params}, echo=lambda _: None
        )

    first, second = run(as_of="2025-08-31"), run(as_of="2025-09-30")
    assert first.ok and second.ok
    path = first.run_dir.parent / "forecast-ledger.duckdb"
    recorded = ledger.runs(path)
    assert list(recorded["run_id"]) == [first.run_dir.name, second.run_dir.name]
    assert [str(d)[:10] for d in recorded["as_of"]] == ["2025-08-31", "2025-09-30"]
    assert "No earlier forecast of 2025Q4" in (first.run_dir / "03_pipeline_forecast.html").read_text()
    page = (second.run_dir / "03_pipeline_forecast.html").read_text()
    said = "Since the forecast as of 2025-08-31, the expected bookings of 2025Q4 moved"
    assert said in page and said in (second.run_dir / "index.html").read_text()
    assert ledger.MIME not in page and "goes into the forecast ledger" not in page  # data for the runner only
    assert "ledger" not in second.manifest["reports"][0]  # the forecasts are not copied into the manifest
    failed = run(as_of="2025-10-31", period="not-a-period")
    assert not failed.ok
    pd.testing.assert_frame_equal(ledger.runs(path), recorded)


@pytest.mark.skipif(
    not (ROOT.parent / "shared" / "data").exists(), reason="../shared/data is not beside the checkout"
)
def test_notebook_04_shows_the_baseline_backtest_on_real_series(tmp_path, demo_workspace):
    params = {
        "goals": None,
        "series_set": "au-accommodation",
        "series_folder": str(ROOT.parent / "shared" / "data" / "au_tourism_regional"),
        "horizon": 4,
        "choose_origins": 2,
        "score_origins": 2,
    }
    entries = [{"notebook": "04_channel_targets", "parameters": {**params, "draws": 100}}]
    result = run_reports(
        load_report_suite(_suite(tmp_path, demo_workspace, entries=entries)), echo=lambda _: None
    )
    assert result.ok, [r.get("error") for r in result.manifest["reports"]]
    page = (result.run_dir / "04_channel_targets.html").read_text()
    assert "Baseline forecasts only" in page and "Series set: au-accommodation" in page
    assert "Mean MASE on the scoring origins" in page and "data:image/png;base64" in page
    cards = {c["label"]: c["value"] for c in result.manifest["reports"][0]["summary"]["cards"]}
    beat = cards["Series that beat seasonal naive"]  # the backtest's own count, said first
    assert f"{beat} series beat seasonal naive" in page and page.index(beat) < page.index("Mean MASE")


def test_bad_parameters_stop_the_run_before_anything_runs(tmp_path, demo_workspace):
    suite = load_report_suite(_suite(tmp_path, demo_workspace))
    with pytest.raises(ParameterError, match="perod"):
        run_reports(suite, params={"perod": "2026Q1"}, echo=lambda _: None)
    with pytest.raises(ParameterError, match="04_channel_targets.*'year'"):
        run_reports(suite, only=["04_channel_targets"], params={"year": "soon"}, echo=lambda _: None)
    with pytest.raises(ConfigError, match="no such report"):
        run_reports(suite, only=["06_nothing"], echo=lambda _: None)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())


def _tiny_notebooks(folder: Path) -> Path:
    folder.mkdir()
    for name, body in {
        "good": "print('fine')",
        "bad": "raise RuntimeError('planted failure ' + workspace[:0])",
        # a result larger than a pipe holds (64 KB): the summary travels back to the runner in it
        "long": "from IPython.display import display\n"
        "display({'application/vnd.omnimodel.summary+json': {'title': 'long', 'cards': [], "
        "'findings': ['x' * 200_000]}, 'text/plain': 'long'}, raw=True)",
    }.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [
            new_code_cell('workspace: str = ""  # workspace file', metadata={"tags": ["parameters"]}),
            new_code_cell(body),
        ]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_a_failing_notebook_does_not_stop_the_others_and_latest_survives(tmp_path, demo_workspace):
    nbs = _tiny_notebooks(tmp_path / "nbs")
    good = load_report_suite(_suite(tmp_path, demo_workspace, nbs, ["good"]))
    first = run_reports(good, echo=lambda _: None)
    assert first.ok
    latest = tmp_path / "reports" / "latest"
    assert latest.resolve() == first.run_dir.resolve()

    both = load_report_suite(_suite(tmp_path, demo_workspace, nbs, ["bad", "good"]))
    second = run_reports(both, echo=lambda _: None)
    assert not second.ok
    status = {r["name"]: r for r in second.manifest["reports"]}
    assert status["good"]["status"] == "OK"
    assert status["bad"]["status"] == "FAILED" and "planted failure" in status["bad"]["error"]
    assert "planted failure" in second.index.read_text()
    page = (second.run_dir / "bad.html").read_text()  # a short card; the traceback stays in the log
    assert "This report could not be completed" in page and "planted failure" in page
    assert "Traceback" not in page and "An Exception was encountered" not in page
    assert "Traceback" in (second.run_dir / "bad.log").read_text()
    assert latest.resolve() == first.run_dir.resolve(), "a failed run must not become latest"
    assert (first.run_dir / "good.html").exists(), "earlier runs are untouched"


def test_a_worker_with_a_long_result_finishes(tmp_path, demo_workspace):
    """A worker's result larger than a pipe's buffer (a forecast with its deals for the ledger) used to block
    the worker and the run for good."""
    nbs = _tiny_notebooks(tmp_path / "nbs")
    result = run_reports(
        load_report_suite(_suite(tmp_path, demo_workspace, nbs, ["long"])), echo=lambda _: None
    )
    assert result.ok and len(result.manifest["reports"][0]["summary"]["findings"][0]) == 200_000
    assert not list(result.run_dir.glob(".*.result")), "the result file is the runner's, not the run's"


def test_interrupting_a_run_leaves_nothing_half_written(tmp_path, demo_workspace):
    nbs = _tiny_notebooks(tmp_path / "nbs")
    suite = load_report_suite(_suite(tmp_path, demo_workspace, nbs, ["good", "bad"]))
    first = run_reports(
        load_report_suite(_suite(tmp_path, demo_workspace, nbs, ["good"])), echo=lambda _: None
    )

    def interrupt(line):
        if "running" in line:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    with pytest.raises(KeyboardInterrupt):
        run_reports(suite, echo=interrupt)
    out = tmp_path / "reports"
    assert sorted(p.name for p in out.iterdir()) == sorted(["latest", first.run_dir.name])
    assert (out / "latest").resolve() == first.run_dir.resolve()
    shutil.rmtree(out)


def test_a_filter_that_matches_nothing_fails_the_report_with_the_values_it_could_be(tmp_path, demo_workspace):
    """A misspelt segment or region would give an empty report marked OK; it stops, saying what exists."""
    from omnimodel import Workspace

    with Workspace(demo_workspace) as ws:
        segment = sorted(ws.table("customers").to_pandas()["segment"].unique())[0]
    typo = segment[:-1]
    entries = [
        {"notebook": "01_customer_profile", "parameters": {"segment": typo}},
        {"notebook": "03_pipeline_forecast", "parameters": {"region": "Atlantis", "backtest_snapshots": 0}},
    ]
    result = run_reports(load_report_suite(_suite(tmp_path, demo_workspace, entries=entries)), jobs=2)
    assert not result.ok
    errors = {r["notebook"]: r.get("error", "") for r in result.manifest["reports"]}
    assert [r["status"] for r in result.manifest["reports"]] == ["FAILED", "FAILED"]
    assert (
        f"segment={typo!r} matches nothing in customers.segment; did you mean {segment!r}?"
        in errors["01_customer_profile"]
    )
    assert "region='Atlantis' matches nothing in opportunities.region" in errors["03_pipeline_forecast"]
    assert "Fix: use one of" in errors["03_pipeline_forecast"]


def test_opening_every_report_contacts_no_other_host(full_run):
    """Each page opened in a real browser with every request outside the report's own file refused and
    counted: a self-contained report makes none."""
    from tests.browser.test_whatif_voila import CHROMIUM, MISSING

    if MISSING:  # CI sets OMNIMODEL_REQUIRE_BROWSER: there a missing browser fails
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    result, _ = full_run
    pages = sorted(result.run_dir.glob("*.html"))
    assert result.index in pages
    control = result.run_dir.parent / "control.html"  # proves the count: one remote image, one request
    control.write_text('<html><body><img src="http://192.0.2.1/pixel.png"></body></html>')
    pages.append(control)
    outside: dict[str, list[str]] = {}
    local = ("file://", "data:", "about:", "blob:")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            for page_path in pages:
                context = browser.new_context(offline=True)
                asked: list[str] = []

                context.on(
                    "request", lambda r, asked=asked: None if r.url.startswith(local) else asked.append(r.url)
                )
                context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local)
                              else route.abort())  # fmt: skip
                page = context.new_page()
                page.goto(page_path.as_uri(), wait_until="load")
                page.wait_for_timeout(500)  # late scripts (MathJax, require.js) would ask now
                outside[page_path.name] = asked
                context.close()
        finally:
            browser.close()
    assert outside.pop("control.html") == ["http://192.0.2.1/pixel.png"]
    assert len(outside) == 6 and all(v == [] for v in outside.values()), {
        k: v for k, v in outside.items() if v
    }


def test_every_report_reads_as_a_deliverable(full_run):
    """No table cell with e-notation or more than four decimals, no pandas index column, no warning, traceback
    or Python repr in any report or the index."""
    from tests.reporting.report_text import reader_problems

    result, _ = full_run
    found = {p.name: reader_problems(p.read_text()) for p in sorted(result.run_dir.glob("*.html"))}
    assert len(found) == 6 and all(v == [] for v in found.values()), {k: v[:8] for k, v in found.items() if v}


REPORTS = [
    "01_customer_profile",
    "02_segments_regions",
    "03_pipeline_forecast",
    "04_channel_targets",
    "05_what_if",
]


def test_each_report_opens_with_its_summary_and_ends_with_its_appendix(full_run):
    """Cards right under the title, the data inventory and diagnostics after an Appendix heading, and the same
    cards as data in the manifest."""
    import html as html_lib

    result, _ = full_run
    for r in result.manifest["reports"]:
        summary = r["summary"]
        assert summary and len(summary["cards"]) >= 3 and summary["findings"], r["name"]
        page = (result.run_dir / r["html"]).read_text()
        at = page.index('class="om-summary"')
        assert at < page.index("<h2", page.index("</h1>")) + 5, f"{r['name']}: the summary is not first"
        for card in summary["cards"]:
            assert html_lib.escape(card["value"]) in page[at:]
        appendix = page.index(">Appendix")
        assert at < appendix
        if r["name"] != "03_pipeline_forecast":  # 03 has no inventory; its diagnostics go there
            assert page.index(">Data used") > appendix, f"{r['name']}: the inventory is not in the appendix"
        # every report fits a Bayesian model (01 the lifetime value on its customer card) and shows its card
        card = page[appendix:]  # NUTS's figures or the Laplace fit's (omnimodel.diagnostics)
        assert "diagnostics" in card and ("r-hat max" in card or "Pareto k max" in card), r["name"]


def test_the_index_is_a_dashboard_of_the_headline_numbers(full_run):
    import html as html_lib

    result, _ = full_run
    index = result.index.read_text()
    for r in result.manifest["reports"]:
        for card in r["summary"]["cards"]:
            assert html_lib.escape(card["label"]) in index and html_lib.escape(card["value"]) in index
    assert HOSTILE not in index  # a segment called <script> appears escaped in the findings


def test_the_deck_has_each_reports_headline_numbers_and_charts(full_run):
    from pptx import Presentation

    result, _ = full_run
    assert result.manifest["deck"] == "deck.pptx"
    deck = Presentation(str(result.run_dir / "deck.pptx"))
    texts = [" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in deck.slides]
    pictures = sum(1 for slide in deck.slides for s in slide.shapes if s.shape_type == 13)  # 13: picture
    for r in result.manifest["reports"]:
        cards = r["summary"]["cards"]
        assert any(all(c["value"] in t for c in cards) and r["name"] in t for t in texts), r["name"]
    assert pictures >= len(REPORTS)  # every report has at least one chart
    assert len(deck.slides) >= 1 + len(REPORTS)
    # every slide has a real title placeholder with its message; the method goes to the speaker notes
    assert all(slide.shapes.title is not None and slide.shapes.title.text.strip() for slide in deck.slides)
    notes = {
        s.shapes.title.text: s.notes_slide.notes_text_frame.text for s in deck.slides if s.has_notes_slide
    }
    targets = next(text for title, text in notes.items() if title.startswith("Summary: revenue and profit"))
    assert "Method" in targets and "Baseline" in targets


def test_every_report_prints_whole_on_the_locales_paper(full_run):
    """Every page of every PDF rendered: on the paper of the locale, nothing past the right margin, and every
    table's header cells in the printed text (no column cut off or hidden behind a scrollbar)."""
    from omnimodel.reporting.pdf import paper_size
    from tests.browser.test_whatif_voila import MISSING
    from tests.reporting.printed import print_problems

    if MISSING:
        pytest.skip("Debian chromium is not installed: the run writes no PDFs and says so")
    result, _ = full_run
    for r in result.manifest["reports"]:
        html_page, pdf = result.run_dir / r["html"], result.run_dir / r["pdf"]
        assert pdf.read_bytes().startswith(b"%PDF"), r["name"]
        assert print_problems(html_page, pdf, paper_size()) == [], r["name"]


def test_the_first_screen_of_each_report_shows_its_summary_cards(full_run):
    """Headless Chromium at 1400 x 900: every card of the summary lies inside the first screen. Screenshots
    of every report and the index are kept in OMNIMODEL_ARTEFACTS (default .cache/artefacts/screenshots)."""
    import os

    from tests.browser.test_whatif_voila import CHROMIUM, MISSING

    if MISSING:
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    result, _ = full_run
    shots = Path(os.environ.get("OMNIMODEL_ARTEFACTS", ROOT / ".cache" / "artefacts")) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    below: dict[str, list] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for path in [result.index, *(result.run_dir / f"{n}.html" for n in REPORTS)]:
                page.goto(path.as_uri(), wait_until="load")
                page.screenshot(path=str(shots / f"{path.stem}.png"), full_page=True)
                if path == result.index:
                    continue
                boxes = page.locator(".om-summary > div > div").evaluate_all(
                    "els => els.map(e => e.getBoundingClientRect().bottom)"
                )
                assert len(boxes) >= 3, path.name
                below[path.stem] = [b for b in boxes if b > 900]
        finally:
            browser.close()
    assert all(v == [] for v in below.values()), below
    assert len(list(shots.glob("*.png"))) >= 6


def test_moving_a_slider_in_the_what_if_report_gives_evaluates_chance(full_run, hostile_workspace):
    """The static what-if page in Chromium, no kernel and no network: the chance it shows, before and after
    moving two sliders, is what ``evaluate`` gives for that scenario on the report's own plan."""
    import dataclasses
    import re

    from tests.browser.test_whatif_voila import CHROMIUM, MISSING

    if MISSING:
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    from omnimodel import Workspace
    from omnimodel.data import periods
    from omnimodel.targets.goals import load_strategy_goals
    from omnimodel.targets.scenario import Scenario, evaluate
    from omnimodel.targets.shared import shared_plan

    result, _ = full_run
    with Workspace(hostile_workspace) as ws:  # the settings the run gave notebook 05: its plan, reused
        year = periods.target_year(ws, None)
        goals = dataclasses.replace(
            load_strategy_goals(Path(result.manifest["config"]).parent / "goals.yaml"), year=year
        )
        plan = shared_plan(
            ws, goals, horizon=3, choose_origins=1, score_origins=2, choose_by="series", draws=200, seed=42
        )
    start = Scenario.from_goals(goals)

    def chance(page) -> int:
        texts = page.locator("#om-whatif svg text").all_text_contents()
        line = next(t for t in texts if t.startswith("Chance to reach the revenue target"))
        return int(re.search(r"(\d+) %", line).group(1))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.goto((result.run_dir / "05_what_if.html").as_uri(), wait_until="load")
            page.wait_for_function("window.omWhatIf !== undefined")
            before = chance(page)
            for name, value in (("price change", 0.03), ("growth goal (points)", 0.05)):
                page.evaluate(
                    """([name, value]) => {
                        const label = [...document.querySelectorAll('#om-whatif .vega-bind')]
                            .find(l => l.textContent.trim().startsWith(name));
                        const input = label.querySelector('input[type=range]');
                        input.value = String(value);
                        input.dispatchEvent(new Event('input', {bubbles: true}));
                    }""",
                    [name, value],
                )
            page.wait_for_timeout(300)
            after = chance(page)
            context.close()
        finally:
            browser.close()
    want_before = evaluate(plan.inputs, start).level("total").iloc[0]["p_hit"]
    want_after = (
        evaluate(plan.inputs, start.replace(price_change=0.03, growth_change=0.05))
        .level("total")
        .iloc[0]["p_hit"]
    )
    assert abs(before - 100 * want_before) <= 0.51 and abs(after - 100 * want_after) <= 0.51, (
        before,
        after,
        want_before,
        want_after,
    )
    assert before != after


def test_no_report_shows_what_a_reader_must_not_see(full_run):
    """The guard found nothing to remove on any page (machine paths, warnings, reprs, None cells, e-notation,
    developer words): omnimodel.reporting.guard."""
    from omnimodel.reporting.guard import findings

    result, _ = full_run
    for r in result.manifest["reports"]:
        assert not r.get("removed"), (r["name"], r["removed"])
        assert findings((result.run_dir / r["html"]).read_text()) == [], r["name"]
