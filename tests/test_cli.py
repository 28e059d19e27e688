"""The `omnimodel` command: help with examples, exit codes, clear errors instead of tracebacks."""

import json
import subprocess
import sys

import pytest

from omnimodel.cli import build_parser, main


def test_help_explains_each_command_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in ("report", "demo", "validate", "ingest", "lab"):
        assert f"omnimodel {command}" in text
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert "example" in (p.epilog or ""), f"`omnimodel {name} --help` needs an example"


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "omnimodel.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "report" in out.stdout


def test_demo_then_validate_the_workspace(tmp_path, capsys):
    ws = tmp_path / "d.duckdb"
    assert main(["demo", "--size", "small", "--seed", "3", "--workspace", str(ws)]) == 0
    assert ws.exists() and ws.with_suffix(".truth.json").exists()
    capsys.readouterr()
    assert main(["validate", str(ws), "--adapter", "workspace", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["rows"]["orders"] > 1000


def test_validate_reports_every_problem_and_exits_1(tmp_path, capsys):
    (tmp_path / "products.csv").write_text("product_id,category,price\nP1,shoes,10\nP1,shoes,-5\nP2,,abc\n")
    assert main(["validate", str(tmp_path), "--adapter", "canonical"]) == 1
    out = capsys.readouterr().out
    assert "duplicate ids" in out and "below the minimum" in out and "not a valid float" in out
    assert "products.category" in out


def test_unknown_adapter_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", str(tmp_path), "--adapter", "nope"]) == 2
    assert "unknown adapter 'nope'" in capsys.readouterr().err


def test_targets_backtest_prints_mase_per_series(capsys):
    from tests.conftest import SHARED_DATA

    folder = str(SHARED_DATA / "au_tourism_regional")
    args = ["targets", "backtest", "--series", "au-accommodation", "--folder", folder]
    assert main([*args, "--choose", "2", "--score", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["season_length"] == 4 and out["horizon"] == 4 and out["overall"]["series"] == 9
    assert {r["node"] for r in out["series"]} >= {"total", "Victoria"}
    assert all(r["mase_seasonal_naive"] > 0 for r in out["series"])
    assert main([*args, "--choose", "2", "--score", "3"]) == 0
    assert "Mean MASE" in capsys.readouterr().out


def test_pip_users_start_the_what_if_panel_as_omnimodel_whatif(capsys):
    with pytest.raises(SystemExit) as done:
        main(["whatif", "--help"])
    assert done.value.code == 0 and "Run notebook 05 in Voila" in capsys.readouterr().out
