"""The answer first: the pipeline summary's numbers are the forecast's own, and the export puts it on top."""

import nbformat
import numpy as np
import pandas as pd
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from omnimodel.funnel.forecast import BookingsForecast
from omnimodel.funnel.measures import Target
from omnimodel.reporting.headlines import pipeline_summary
from omnimodel.reporting.html import summary_first
from omnimodel.reporting.summary import compact


def _forecast() -> BookingsForecast:
    rng = np.random.default_rng(3)
    total = rng.normal(1.8e6, 3e5, 4000)
    share = rng.uniform(0.55, 0.65, 4000)  # webshop carries about 60 %
    by = pd.DataFrame({"webshop": total * share, "stores": total * (1 - share)})
    deals = pd.DataFrame(
        {
            "opportunity_id": ["D1", "D2", "D3", "D4"],
            "stage": ["proposal", "lead", "negotiation", "qualified"],
            "amount": [120_000.0, 80_000.0, 50_000.0, 200_000.0],
            "p_book_in_period": [0.5, 0.2, 0.8, 0.45],
            "expected_value": [60_000.0, 16_000.0, 40_000.0, 90_000.0],
            "category": ["best case", "pipeline", "commit", "best case"],
        }
    )
    return BookingsForecast(pd.Period("2026Q1", "Q"), pd.Timestamp("2025-12-30"), total, {"source_channel": by},
                            deals, 0.31)  # fmt: skip


def test_the_cards_are_the_forecasts_own_numbers():
    fc = _forecast()
    goal = Target(1.6e6, "the same period a year earlier")
    s = pipeline_summary(fc, goal, "amount", "EUR")
    cards = {c.label: c for c in s.cards}
    q = fc.quantiles()
    assert cards["Bookings 2026Q1 (P50)"].value == compact(q["p50"], "EUR")
    assert cards["Bookings 2026Q1 (P50)"].detail == f"P10-P90 {compact(q['p10'])} to {compact(q['p90'])}"
    assert cards["Chance to reach the target"].value == f"{(fc.total >= 1.6e6).mean():.0%}".replace("%", " %")
    assert cards["Expected from open deals"].value == "206 k EUR"
    assert cards["From deals not created yet"].value == "31 %"
    assert s.findings[0].startswith("webshop carries 60 % of the expected bookings by source channel")
    assert "Commit deals (70 %+ to book) hold 19 %" in s.findings[1]
    assert s.actions == [  # best-case deals, most expected value first
        "Push D4 (qualified, 200 k EUR, 45 % to book in 2026Q1).",
        "Push D1 (proposal, 120 k EUR, 50 % to book in 2026Q1).",
    ]
    page = s._repr_html_()
    assert "1.80 M EUR" in page or compact(q["p50"], "EUR") in page


def test_numbers_are_said_as_on_a_slide():
    from omnimodel.reporting.summary import pct

    assert [pct(x) for x in (0.0, 0.004, 0.72, 0.999, 1.0)] == [
        "below 1 %",
        "below 1 %",
        "72 %",
        "above 99 %",
        "above 99 %",
    ]
    assert [compact(x) for x in (1_851_544, 185_000, 1_234, 2.5e9, -317_030)] == [
        "1.85 M", "185 k", "1,234", "2.50 bn", "-317 k",
    ]  # fmt: skip


def test_the_export_puts_the_summary_under_the_title():
    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("a"), new_code_cell("b"),
                             new_code_cell("s", metadata={"tags": ["summary"]}), new_code_cell("c")])  # fmt: skip
    assert summary_first(nb) == 1
    assert [c.source for c in nb.cells] == ["# Title", "s", "a", "b", "c"]
    nbformat.validate(nb)


def outcome_table(rows: list[tuple]) -> pd.DataFrame:
    """A targets outcome table from (level, channel, region, last_year, target, forecast P10/P50/P90, p_hit,
    profit_target, p_hit_profit) rows, with its P50 gap."""
    cols = ["level", "channel", "region", "last_year", "target", "forecast_p10", "forecast_p50", "forecast_p90",
            "p_hit", "profit_target", "p_hit_profit"]  # fmt: skip
    table = pd.DataFrame(rows, columns=cols)
    return table.assign(gap_p50=table["target"] - table["forecast_p50"])


def test_the_targets_summary_names_the_channels_short_of_target():
    from omnimodel.reporting.headlines import targets_summary
    from omnimodel.targets.scenario import Outcome

    rows = [
        ("total", None, None, 10e6, 11e6, 10.2e6, 10.8e6, 11.5e6, 0.4, 2e6, 0.35),
        ("channel", "webshop", None, 6e6, 6.5e6, 6.0e6, 6.3e6, 6.8e6, 0.35, 1.2e6, 0.3),
        ("channel", "stores", None, 4e6, 4.5e6, 4.4e6, 4.6e6, 4.9e6, 0.62, 0.8e6, 0.55),
        ("region", None, "North", 5e6, 5.4e6, 5.1e6, 5.3e6, 5.6e6, 0.45, 1e6, 0.4),
        ("region", None, "South", 5e6, 5.6e6, 5.2e6, 5.5e6, 5.9e6, 0.48, 1e6, 0.42),
    ]
    table = outcome_table(rows)
    s = targets_summary(Outcome(table, np.zeros((5, 1)), np.zeros((5, 1))), 2026, "EUR")
    cards = {c.label: c for c in s.cards}
    assert cards["Revenue target 2026"].value == "11.00 M EUR" and cards[
        "Revenue target 2026"
    ].detail.startswith("+10 %")
    assert cards["Chance to reach the revenue target"].value == "40 %"
    assert cards["Chance to reach the revenue target"].detail == "P50 short by 200 k EUR"
    assert s.findings[0] == "1 of 2 channels are less likely than not to reach their target (webshop)."
    assert s.actions == ["Close the gap in webshop: 200 k EUR more than its P50 forecast is needed for the target "
                         "of 6.50 M EUR."]  # fmt: skip


