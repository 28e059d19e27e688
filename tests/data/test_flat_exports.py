"""Flat exports as shops and retailers make them (tests/data/shop_exports.py, built from the public column
documentation): `map --suggest` proposes a mapping, and the suggestion, unedited, ingests them into the canonical
tables with the source's revenue per year, customers, products and returns."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import yaml

from omnimodel.cli import main
from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.forecasting.series import workspace_revenue
from omnimodel.ingest.flat import Expression
from omnimodel.ingest.suggest import suggest_mapping

from .shop_exports import (
    suggest_and_ingest,
    write_flat_export,
    write_shopify_export,
    write_woocommerce_export,
)


def _suggest_and_ingest(folder, workspace, capsys):
    suggest_and_ingest(folder, workspace)
    out = capsys.readouterr().out
    return duckdb.connect(str(workspace), read_only=True), out


def _same_revenue(con, truth: pd.Series) -> None:
    """The workspace's revenue per year is the export's."""
    got = _revenue_by_year(con)
    assert list(got.index) == list(truth.index) and got.to_numpy() == pytest.approx(
        truth.to_numpy(), rel=1e-9
    )


def _revenue_by_year(con) -> pd.Series:
    frame = con.sql(
        "select year(order_date) as year, sum(quantity * unit_price * (1 - coalesce(discount, 0))) as revenue "
        "from orders join order_lines using (order_id) group by 1 order by 1"
    ).df()
    return frame.set_index("year")["revenue"]


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_flat_workbook_feeds_six_tables_through_the_unedited_suggestion(tmp_path, capsys, suffix):
    export = write_flat_export(tmp_path / "exports", suffix)
    con, out = _suggest_and_ingest(tmp_path / "exports", tmp_path / "shop.duckdb", capsys)
    lines = export.lines
    _same_revenue(con, export.revenue_by_year)
    count = {
        t: con.sql(f"select count(*) from {t}").fetchone()[0] for t in ("customers", "products", "orders")
    }
    assert count == {
        "customers": lines["Customer ID"].nunique(),
        "products": lines["Product ID"].nunique(),
        "orders": lines["Order ID"].nunique(),
    }
    # every line of each order on the Returns sheet, with its quantity
    returned = lines[lines["Order ID"].isin(export.returned)]
    assert con.sql("select count(*), sum(quantity) from returns").fetchone() == (
        len(returned),
        returned["Quantity"].sum(),
    )
    assert sorted(con.sql("select team from sales_team").df()["team"]) == ["Central", "East", "South", "West"]
    # a customer's region is the one most of their orders ship to (it varies by order in the export)
    home = lines.groupby("Customer ID")["Region"].agg(lambda s: s.value_counts().index[0])
    regions = con.sql("select customer_id, region from customers").df().set_index("customer_id")["region"]
    assert (regions.sort_index() == home.sort_index()).all()
    assert con.sql("select distinct country from orders").fetchall() == [("US",)]
    # the export ends on 30 December: the forecasts' monthly series keep December (a shop's usual gap)
    with Workspace(tmp_path / "shop.duckdb") as ws:
        monthly = workspace_revenue(ws, ("channel", "region"), freq="M").bottom.sum(axis=1)
    assert monthly[monthly.index.year == 2023].sum() == pytest.approx(export.revenue_by_year[2023], rel=1e-9)
    mapping = (tmp_path / "exports" / "mapping.yaml").read_text()
    assert "wishlist" not in mapping  # the issue: the orders sheet was proposed as a wish list
    assert "return_id: Returned" not in mapping and "Returned: 'Yes'" in mapping  # the flag keeps rows
    assert "unit_price: '{Sales} / {Quantity} / (1 - {Discount})'" in mapping
    assert "# TODO orders.channel:" in mapping and "merged into" in out


def test_a_shopify_export_feeds_four_tables_through_the_unedited_suggestion(tmp_path, capsys):
    export = write_shopify_export(tmp_path / "exports")
    con, _ = _suggest_and_ingest(tmp_path / "exports", tmp_path / "shop.duckdb", capsys)
    _same_revenue(con, export.revenue_by_year)
    # the order's fields are on its first row only: the follow-on rows take them (no customer without an id)
    raw = pd.read_csv(export.path, dtype=str)
    assert con.sql("select count(*) from customers").fetchone()[0] == raw["Email"].nunique()
    assert con.sql("select count(*) from orders where customer_id is null").fetchone()[0] == 0
    assert dict(con.sql("select channel, kind from channels").fetchall()) == {
        "web": "online",
        "pos": "offline",
    }
    # local times as the shop shows them: the UTC offset is dropped, not applied
    last = con.sql("select max(order_date) from orders").fetchone()[0]
    assert str(last) == "2023-12-31 18:00:00"


def test_a_woocommerce_export_keeps_the_paid_orders_through_the_unedited_suggestion(tmp_path, capsys):
    export = write_woocommerce_export(tmp_path / "exports")
    con, _ = _suggest_and_ingest(tmp_path / "exports", tmp_path / "shop.duckdb", capsys)
    _same_revenue(con, export.revenue_by_year)
    raw = pd.read_csv(export.path, dtype=str)
    paid = raw[raw["status"].isin(["completed", "processing", "on-hold"])]
    assert con.sql("select count(*) from orders").fetchone()[0] == paid["order_id"].nunique()
    mapping = (tmp_path / "exports" / "mapping.yaml").read_text()
    assert "# TODO orders.channel" not in mapping  # a web shop's orders are online: no guess to mark


def _flat_csv(folder, rows, mapping):
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "lines.csv", index=False)
    (folder / "mapping.yaml").write_text(yaml.safe_dump(mapping, sort_keys=False))
    return folder


FLAT_ROWS = [
    {"Order": "A1", "Date": "2023-01-05", "Customer": "C1", "Country": "DE", "Sku": "P1", "Title": "Mug",
     "Qty": "2", "Total": "20", "Returned": "No"},
    {"Order": "A1", "Date": "2023-01-05", "Customer": "C1", "Country": "DE", "Sku": "P2", "Title": "Plate",
     "Qty": "1", "Total": "15", "Returned": "Yes"},
    {"Order": "A2", "Date": "2023-02-07", "Customer": "C2", "Country": "AT", "Sku": "P1", "Title": "Mug (blue)",
     "Qty": "3", "Total": "30", "Returned": "No"},
]  # fmt: skip


def _flat_mapping(conflicts=None):
    products = {
        "file": "lines.csv",
        "columns": {"product_id": "Sku", "name": "Title"},
        "derived": {"category": "'home'"},
    }
    if conflicts:
        products["conflicts"] = conflicts
    return {
        "tables": {
            "customers": {"file": "lines.csv", "columns": {"customer_id": "Customer", "country": "Country"}},
            "products": products,
            "orders": {
                "file": "lines.csv",
                "columns": {"order_id": "Order", "order_date": "Date", "customer_id": "Customer", "country": "Country"},
                "derived": {"channel": "'web' & 'shop'"},
            },
            "order_lines": {
                "file": "lines.csv",
                "columns": {"order_id": "Order", "product_id": "Sku", "quantity": "Qty"},
                "derived": {"unit_price": "{Total} / {Qty}"},
            },
            "returns": {
                "file": "lines.csv",
                "columns": {"order_id": "Order", "quantity": "Qty"},
                "where": {"Returned": "yes"},
            },
        }
    }  # fmt: skip


def test_rows_of_one_key_that_disagree_are_named_with_the_fix(tmp_path, capsys):
    folder = _flat_csv(tmp_path / "exports", FLAT_ROWS, _flat_mapping())
    assert main(["validate", str(folder), "--adapter", "canonical"]) != 0
    err = capsys.readouterr().err
    assert "rows that disagree" in err and "P1 has name 'Mug' (line 2), 'Mug (blue)' (line 4)" in err
    assert "conflicts: first" in err and "Traceback" not in err


def test_a_declared_rule_settles_disagreement_and_flagged_lines_become_returns(tmp_path, capsys):
    folder = _flat_csv(tmp_path / "exports", FLAT_ROWS, _flat_mapping(conflicts="last"))
    assert (
        main(["ingest", str(folder), "--adapter", "canonical", "--workspace", str(tmp_path / "w.duckdb")])
        == 0
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.sql("select name from products where product_id = 'P1'").fetchone() == ("Mug (blue)",)
    assert con.sql("select distinct channel from orders").fetchall() == [("webshop",)]
    # the flagged line keeps the number it has among its order's lines (the second of A1)
    assert con.sql("select return_id, order_id, line_no, quantity from returns").fetchall() == [
        ("A1-2", "A1", 2, 1)
    ]
    assert con.sql(
        "select line_no, unit_price from order_lines where order_id = 'A1' order by 1"
    ).fetchall() == [
        (1, 10.0),
        (2, 15.0),
    ]


@pytest.mark.parametrize(
    ("text", "rows", "expected"),
    [
        ("{Sales} / {Quantity}", {"Sales": ["10", "7.5"], "Quantity": ["4", "3"]}, ["2.5", "2.5"]),
        ("{First} & ' ' & {Last}", {"First": ["Ada", "Alan"], "Last": ["Lovelace", "Turing"]}, ["Ada Lovelace", "Alan Turing"]),
        ("'online'", {"x": ["1", "2"]}, ["online", "online"]),
        ("-{a} + 2 * ({b} - 1)", {"a": ["1", "0"], "b": ["3", "1"]}, ["3", "0"]),
        ("{a} / {b}", {"a": ["1", "1"], "b": ["0", ""]}, [None, None]),  # no number, not infinity
    ],
)  # fmt: skip
def test_derived_columns_compute_what_they_say(text, rows, expected):
    got = Expression(text, "tables.t.derived.c").evaluate(
        pd.DataFrame(rows, dtype="string"), ".", "f.csv", "t", "c"
    )
    assert [None if pd.isna(v) else v for v in got] == expected


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('echo hi')", "{Sales}.upper()", "open('x')", "Sales * 2", "{a} if {b} else 1",
     "[{a}]", "{a} ** 99999", "lambda: 1", "lookup({a}, 'x.csv')", "lookup({a}, {b}, 'k', 'v')",
     "lookup({a}, 'x.csv', 'k', 'v', f=1)", "__import__('os')"],
)  # fmt: skip
def test_a_derived_column_is_never_code(text):
    with pytest.raises(ConfigError, match="tables.t.derived.c"):
        Expression(text, "tables.t.derived.c")


def test_a_lookup_takes_a_value_from_another_file_and_names_a_key_given_twice(tmp_path, capsys):
    rows = [dict(r, State=s) for r, s in zip(FLAT_ROWS, ["Bavaria", "Bavaria", "Tyrol"], strict=True)]
    mapping = _flat_mapping(conflicts="first")
    mapping["tables"]["customers"]["derived"] = {
        "region": "lookup({State}, 'regions.csv', 'State', 'Region')"
    }
    folder = _flat_csv(tmp_path / "exports", rows, mapping)
    regions = pd.DataFrame({"State": ["Bavaria", "Tyrol", "Vienna"], "Region": ["South", "Alps", "East"]})
    regions.to_csv(folder / "regions.csv", index=False)
    assert (
        main(["ingest", str(folder), "--adapter", "canonical", "--workspace", str(tmp_path / "w.duckdb")])
        == 0
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.sql("select customer_id, region from customers order by 1").fetchall() == [
        ("C1", "South"),
        ("C2", "Alps"),
    ]
    con.close()
    pd.concat([regions, pd.DataFrame({"State": ["Tyrol"], "Region": ["West"]})]).to_csv(
        folder / "regions.csv", index=False
    )
    assert main(["validate", str(folder), "--adapter", "canonical"]) != 0
    err = capsys.readouterr().err
    assert "'regions.csv' gives State 'Tyrol' more than one Region" in err and "Traceback" not in err


def test_a_derived_column_names_the_lines_that_are_not_numbers():
    frame = pd.DataFrame({"Sales": ["10", "ten", "5"], "Qty": ["1", "2", "x"]}, dtype="string")
    with pytest.raises(OmnimodelError, match="not numbers") as caught:
        Expression("{Sales} / {Qty}", "w").evaluate(frame, ".", "f.csv", "order_lines", "unit_price")
    assert caught.value.rows == ["line 3"]


def test_the_engine_route_refuses_a_flat_mapping_by_name(tmp_path, capsys):
    folder = _flat_csv(tmp_path / "exports", FLAT_ROWS, _flat_mapping(conflicts="first"))
    code = main(
        [
            "ingest",
            str(folder),
            "--adapter",
            "canonical",
            "--workspace",
            str(tmp_path / "w.duckdb"),
            "--in-engine",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "flat export" in err and "without --in-engine" in err and "Traceback" not in err
    assert not (tmp_path / "w.duckdb").exists()


def test_the_suggestion_marks_every_guess(tmp_path):
    write_flat_export(tmp_path / "exports", ".xlsx")
    text = suggest_mapping(tmp_path / "exports")
    todo = [line for line in text.splitlines() if line.startswith("# TODO")]
    for guess in ("order_lines.unit_price: derived as", "orders.channel:", "customers: Postal Code, City, Region differ",
                  "products: Product Name differ", "returns: each order listed in"):  # fmt: skip
        assert any(guess in line for line in todo), guess


def test_a_lookup_of_text_in_arithmetic_names_the_lookup_not_a_traceback():
    frame = pd.DataFrame({"k": ["a", "b"]}, dtype="string")
    prices = pd.DataFrame({"key": ["a", "b"], "price": ["3", "n/a"]}, dtype="string")
    expr = Expression("lookup({k}, 'prices.csv', 'key', 'price') * 2", "w")
    with pytest.raises(OmnimodelError, match="lookup\\(") as caught:
        expr.evaluate(frame, ".", "f.csv", "order_lines", "unit_price", lambda name: prices)
    assert caught.value.rows == ["line 3"]
