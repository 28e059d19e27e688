"""One top-level handler: a full disk, a refused write, a damaged workspace or a bug each end as one line
with what to do and a distinct exit code; --debug adds the traceback."""

import errno
import shutil

import pytest

import omnimodel.cli as cli
from omnimodel.cli import EXIT_CODES, main


def _failing(monkeypatch, exc):
    def boom(args):
        raise exc

    monkeypatch.setattr(cli.data, "_cmd_demo", boom)  # the parser picks the command up when main builds it


@pytest.mark.parametrize(
    "exc, code, words",
    [
        (OSError(errno.ENOSPC, "No space left on device", "data/demo.duckdb"), "system", "no space left"),
        (
            PermissionError(errno.EACCES, "Permission denied", "/srv/out"),
            "system",
            "not allowed to write /srv/out",
        ),
        (ValueError("something odd"), "internal", "internal error (ValueError: something odd)"),
    ],
    ids=["full disk", "read-only", "a bug"],
)
def test_foreign_errors_are_one_line_with_a_fix(monkeypatch, capsys, exc, code, words):
    _failing(monkeypatch, exc)
    assert main(["demo"]) == EXIT_CODES[code]
    err = capsys.readouterr().err
    assert words in err and "Fix:" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(["demo", "--debug"]) == EXIT_CODES[code]
    assert "Traceback" in capsys.readouterr().err


def test_a_damaged_workspace_is_an_engine_error_not_a_traceback(tmp_path, demo_workspace, capsys):
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(demo_workspace, damaged)
    data = bytearray(damaged.read_bytes())
    start = 3 * 4096  # DuckDB's file headers stay; every block after them is damaged, whichever a query reads
    data[start:] = b"\x5a" * (len(data) - start)
    damaged.write_bytes(bytes(data))
    code = main(["targets", "backtest", "--workspace", str(damaged), "--choose", "1", "--score", "1"])
    err = capsys.readouterr().err
    assert code in (EXIT_CODES["usage"], EXIT_CODES["engine"]), err
    assert "Traceback" not in err and "Fix:" in err


@pytest.mark.slow
def test_a_fit_that_did_not_converge_says_so_first_and_strict_fails(demo_workspace, capsys):
    from omnimodel.cli.pipeline import NOT_CONVERGED

    args = ["pipeline", "forecast", "--workspace", str(demo_workspace), "--draws", "20", "--ledger", "none"]
    assert main(args) == 0  # the numbers, with the warning on top
    out = capsys.readouterr().out
    assert out.startswith("NOT CONVERGED") and "Bookings forecast" in out
    assert main([*args, "--strict"]) == NOT_CONVERGED


@pytest.mark.parametrize(
    "name, text, kind, words",
    [
        (
            "IOException",
            "IO Error: Could not read from file: checksum mismatch",
            "engine",
            "the data engine failed",
        ),
        (
            "OSError",
            "[Errno 28] No space left on device: 'reports/x.html'",
            "system",
            "no space left on the disk",
        ),
        ("KeyError", "'deal_stage'", "internal", "internal error (KeyError: 'deal_stage')"),
    ],
)
def test_the_report_runner_says_a_notebooks_foreign_error_as_the_cli_does(name, text, kind, words):
    from omnimodel.exceptions import explain_named
    from omnimodel.reporting.execute import _said

    message, said_kind = explain_named(name, text)
    assert said_kind == kind and words in message and "Fix:" in message
    shown = _said(name, text, "03_pipeline_forecast")
    assert words in shown and "Fix:" in shown and "\n" not in shown
    if kind == "internal":  # a report's traceback is in its executed notebook, not behind --debug
        assert "03_pipeline_forecast.ipynb in the run folder shows the traceback" in shown
    # omnimodel's own errors keep their words: they name the fix already
    assert _said("ParameterError", "region='X' matches nothing. Fix: use one of A", "n") == (
        "ParameterError: region='X' matches nothing. Fix: use one of A"
    )
