"""The validation as engine queries (``--in-engine``): the malformed battery gives the same clear errors as the
in-memory route, writes nothing; odd but valid input loads as given; quarantine sets the same rows aside; and
the problems found are the in-memory route's, count for count."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from omnimodel.cli import main
from tests.data.test_malformed import CASES, CONTROLS, GOOD, _write, replace

#: where the engine route words it otherwise (same table, column and fix)
ENGINE_WORDS = {
    # the in-memory reader stops at a NUL byte; the engine reads it and the check names the rows
    "nul-byte": "products.name: NUL characters inside values",
    "corrupt-parquet": "orders.parquet",
}


@pytest.mark.parametrize("case,change,expected", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_gives_the_same_clear_error_in_the_engine(tmp_path, capsys, case, change, expected):
    files = dict(GOOD)
    change(files)
    src = tmp_path / "src"
    before = _write(src, files)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    expected = ENGINE_WORDS.get(case, expected)
    for command in (
        ["validate", str(src), "--adapter", "canonical", "--in-engine"],
        [
            "ingest",
            str(src),
            "--adapter",
            "canonical",
            "--workspace",
            str(out_dir / "w.duckdb"),
            "--in-engine",
        ],
    ):
        code = main(command)
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert code in (1, 2), f"{case}: {command[0]} exited {code}"
        assert expected in text, f"{case}: {expected!r} not in {text!r}"
        assert "Traceback" not in text
    assert list(out_dir.iterdir()) == [], "no workspace, temporary or side file may be left behind"
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in src.iterdir()}
    assert after == before, "source files must never be modified"


def _found(src, in_engine: bool):
    """The problems validation finds, comparable across the routes (or the error that stopped it)."""
    from omnimodel.data.ingest import validate_source
    from omnimodel.data.schema import TABLES
    from omnimodel.exceptions import OmnimodelError

    try:
        report = validate_source(src, "canonical", in_engine=in_engine)
    except OmnimodelError as exc:
        return str(exc)
    # example rows are named alike where the table has one key column (else lines in memory, keys in the engine)
    return sorted(
        (p.table, p.column, p.message, p.count, p.rows if len(TABLES[p.table].key) == 1 else ())
        for p in report.problems
    )


@pytest.mark.parametrize("case,change,expected", CASES, ids=[c[0] for c in CASES])
def test_the_engine_finds_what_memory_finds(tmp_path, case, change, expected):
    """Each malformed input: the same problems, rows counted alike and the same example rows."""
    if case in ENGINE_WORDS:
        pytest.skip("worded otherwise on purpose (see ENGINE_WORDS)")
    files = dict(GOOD)
    change(files)
    _write(tmp_path / "src", files)
    assert _found(tmp_path / "src", True) == _found(tmp_path / "src", False)


@pytest.mark.parametrize("case,change,holds", CONTROLS, ids=[c[0] for c in CONTROLS])
def test_odd_but_valid_input_loads_as_given_through_the_engine(tmp_path, capsys, case, change, holds):
    from omnimodel import Workspace

    files = dict(GOOD)
    change(files)
    _write(tmp_path / "src", files)
    ws = tmp_path / "w.duckdb"
    args = ["ingest", str(tmp_path / "src"), "--adapter", "canonical", "--workspace", str(ws), "--in-engine"]
    assert main(args) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "read, checked and written by the engine" in out
    if case == "formula-text-in-a-name":
        assert (
            "products.name: 1 value(s) start like a spreadsheet formula (e.g. rows P2): kept as given" in out
        )
    with Workspace(ws) as w:
        assert holds(w)


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
