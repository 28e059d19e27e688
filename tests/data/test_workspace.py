"""Workspaces are written all-or-nothing and opened with clear errors."""

import pandas as pd
import pytest

from omnimodel import Workspace, WorkspaceError
from omnimodel.data.workspace import write_workspace


def test_missing_workspace_names_the_fix(tmp_path):
    with pytest.raises(WorkspaceError, match="omnimodel demo"):
        Workspace(tmp_path / "nope.duckdb")


def test_missing_table_is_a_clear_error(demo_workspace, tmp_path):
    path = write_workspace(
        tmp_path / "w.duckdb", {"products": pd.DataFrame({"product_id": ["a"], "category": ["x"]})}
    )
    with Workspace(path) as ws:
        assert ws.tables() == ["products"]
        with pytest.raises(WorkspaceError, match="no table 'orders'"):
            ws.table("orders")


def test_types_follow_the_schema(demo_workspace):
    with Workspace(demo_workspace) as ws:
        schema = ws.table("orders").schema()
        assert str(schema["order_date"]).startswith("timestamp")
        assert str(ws.table("customers").schema()["birth_date"]).startswith("date")


def test_a_failed_write_leaves_the_existing_workspace_untouched(tmp_path, monkeypatch):
    products = pd.DataFrame({"product_id": ["a"], "category": ["x"]})
    path = write_workspace(tmp_path / "w.duckdb", {"products": products})
    before = path.read_bytes()
    from omnimodel.data import cells

    real = cells.coerce

    def fail_on_orders(name, frame):  # the disk fills up half-way through
        if name == "orders":
            raise OSError("No space left on device")
        return real(name, frame)

    monkeypatch.setattr(cells, "coerce", fail_on_orders)
    orders = pd.DataFrame(
        {"order_id": ["o"], "order_date": ["2025-01-01"], "channel": ["app"], "country": ["DE"]}
    )
    with pytest.raises(OSError, match="No space"):
        write_workspace(path, {"products": products.assign(product_id="b"), "orders": orders})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def test_the_data_inventory_shows_no_birth_dates(demo_workspace, demo_small):
    from omnimodel.data.overview import workspace_summary

    customers = demo_small[0]["customers"]
    with Workspace(demo_workspace) as ws:
        row = workspace_summary(ws).set_index("table").loc["customers"]
    assert row["from"] == pd.Timestamp(customers["acquisition_date"].min()).date()
    assert row["from"] != pd.Timestamp(customers["birth_date"].min()).date()


def test_a_killed_writes_temporaries_are_removed_by_the_next_write(tmp_path):
    import os

    dead = tmp_path / ".shop.duckdb.tmp-999999999"
    dead.write_bytes(b"half")
    (tmp_path / ".shop.duckdb.tmp-999999999.wal").write_bytes(b"log")
    live = tmp_path / f".shop.duckdb.tmp-{os.getppid()}"  # a process that is alive: not touched
    live.write_bytes(b"busy")
    write_workspace(
        tmp_path / "shop.duckdb", {"products": pd.DataFrame({"product_id": ["P1"], "category": ["x"]})}
    )
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == [live.name, "shop.duckdb"]


@pytest.mark.parametrize("target", ["orders.csv", "budget.xlsx", "other.duckdb", "folder"])
def test_a_file_that_is_not_a_workspace_is_never_overwritten(tmp_path, capsys, target):
    """Issue 36: `--workspace exports/orders.csv` turned the source into a DuckDB file."""
    import duckdb

    from omnimodel.cli import main
    from tests.data.shop_exports import write_shopify_export

    write_shopify_export(tmp_path / "exports")
    path = tmp_path / target
    if target == "folder":
        path.mkdir()
    elif target == "other.duckdb":  # another program's database
        duckdb.connect(str(path)).execute("CREATE TABLE ledger (x INT)").close()
    else:
        path.write_bytes(b"order_id,amount\n1,2\n" if target.endswith(".csv") else b"PK\x03\x04 a workbook")
    before = None if path.is_dir() else path.read_bytes()
    args = ["ingest", str(tmp_path / "exports"), "--adapter", "canonical", "--workspace", str(path)]
    assert (
        main(
            [
                "map",
                "--suggest",
                str(tmp_path / "exports"),
                "--out",
                str(tmp_path / "exports" / "mapping.yaml"),
            ]
        )
        == 0
    )
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "nothing was written" in err or "is a folder" in err
    assert before is None or path.read_bytes() == before
    assert not list(tmp_path.glob(f".{path.name}.tmp-*"))


def test_an_earlier_workspace_is_replaced(tmp_path, capsys):
    from omnimodel.cli import main
    from tests.data.shop_exports import suggest_and_ingest, write_shopify_export

    write_shopify_export(tmp_path / "exports")
    suggest_and_ingest(tmp_path / "exports", tmp_path / "shop.duckdb")
    args = [
        "ingest",
        str(tmp_path / "exports"),
        "--adapter",
        "canonical",
        "--workspace",
        str(tmp_path / "shop.duckdb"),
    ]
    assert main(args) == 0
