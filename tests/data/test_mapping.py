"""A mapping file for any export: ``omnimodel map --suggest`` proposes it from the files' names and values, and
the canonical adapter reads the exports through it. The exports are the small demo company written as a German
retailer would (tests/data/client_export.py), so the right mapping and the right numbers are known."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import yaml

from omnimodel.cli import main
from omnimodel.data.queries import channel_kinds
from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.ingest.mapping import load_mapping
from omnimodel.ingest.suggest import suggest_mapping

from .client_export import CHANNELS, write_client_export


@pytest.fixture(scope="module")
def export(tmp_path_factory, demo_small):
    tables, _ = demo_small
    return write_client_export(tables, tmp_path_factory.mktemp("client") / "exports")


@pytest.fixture
def folder(export, tmp_path):
    """A fresh copy of the exports (a test may add a mapping to it)."""
    return shutil.copytree(export, tmp_path / "exports")


def test_the_suggestion_recovers_the_planted_mapping(export):
    raw = yaml.safe_load(suggest_mapping(export))
    t = raw["tables"]
    assert {name: spec["file"] for name, spec in t.items()} == {
        "customers": "Kunden.csv",
        "products": "Artikel.parquet",
        "orders": "Bestellungen.xlsx",
        "order_lines": "Bestellpositionen.csv",
        "returns": "Retouren.csv",
    }
    assert t["customers"]["encoding"] == "cp1252" and t["customers"]["separator"] == ";"
    assert t["customers"]["columns"] == {
        "customer_id": "KundenNr",
        "country": "Land",
        "region": "Region",
        "segment": "Segment",
        "acquisition_date": "Kunde seit",
    }
    assert t["customers"]["values"]["country"]["Germany"] == "DE"
    assert t["orders"]["dates"] == {"order_date": "%d.%m.%Y %H:%M"}
    assert t["orders"]["columns"]["channel"] == "Kanal"
    # Order numbers restart per customer: the key is number plus customer, in every table that refers to it.
    for name in ("orders", "order_lines", "returns"):
        assert t[name]["keys"] == {"order_id": ["BestellNr", "KundenNr"]}, name
    assert t["order_lines"]["decimal"] == ","
    assert t["order_lines"]["columns"]["unit_price"] == "Preis"
    assert t["returns"]["dates"] == {"return_date": "%d.%m.%Y"}
    assert raw["channels"] == {
        "Amazon": "online",
        "App": "online",
        "Außendienst": "assisted",
        "Filiale": "offline",
        "Online-Shop": "online",
        "Telefon": "assisted",
    }
    assert "# TODO customers: Kunden.csv column(s) Telefon, Straße left out" in suggest_mapping(export)


def test_the_mapped_exports_give_the_demo_companys_numbers(folder, tmp_path, demo_workspace, capsys):
    mapping = folder / "mapping.yaml"
    assert main(["map", "--suggest", str(folder), "--out", str(mapping)]) == 0
    assert main(["map", "--suggest", str(folder), "--out", str(mapping)]) == 2  # never over an existing file
    assert main(["validate", str(folder), "--adapter", "canonical"]) == 0
    ws_path = tmp_path / "acme.duckdb"
    assert main(["ingest", str(folder), "--adapter", "canonical", "--workspace", str(ws_path)]) == 0

    def revenue_by_channel(path, rename=None):
        with Workspace(path) as ws:
            lines = ws.table("order_lines").join(ws.table("orders"), "order_id").execute()
            counts = {name: ws.table(name).count().execute() for name in ("customers", "orders", "returns")}
            columns = ws.table("customers").columns
        lines["revenue"] = lines["quantity"] * lines["unit_price"] * (1 - lines["discount"].fillna(0))
        by = lines.groupby(lines["channel"].replace(rename or {}))["revenue"].sum()
        return by, counts, columns

    expected, expected_counts, _ = revenue_by_channel(demo_workspace, rename=CHANNELS)
    got, counts, columns = revenue_by_channel(ws_path)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), rtol=1e-9)
    assert counts == expected_counts
    assert "phone" not in columns and "Telefon" not in columns  # unmapped columns stay out
    with Workspace(ws_path) as ws:
        assert channel_kinds(ws)["Filiale"] == "offline" and channel_kinds(ws)["Amazon"] == "online"


def test_a_date_that_does_not_fit_its_format_names_the_lines(folder, capsys):
    text = suggest_mapping(folder).replace("'%d.%m.%Y %H:%M'", "'%Y-%m-%d %H:%M'")
    (folder / "mapping.yaml").write_text(text)
    assert main(["validate", str(folder), "--adapter", "canonical"]) == 2
    err = capsys.readouterr().err
    assert "[orders.order_date]" in err and "line 2" in err and "'%Y-%m-%d %H:%M'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda m: m["tables"].__setitem__("orderlines", {"file": "x.csv"}), "not a canonical table"),
        (
            lambda m: m["tables"]["orders"]["columns"].__setitem__("kanal", "Kanal"),
            "kanal not a column of orders",
        ),
        (
            lambda m: m["tables"]["orders"].__setitem__("file", "Orders.xlsx"),
            "Orders.xlsx (named in the mapping)",
        ),
        (
            lambda m: m["tables"]["orders"]["columns"].__setitem__("channel", "Vertrieb"),
            "no column(s) Vertrieb",
        ),
        (
            lambda m: m["tables"]["orders"]["dates"].__setitem__("order_date", "DD.MM.YYYY"),
            "not a date format",
        ),
        (lambda m: m["channels"].__setitem__("Amazon", "web"), "Amazon: web"),
    ],
    ids=["table", "column", "file", "source column", "date format", "channel kind"],
)
def test_a_wrong_mapping_says_which_line_to_change(folder, edit, message):
    raw = yaml.safe_load(suggest_mapping(folder))
    edit(raw)
    (folder / "mapping.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(OmnimodelError) as info:
        from omnimodel.ingest.adapters import load

        load(folder, "canonical")
    assert message in str(info.value)
    assert "Fix:" in str(info.value)


def test_encoding_option(tmp_path, demo_small, capsys):
    tables, _ = demo_small
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("customers", "products", "orders", "order_lines"):
        frame = tables[name]
        if name == "customers":
            frame = frame.assign(city=frame["city"].where(frame.index != 3, "Köln"))
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="cp1252")
    assert main(["validate", str(folder), "--adapter", "canonical"]) == 2
    assert "--encoding" in capsys.readouterr().err
    assert main(["validate", str(folder), "--adapter", "canonical", "--encoding", "cp1252"]) == 0
    # Only the canonical adapter reads encodings and mappings; the others say so.
    with pytest.raises(ConfigError, match="takes no --encoding"):
        from omnimodel.ingest.adapters import load

        load(folder, "online_retail", encoding="cp1252")


def test_a_mapping_without_tables_is_refused(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text("orders: {file: x.csv}\n")
    with pytest.raises(ConfigError, match="no `tables:` section"):
        load_mapping(path)
