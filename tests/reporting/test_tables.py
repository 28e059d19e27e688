"""Tables for people: what a reader sees of a frame, and the checker that the reports pass."""

import base64
import re

import numpy as np
import pandas as pd

from omnimodel.reporting.tables import for_people, header
from tests.reporting.report_text import reader_problems


def test_money_percentages_and_counts_are_written_for_people():
    frame = pd.DataFrame(
        {
            "channel": ["webshop", "app"],
            "revenue": [2.601953e07, 329048.601],
            "share": [0.18, 0.574701],
            "p_book_in_period": [0.3, 0.9],
            "velocity_per_day": [3815.104386, 0.5],
            "orders": [1200, 3],
            "year": [2025, 2026],
            "delta": [-317030.0, -0.0001],
        }
    )
    shown = for_people(frame, currency="EUR").text_frame()
    assert list(shown.columns) == [
        "Channel", "Revenue (EUR)", "Share", "Chance to book in the period", "Velocity per day", "Orders", "Year",
        "Delta",
    ]  # fmt: skip
    assert shown["Revenue (EUR)"].tolist() == ["26,019,530", "329,049"]
    assert shown["Share"].tolist() == ["18.0 %", "57.5 %"]
    assert shown["Velocity per day"].tolist() == ["3,815", "0.500"]
    assert shown["Orders"].tolist() == ["1,200", "3"] and shown["Year"].tolist() == ["2025", "2026"]
    assert shown["Delta"].tolist() == ["-317,030", "0"]  # never "-0"
    html = for_people(frame, currency="EUR")._repr_html_()
    assert reader_problems(html) == []


def test_row_numbers_go_and_a_meaningful_index_becomes_a_column():
    frame = pd.DataFrame({"segment": ["a", "b", "c"], "revenue": [1.0, 2.0, 3.0]})
    sampled = frame.sample(2, random_state=1)  # its index (row numbers) means nothing to a reader
    assert list(for_people(sampled).text_frame().columns) == ["Segment", "Revenue"]
    by_segment = frame.set_index("segment")
    assert list(for_people(by_segment).text_frame().columns) == ["Segment", "Revenue"]


def test_long_tables_show_the_top_rows_and_carry_all_rows_as_a_safe_csv():
    frame = pd.DataFrame(
        {"product": [f"=P{i}" if i == 40 else f"P{i}" for i in range(60)], "revenue": np.arange(60.0)}
    )
    html = for_people(frame, top=10, name="products by revenue")._repr_html_()
    assert html.count("<tr") == 11  # the header and ten rows
    assert "Showing the top 10 of 60 rows" in html and 'download="products-by-revenue.csv"' in html
    csv = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)).decode()
    assert len(csv.strip().splitlines()) == 61 and "'=P40" in csv  # opens as text, not a formula


def test_text_in_cells_is_escaped_and_decimals_of_objects_are_numbers():
    from decimal import Decimal

    frame = pd.DataFrame(
        {"name": ["<script>alert(1)</script>"], "avg_unit_price": [Decimal("18.3143330179754")]}
    )
    html = for_people(frame)._repr_html_()
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "18.31" in html and reader_problems(html) == []


def test_the_checker_finds_what_a_reader_must_not_see():
    raw = pd.DataFrame({"x": [2.601953e07 * 1e10, 0.574701123]}).to_html()  # index column, e-notation
    found = " ".join(reader_problems(raw))
    assert "pandas index" in found and "e-notation" in found and "more than four decimals" in found
    assert reader_problems("<pre>'every table present'</pre>") and reader_problems(
        "<pre>FutureWarning: x</pre>"
    )


def test_counts_named_like_money_stay_counts_and_rule_shares_are_percentages():
    frame = pd.DataFrame(
        {"baskets": [19773, 19773], "support": [0.071, 0.1], "confidence": [0.503, 0.2], "lift": [1.93, 1.5]}
    )
    shown = for_people(frame, currency="GBP").text_frame()
    assert list(shown.columns) == ["Baskets", "Support", "Confidence", "Lift"]
    assert shown.iloc[0].tolist() == ["19,773", "7.1 %", "50.3 %", "1.93"]


def test_headers_keep_known_abbreviations():
    assert (
        header("mase_model") == "MASE model"
        and header("p10") == "P10"
        and header("customer_id") == "Customer ID"
    )


def test_a_money_column_has_one_precision():
    frame = pd.DataFrame({"account_balance": [-185.0, 0.0, -33.22], "unit_price": [18.31, 2.5, 0.0]})
    shown = for_people(frame, currency="EUR").text_frame()
    assert shown["Account balance (EUR)"].tolist() == ["-185", "0", "-33"]
    assert shown["Unit price (EUR)"].tolist() == ["18.31", "2.50", "0.00"]


def test_growth_is_a_percentage_however_large():
    from omnimodel.reporting.tables import kind

    assert kind("growth", pd.Series([-0.27, 2.5])) == "percent"  # not -0.270 beside percentages
