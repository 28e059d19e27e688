"""The pipeline review: one object behind notebook 03 and ``omnimodel pipeline``, so both give the same figures."""

import json
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from omnimodel.app.results import MIME

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_cli_and_notebook_03_give_the_same_figures(tmp_path, demo_workspace, capsys):
    from omnimodel.cli import main
    from omnimodel.reporting.runner import run_reports
    from omnimodel.reporting.suite import load_report_suite

    config = {
        "workspace": str(demo_workspace),
        "notebooks_dir": str(ROOT / "notebooks"),
        "output": str(tmp_path),
    }
    config["notebooks"] = [
        {"notebook": "03_pipeline_forecast", "parameters": {"draws": 200, "backtest_snapshots": 0}}
    ]
    (tmp_path / "reports.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(ROOT / "goals.yaml", tmp_path / "goals.yaml")
    run = run_reports(load_report_suite(tmp_path / "reports.yaml"), echo=lambda _: None)
    assert run.ok
    executed = nbformat.read(run.run_dir / "03_pipeline_forecast.ipynb", as_version=4)
    shown = [
        o["data"][MIME] for c in executed.cells for o in c.get("outputs", []) if MIME in o.get("data", {})
    ]
    assert len(shown) == 1, "the forecast section carries the forecast's data once"
    notebook = shown[0]

    assert (
        main(
            [
                "pipeline",
                "forecast",
                "--workspace",
                str(demo_workspace),
                "--draws",
                "200",
                "--ledger",
                "none",
                "--json",
            ]
        )
        == 0
    )
    cli = json.loads(capsys.readouterr().out)
    for figures in (cli, notebook):
        figures.pop("fit_reused")  # the second call loads the first one's fit
    assert cli == notebook
    assert (
        cli["p10"] < cli["p50"] < cli["p90"] and cli["at_risk"] and cli["rollup"]
    )  # figures, not empty lists


def test_the_forecast_explains_itself_one_way(demo_workspace):
    from omnimodel.app.pipeline import PipelineReview

    review = PipelineReview(demo_workspace, draws=200, ledger=None)
    result = review.result()
    data = result.to_dict()
    assert json.loads(result.to_json()) == json.loads(json.dumps(data, default=float))
    text = result.as_text()
    assert f"P50 {data['p50']:,.0f}" in text and f"Bookings forecast for {review.period}" in text
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"] == text and bundle[MIME]["p50"] == data["p50"]
    assert "Bookings in" in bundle["text/html"]  # the notebook shows the forecast's own table
    assert result.summary().cards[0].label == f"Bookings {review.period} (P50)"
    # each step is computed once: the forecast the result used is the review's
    assert result.forecast is review.forecast and review.model is review.model


def test_a_section_says_in_one_line_what_the_workspace_lacks(demo_workspace):
    from omnimodel.app import pipeline_sections as show
    from omnimodel.app.pipeline import PipelineReview

    review = PipelineReview(demo_workspace, draws=200, ledger=None)
    assert show.backtest(review, "Q", 0).text() == "Backtest skipped."
    assert show.accuracy(review).text().startswith("No recorded forecast of a closed period yet")
    stands = show.where_it_stands(review)
    assert stands.text() == review.measure_note and len(stands.parts) == 4


def test_counted_deals_carry_no_currency(demo_workspace):
    """A forecast of won deals is a count: its tables are not labelled in the workspace's currency (Olist's roll-up
    read "BRL" over deal counts)."""
    from omnimodel.app import pipeline_sections as show
    from omnimodel.app.pipeline import PipelineReview
    from omnimodel.reporting.tables import PeopleTable

    counted = PipelineReview(demo_workspace, draws=200, measure="deals", ledger=None)
    table = show.levels(counted, "region").parts[0]
    assert isinstance(table, PeopleTable) and not any("EUR" in h for h in table.headers.values())
    assert "P50" in table.headers.values()
    valued = PipelineReview(demo_workspace, draws=200, ledger=None)
    assert isinstance(
        show.levels(valued, "region").parts[0], pd.DataFrame
    )  # shown in EUR by the report's style
