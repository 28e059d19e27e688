"""The validation as engine queries (``--in-engine``): the problems found are the in-memory route's, count for
count with the same example rows (the malformed battery one by one and all at once, real data written as
canonical files); quarantine sets the same rows aside; mapped exports read alike. (The battery's clear errors
and the odd-but-valid controls run on both routes in tests/data/test_malformed.py.)"""

from __future__ import annotations

import pandas as pd
import pytest

from omnimodel.cli import main
from tests.conftest import SHARED_DATA
from tests.data.test_malformed import CASES, ENGINE_WORDS, GOOD, _write, replace


def _found(src, in_engine: bool):
    """The problems validation finds, comparable across the routes (or the error that stopped it)."""
    from omnimodel.exceptions import OmnimodelError
    from omnimodel.ingest.load import validate_source

    try:
        report = validate_source(src, "canonical", in_engine=in_engine)
    except OmnimodelError as exc:
        return str(exc)
    return comparable(report.problems)


def comparable(problems) -> list[tuple]:
    """Problems as (table, column, message, rows, example rows), sorted; example rows are named alike where the
    table has one key column (else by line in memory, by key in the engine) or the check names its own."""
    from omnimodel.data.schema import TABLES

    def named_alike(p):
        return len(TABLES[p.table].key) == 1 or "regressions" in p.message

    return sorted((p.table, p.column, p.message, p.count, p.rows if named_alike(p) else ()) for p in problems)


#: the battery but the cases the engine words otherwise on purpose (their errors: tests/data/test_malformed.py)
ALIKE = [c for c in CASES if c[0] not in ENGINE_WORDS]


def test_a_rule_added_once_runs_on_both_routes(tmp_path, monkeypatch):
    """The checks of a column are one table of rules: a rule added there is checked in memory and in the engine."""
    from omnimodel.ingest import rules

    shouting = rules.Rule(
        applies=lambda c: c.column.name == "name" and c.text,
        message=lambda c: "names written in capitals",
        fix=lambda c: "write names as people read them",
        rows=lambda c: c.present & (c.raw == c.raw.upper()),
    )
    monkeypatch.setattr(rules, "RULES", [*rules.RULES, shouting])
    files = dict(GOOD)
    replace("products.csv", "P2,Bag,", "P2,BAG,")(files)
    _write(tmp_path / "src", files)
    expected = [("products", "name", "names written in capitals", 1, ("P2",))]
    assert _found(tmp_path / "src", in_engine=False) == expected
    assert _found(tmp_path / "src", in_engine=True) == expected


# slow: both routes run the same checks; what this holds is that files read by the engine and frames read in
# memory give the checks the same values (the combined test below holds it at once, in the fast suite)
@pytest.mark.slow
@pytest.mark.parametrize("case,change,expected", ALIKE, ids=[c[0] for c in ALIKE])
def test_the_engine_finds_what_memory_finds(tmp_path, case, change, expected):
    """Each malformed input: the same problems, rows counted alike and the same example rows."""
    files = dict(GOOD)
    change(files)
    _write(tmp_path / "src", files)
    assert _found(tmp_path / "src", True) == _found(tmp_path / "src", False)


