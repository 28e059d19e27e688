"""HTML outputs with active content are shown as text, never run."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from omnimodel.reporting.html import defuse_active_html
from omnimodel.reporting.index import index_html


def test_script_in_an_html_output_becomes_text():
    nb = new_notebook(
        cells=[
            new_code_cell(
                "x",
                outputs=[
                    new_output("display_data", data={"text/html": "<b>ok</b>"}),
                    new_output("display_data", data={"text/html": "<img src=x onerror=alert(1)>"}),
                    new_output("display_data", data={"text/html": ["<SCRIPT>", "alert(1)</script>"]}),
                ],
            )
        ]
    )
    assert defuse_active_html(nb) == 2
    outs = nb.cells[0].outputs
    assert outs[0].data["text/html"] == "<b>ok</b>"
    assert "text/html" not in outs[1].data and "onerror" in outs[1].data["text/plain"]
    assert "text/html" not in outs[2].data
    nbformat.validate(nb)


def test_index_escapes_names_parameters_and_errors():
    bad = "<script>alert(1)</script>"
    page = index_html(
        {
            "run_id": "r1",
            "status": "FAILED",
            "started_at": "t0",
            "finished_at": "t1",
            "workspace": {"path": bad},
            "versions": {"omnimodel": "0"},
            "git_commit": None,
            "reports": [
                {
                    "name": bad,
                    "parameters": {"region": bad},
                    "status": "FAILED",
                    "error": bad,
                    "html": None,
                    "ipynb": None,
                    "duration_s": 1.0,
                }
            ],
        }
    )
    assert bad not in page and "&lt;script&gt;" in page


def test_a_table_with_hostile_looking_text_stays_a_normal_escaped_table():
    import pandas as pd

    hostile = ["shop online=now", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:x"]
    table = pd.DataFrame({"product": hostile, "revenue": [1, 2, 3, 4]}).to_html()
    nb = new_notebook(
        cells=[new_code_cell("x", outputs=[new_output("display_data", data={"text/html": table})])]
    )
    assert defuse_active_html(nb) == 0
    shown = nb.cells[0].outputs[0].data["text/html"]
    assert "<table" in shown and "&lt;script&gt;" in shown and "<script>" not in shown
