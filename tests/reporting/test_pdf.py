"""The print layout: paper from the locale, landscape only for a report with a table too wide for portrait,
tables that would not fit even then wrapped. (The PDFs themselves are checked page by page in test_runner.)"""

from __future__ import annotations

import pytest

from omnimodel.reporting.pdf import paper_size, print_layout, printed_width


@pytest.mark.parametrize(
    ("environ", "paper"),
    [
        ({"LANG": "en_US.UTF-8"}, "Letter"),
        ({"LANG": "fr_CA.UTF-8"}, "Letter"),
        ({"LANG": "de_DE.UTF-8"}, "A4"),
        ({"LANG": "en_GB.UTF-8", "LC_PAPER": "en_US.UTF-8"}, "Letter"),  # LC_PAPER before LANG
        ({"LC_ALL": "de_DE.UTF-8", "LC_PAPER": "en_US.UTF-8"}, "A4"),  # LC_ALL before both
        ({"LANG": "C.UTF-8"}, "A4"),
        ({}, "A4"),
        ({"LANG": "en_US.UTF-8", "OMNIMODEL_PAPER": "a4"}, "A4"),  # named, it wins
        ({"LANG": "de_DE.UTF-8", "OMNIMODEL_PAPER": "Letter"}, "Letter"),
    ],
)
def test_the_paper_comes_from_the_locale_unless_named(environ, paper):
    assert paper_size(environ) == paper


def _table(columns: int, cell: str = "1,234,567") -> str:
    head = "".join(f"<th>Column {i}</th>" for i in range(columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody><tr>{''.join(f'<td>{cell}</td>' for _ in range(columns))}</tr></tbody></table>"


def _page(*tables: str, script: str = "") -> str:
    return f"<html><head></head><body>{''.join(tables)}{script}</body></html>"


def test_a_report_of_narrow_tables_prints_portrait():
    page = print_layout(_page(_table(4), _table(6)), "A4")
    assert "size:A4 portrait" in page and "om-wrap" not in page.split("</head>")[1]


def test_one_wide_table_turns_the_whole_report_landscape():
    assert printed_width(_table(12)) > 595 - 68  # too wide for portrait A4, not for landscape
    page = print_layout(_page(_table(4), _table(12)), "Letter")
    assert "size:Letter landscape" in page
    assert 'class="om-wrap"' not in page.split("</head>")[1]


def test_a_table_too_wide_even_for_landscape_wraps_its_cells():
    page = print_layout(_page(_table(4), _table(30)), "A4")
    body = page.split("</head>")[1]
    assert "size:A4 landscape" in page and body.count('class="om-wrap"') == 1
    assert "table.om-wrap td" in page  # the rule that lets its cells wrap


def test_tables_in_scripts_are_left_alone():
    script = '<script>const t = "<table><tr>' + "<td>x</td>" * 60 + '</tr></table>";</script>'
    page = print_layout(_page(_table(3), script=script), "A4")
    assert script in page and "size:A4 portrait" in page