def test_quarantine_in_the_engine_sets_the_same_rows_aside(tmp_path, capsys):
    from omnimodel import Workspace

    files = dict(GOOD)
    replace("order_lines.csv", "O2,1,P2,1,", "O2,1,P2,-1,")(files)
    replace("orders.csv", "O3,C3", "O3,C9")(files)  # orphan order; its line becomes an orphan in turn
    files["orders.csv"] = files["orders.csv"].replace("2025-01-04 11:30,stores", '2025-01-04 11:30,"=1+1"')
    _write(tmp_path / "src", files)
    out = {}
    for route in ("--in-memory", "--in-engine"):
        ws = tmp_path / route.strip("-") / "w.duckdb"
        ws.parent.mkdir()
        args = [
            "ingest",
            str(tmp_path / "src"),
            "--adapter",
            "canonical",
            "--workspace",
            str(ws),
            "--quarantine",
        ]
        assert main([*args, route]) == 0, capsys.readouterr().err
        assert "Quarantined 4 rows" in capsys.readouterr().out
        rejected = pd.read_csv(ws.with_suffix(".rejected.csv"), dtype=str, keep_default_na=False)
        with Workspace(ws) as w:
            kept = {t: w.table(t).to_pandas() for t in ("orders", "order_lines")}
        out[route] = rejected, kept
    (mem, mem_kept), (eng, eng_kept) = out["--in-memory"], out["--in-engine"]
    key = ["rejected_from", "order_id", "line_no"]
    mem = mem[eng.columns].sort_values(key).reset_index(drop=True)
    eng = eng.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(eng, mem)  # the same rows, reasons and neutralised formula ('=1+1)
    assert (eng["channel"] == "'=1+1").sum() == 1
    for table in ("orders", "order_lines"):
        pd.testing.assert_frame_equal(
            eng_kept[table]
            .sort_values(["order_id"] + (["line_no"] if table == "order_lines" else []))
            .reset_index(drop=True),
            mem_kept[table]
            .sort_values(["order_id"] + (["line_no"] if table == "order_lines" else []))
            .reset_index(drop=True),
        )


#: malformed cases that combine in one folder (each changes other rows), for a test of many problems at once
COMBINED = ("text-in-number", "duplicate-id", "orphan-product", "unknown-stage", "stage-regression",
            "closed-before-created", "negative-amount", "infinite-price", "discount-over-one",
            "channel-two-spellings", "bad-bool", "bad-gender", "formula-hyperlink",
            "mixed-time-zones", "duplicate-composite-key")  # fmt: skip


def dirty_exports(folder):
    """The good exports with every change of :data:`COMBINED` applied: many problems in one folder."""
    files = dict(GOOD)
    for case, change, _ in CASES:
        if case in COMBINED:
            before = dict(files)
            change(files)
            assert files != before, f"{case} found nothing to change: pick cases that combine"
    _write(folder, files)
    return folder


def test_many_problems_at_once_are_found_alike(tmp_path):
    src = dirty_exports(tmp_path / "src")
    found = _found(src, True)
    assert len(found) >= 15
    assert found == _found(src, False)


def _ingest_in_engine(src, workspace) -> int:
    return main(["ingest", str(src), "--adapter", "canonical", "--workspace", str(workspace), "--in-engine"])


def csv_only_client_export(tables, folder, encoding="latin-1"):
    """The German retailer's exports (tests/data/client_export.py) with the workbook saved as a semicolon CSV
    and the text in ``encoding``, and the mapping `omnimodel map --suggest` proposes for them: what the engine
    reads (renames, keys of two columns, day-first dates, decimal commas, country names, channel kinds)."""
    from tests.data.client_export import write_client_export

    write_client_export(tables, folder)
    orders = pd.read_excel(folder / "Bestellungen.xlsx", dtype=str)
    (folder / "Bestellungen.xlsx").unlink()
    orders.to_csv(folder / "Bestellungen.csv", sep=";", index=False, encoding="cp1252")
    for path in folder.glob("*.csv"):
        path.write_text(path.read_text(encoding="cp1252"), encoding=encoding)
    assert main(["map", "--suggest", str(folder), "--out", str(folder / "mapping.yaml")]) == 0
    mapping = folder / "mapping.yaml"
    mapping.write_text(mapping.read_text().replace("cp1252", encoding))
    return folder