def test_the_export_puts_the_appendix_last_under_its_own_heading():
    from omnimodel.reporting.html import appendix_last

    nb = new_notebook(cells=[new_markdown_cell("# Title"), new_markdown_cell("## Data used", metadata={"tags": ["appendix"]}),
                             new_code_cell("inventory", metadata={"tags": ["appendix"]}), new_code_cell("chart")])  # fmt: skip
    assert appendix_last(nb) == 2
    assert [c.source for c in nb.cells] == ["# Title", "chart", "## Appendix", "### Data used", "inventory"]
    nbformat.validate(nb)


def test_a_failed_notebook_shows_a_short_card_and_no_traceback():
    from nbformat.v4 import new_output

    from omnimodel.reporting.html import failure_card

    failing = new_code_cell("x", outputs=[new_output("stream", name="stdout", text="half done\n"),
                                          new_output("error", ename="KeyError", evalue="'x'",
                                                     traceback=["Traceback (most recent call last)", "KeyError"])])  # fmt: skip
    banner = new_markdown_cell(
        "An Exception was encountered", metadata={"tags": ["papermill-error-cell-tag"]}
    )
    nb = new_notebook(cells=[banner, new_markdown_cell("# Title"), failing, new_code_cell("after")])
    assert failure_card(nb, "KeyError: 'x' (a column is missing)", "r.ipynb")
    assert [c.source for c in nb.cells] == ["# Title", "x"]
    outputs = nb.cells[1].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data"]  # what ran before stays
    card = outputs[1].data["text/html"]
    assert "could not be completed" in card and "KeyError: &#x27;x&#x27; (a column is missing)" in card
    assert "Traceback" not in card


def test_the_summary_travels_as_data_beside_its_html():
    from omnimodel.reporting.summary import MIME, Card, Summary, from_notebook

    s = Summary(
        "Summary",
        [Card("Bookings", "1.85 M EUR", "P10-P90 1.41 M to 2.45 M")],
        ["<b>x</b> grew"],
        ["Push D1"],
    )
    bundle = s._repr_mimebundle_()
    assert Summary.from_dict(bundle[MIME]) == s
    assert "&lt;b&gt;x&lt;/b&gt; grew" in bundle["text/html"]
    nb = new_notebook(cells=[new_code_cell("s")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": bundle["text/html"], MIME: bundle[MIME]})
    ]
    nbformat.validate(nb)
    assert from_notebook(nb) == s


def test_the_index_says_what_changed_since_the_last_good_run():
    from omnimodel.reporting.index import index_html

    def manifest(run_id, value):
        card = {"label": "Bookings 2026Q1 (P50)", "value": value, "detail": "P10-P90 1 M to 2 M"}
        report = {"name": "03_pipeline_forecast", "status": "OK", "parameters": {}, "html": "03.html",
                  "summary": {"title": "S", "cards": [card], "findings": ["f"], "actions": []}}  # fmt: skip
        return {"run_id": run_id, "status": "OK", "started_at": "", "versions": {}, "reports": [report]}

    page = index_html(manifest("B", "1.90 M EUR"), previous=manifest("A", "1.85 M EUR"))
    assert "1.90 M EUR" in page and "was 1.85 M EUR in the last good run" in page and "run, A." in page
    same = index_html(manifest("B", "1.85 M EUR"), previous=manifest("A", "1.85 M EUR"))
    assert "was 1.85" not in same


def test_a_region_folded_into_other_is_said_and_no_region_is_ranked():
    """Planted trap: Central's own figure lost a folded series; ranking it lowest would state the fold."""
    from omnimodel.reporting.headlines import targets_summary
    from omnimodel.targets.scenario import Outcome

    rows = [
        ("total", None, None, 10e6, 11e6, 10.2e6, 10.8e6, 11.5e6, 0.4, 2e6, 0.35),
        ("channel", "webshop", None, 10e6, 11e6, 10.2e6, 10.8e6, 11.5e6, 0.4, 2e6, 0.35),
        ("region", None, "Central", 2e6, 2.4e6, 1.8e6, 2.0e6, 2.2e6, 0.07, 0.5e6, 0.1),
        ("region", None, "East", 4e6, 4.4e6, 4.1e6, 4.3e6, 4.6e6, 0.45, 1e6, 0.4),
        ("region", None, "other", 4e6, 4.2e6, 4.0e6, 4.5e6, 4.9e6, 0.7, 0.5e6, 0.6),
    ]
    table = outcome_table(rows)
    s = targets_summary(Outcome(table, np.zeros((5, 1)), np.zeros((5, 1))), 2026, "EUR")
    text = " ".join(s.findings)
    assert "40 % of last year's revenue" in text and "folded into 'other'" in text
    assert "lowest chance" not in text and "Central" not in text
    # without the fold the same regions are ranked
    table.loc[4, "region"] = "West"
    s = targets_summary(Outcome(table, np.zeros((5, 1)), np.zeros((5, 1))), 2026, "EUR")
    assert any("Central has the lowest chance (7 %)" in f for f in s.findings)
    assert not any("folded" in f for f in s.findings)