def test_a_mapped_export_reads_alike_through_the_engine(tmp_path, demo_small, capsys):
    """Every table of the mapped exports, typed, row for row as the in-memory route reads them."""
    from omnimodel import Workspace

    src = csv_only_client_export(demo_small[0], tmp_path / "exports")
    capsys.readouterr()
    base = ["ingest", str(src), "--adapter", "canonical", "--workspace"]
    assert main([*base, str(tmp_path / "mem.duckdb"), "--in-memory"]) == 0
    assert main([*base, str(tmp_path / "eng.duckdb"), "--in-engine"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "Kunden.csv: column(s) Telefon, Straße not in the mapping, left out" in out
    assert_same_tables(tmp_path / "eng.duckdb", tmp_path / "mem.duckdb")
    with Workspace(tmp_path / "eng.duckdb") as eng:
        assert len(eng.table("orders").to_pandas()) == len(demo_small[0]["orders"])


def test_a_value_that_misses_its_mapped_date_format_stops_the_engine_too(tmp_path, demo_small, capsys):
    src = csv_only_client_export(demo_small[0], tmp_path / "exports")
    text = (src / "Retouren.csv").read_text(encoding="latin-1").splitlines()
    head, first = text[0].split(";"), text[1].split(";")
    first[head.index("Retourendatum")] = "2024-01-31"  # ISO among day-first dates
    (src / "Retouren.csv").write_text(
        "\n".join([text[0], ";".join(first), *text[2:]]) + "\n", encoding="latin-1"
    )
    capsys.readouterr()
    assert _ingest_in_engine(src, tmp_path / "w.duckdb") == 2
    err = capsys.readouterr().err
    assert "1 value(s) of Retouren.csv do not match the date format '%d.%m.%Y', e.g. '2024-01-31'" in err
    assert not (tmp_path / "w.duckdb").exists()


@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")
@pytest.mark.parametrize("adapter", ["maven_crm", "online_retail", "olist_funnel"])
@pytest.mark.slow
def test_real_data_exported_to_canonical_files_loads_alike_through_the_engine(tmp_path, adapter):
    """Data we did not shape (the Maven CRM, Olist funnel and UCI Online Retail sets, read by their adapters and written
    out as canonical CSV files): the engine finds what memory finds and writes the same tables."""
    from omnimodel import Workspace
    from omnimodel.ingest.load import ingest

    first = tmp_path / "first.duckdb"
    ingest(SHARED_DATA / adapter, adapter, first)
    src = tmp_path / "exports"
    src.mkdir()
    with Workspace(first) as ws:
        for name in ws.tables():
            ws.table(name).to_pandas().to_csv(src / f"{name}.csv", index=False)
    assert _found(src, True) == _found(src, False)
    mem, eng = tmp_path / "mem.duckdb", tmp_path / "eng.duckdb"
    ingest(src, "canonical", mem, in_engine=False)
    ingest(src, "canonical", eng, in_engine=True)
    assert_same_tables(eng, mem)


def assert_same_tables(got_path, want_path) -> None:
    """Two workspace files hold the same tables, typed alike, row for row (in any order)."""
    from omnimodel import Workspace

    with Workspace(got_path) as got_ws, Workspace(want_path) as want_ws:
        assert sorted(got_ws.tables()) == sorted(want_ws.tables())
        for name in want_ws.tables():
            assert got_ws.table(name).schema() == want_ws.table(name).schema(), name
            want = want_ws.table(name).to_pandas()
            got = got_ws.table(name).to_pandas()[list(want.columns)]
            key = list(want.columns)
            pd.testing.assert_frame_equal(
                got.sort_values(key).reset_index(drop=True),
                want.sort_values(key).reset_index(drop=True),
                obj=name,
            )


def ragged_after_the_first_megabyte(folder):
    """A products file whose one ragged row comes after its first megabyte (past the head's check)."""
    folder.mkdir()
    rows = ["product_id,name,category,price,cost"] + [f"P{i},Mug,home,10,4" for i in range(60_000)]
    (folder / "products.csv").write_text("\n".join([*rows, "P-x,Bag,home,25,9,extra"]) + "\n")
    return folder


def test_a_ragged_row_deep_in_a_file_stops_the_engine_with_a_clear_error(tmp_path, capsys):
    src = ragged_after_the_first_megabyte(tmp_path / "src")
    assert _ingest_in_engine(src, tmp_path / "w.duckdb") == 2
    err = capsys.readouterr().err
    assert (
        "[products] the engine could not read products.csv: Invalid Input Error: CSV Error on Line: 60002"
        in err
    )
    assert "Traceback" not in err and not (tmp_path / "w.duckdb").exists()
