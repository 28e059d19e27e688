"""The report runner behind ``omnimodel report``.

A run checks every parameter first, then executes the selected notebooks (in parallel worker processes with
``jobs > 1``) into a hidden temporary folder, writes ``index.html`` and ``manifest.json``, and only then
renames the folder to ``reports/<UTC timestamp>/``. ``reports/latest`` moves to the new run only when every
report succeeded, so a failed or interrupted run never replaces the last good one, and earlier runs are never
touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from omnimodel.data.workspace import Workspace
from omnimodel.environment import project_kernel, project_root, pytensor_environment, sigterm_exits
from omnimodel.exceptions import ConfigError, ParameterError, WorkspaceError
from omnimodel.reporting.index import index_html
from omnimodel.reporting.parameters import check_parameters, notebook_parameters
from omnimodel.reporting.suite import ReportRun, ReportSuite

VERSIONED_PACKAGES = (
    "omnimodel",
    "pandas",
    "numpy",
    "duckdb",
    "ibis-framework",
    "pymc",
    "pytensor",
    "arviz",
    "statsmodels",
    "papermill",
    "nbconvert",
    "ipywidgets",
    "matplotlib",
)
HEARTBEAT_S = 30.0
#: the forecast ledger's file in the output folder (:mod:`omnimodel.funnel.ledger`)
LEDGER = "forecast-ledger.duckdb"


@dataclass
class RunResult:
    """A finished report run: its folder and manifest."""

    run_dir: Path
    status: str  # "OK" or "FAILED"
    manifest: dict

    @property
    def ok(self) -> bool:
        """True when every report of the run succeeded."""
        return self.status == "OK"

    @property
    def index(self) -> Path:
        """The run's ``index.html``."""
        return self.run_dir / "index.html"


def notebook_path(suite: ReportSuite, run: ReportRun) -> Path:
    """The notebook file of a run; a clear error when it is not there."""
    nb = suite.notebooks_dir / f"{run.notebook}.ipynb"
    if not nb.exists():
        raise ConfigError(
            f"notebook {nb} not found (listed in {suite.source})",
            fix=f"check the name; notebooks are in {suite.notebooks_dir}",
        )
    return nb


def plan_runs(
    suite: ReportSuite, only: list[str] | None, cli_params: dict[str, str], ledger: Path | None = None
) -> list[tuple]:
    """(run, notebook path, typed parameters) for every selected report; raises before anything runs. A
    notebook with a ``ledger`` parameter not set gets ``ledger`` (the forecast ledger beside the reports)."""
    runs = suite.select(only)
    planned, used = [], set()
    for run in runs:
        nb = notebook_path(suite, run)
        declared = notebook_parameters(nb)
        values: dict[str, Any] = {k: v for k, v in run.shared.items() if k in declared} | dict(run.parameters)
        if "workspace" in declared and "workspace" not in values:
            where = suite.workspace
            values["workspace"] = str(where) if isinstance(where, Path) else where
        if "ledger" in declared and "ledger" not in values and ledger is not None:
            values["ledger"] = str(ledger)
        for key, value in cli_params.items():
            if key in declared:
                values[key] = value
                used.add(key)
        planned.append((run, nb, check_parameters(nb, values)))
    unused = [k for k in cli_params if k not in used]
    if unused:
        names = ", ".join(r.notebook for r, _, _ in planned)
        raise ParameterError(
            f"--param {', '.join(unused)}: no selected notebook ({names}) has such a parameter",
            fix="check the spelling; `omnimodel report --list` shows each notebook's parameters",
        )
    return planned


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git_commit(root: Path) -> str | None:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return sha.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def ensure_workspace(suite: ReportSuite, echo: Callable[[str], Any] = print) -> Workspace:
    """Open the suite's workspace, building the demo company first when configured and missing (a file)."""
    where = suite.workspace
    if isinstance(where, Path) and not where.exists():
        if suite.demo is None:
            raise WorkspaceError(
                f"no workspace at {where}",
                fix="build it with `omnimodel ingest` or `omnimodel demo`, or fix `workspace:` "
                f"in {suite.source}",
            )
        from omnimodel.data import demo

        echo(f"Building the demo workspace ({suite.demo['size']}, seed {suite.demo['seed']}) at {where}")
        demo.build(where, **suite.demo)
    return Workspace(suite.workspace)


def _claim_run_dir(output: Path) -> tuple[str, Path]:
    """A new run id and its temporary folder, claimed with one atomic mkdir: two runs starting in the same
    second get two folders. The folder holds the run's pid, so a later run can tell it was killed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    n = 1
    while True:
        run_id = stamp if n == 1 else f"{stamp}-{n}"
        tmp = output / f".{run_id}.partial"
        if not (output / run_id).exists():
            try:
                tmp.mkdir()
            except FileExistsError:
                pass
            else:
                (tmp / ".pid").write_text(str(os.getpid()))
                return run_id, tmp
        n += 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(output: Path) -> list[Path]:
    """Remove the temporary folders of runs that were killed (their process is gone); returns them."""
    removed = []
    for folder in output.glob(".*.partial"):
        pid_file = folder / ".pid"
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            pid = None
        if pid is None and time.time() - folder.stat().st_mtime < 6 * 3600:
            continue  # no pid yet: a run that is just starting
        if pid is None or not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _point_latest(output: Path, run_id: str) -> None:
    link = output / "latest"
    tmp = output / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_id, target_is_directory=True)
    os.replace(tmp, link)


def run_reports(
    suite: ReportSuite,
    only: list[str] | None = None,
    params: dict[str, str] | None = None,
    jobs: int = 1,
    out: Path | None = None,
    echo: Callable[[str], Any] = print,
) -> RunResult:
    """Run the selected reports of a suite; see the module docstring for the guarantees.

    Parameters
    ----------
    suite : ReportSuite
        From :func:`omnimodel.reporting.suite.load_report_suite`.
    only : list of str, optional
        Report or notebook names to run (default: all).
    params : dict, optional
        ``--param`` overrides as text; each must be declared by at least one selected notebook.
    jobs : int
        Notebooks run at the same time.
    out : Path, optional
        Output folder instead of the suite's ``output``.

    Examples
    --------
    >>> from omnimodel.reporting.suite import load_report_suite
    >>> result = run_reports(load_report_suite("reports.yaml"), only=["03_pipeline_forecast"])  # doctest: +SKIP
    >>> result.index  # doctest: +SKIP
    PosixPath('.../reports/20261128T101500Z/index.html')
    """
    output = (out or suite.output).resolve()
    planned = plan_runs(suite, only, params or {}, output / LEDGER)
    with ensure_workspace(suite, echo) as ws:
        workspace_info = {
            "path": ws.name,
            "fingerprint": ws.fingerprint(),
            **{k: v for k, v in ws.meta().items() if k in ("source", "adapter", "size", "seed")},
        }
    output.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_partials(output):
        echo(f"Removed {stale.name}, left by a run that was killed")
    run_id, tmp = _claim_run_dir(output)
    root = suite.source.parent if suite.source else project_root()
    env = pytensor_environment(root)
    env["OMNIMODEL_KERNEL"] = project_kernel()  # the project's own kernel, registered here if missing
    manifest: dict[str, Any] = {
        "run_id": run_id,
        "status": "RUNNING",
        "started_at": _now(),
        "finished_at": None,
        "config": str(suite.source),
        "workspace": workspace_info,
        "versions": _versions(),
        "git_commit": _git_commit(root),
        "reports": [],
    }
    procs: dict[str, subprocess.Popen] = {}
    with sigterm_exits():  # SIGTERM cleans up like Ctrl-C: workers stopped, temporary folder removed
        try:
            results = _execute(planned, tmp, env, max(1, jobs), procs, echo)
            forecasts = [f for r in results.values() for f in r.pop("ledger", None) or []]
            manifest["reports"] = [
                {"name": run.name, "notebook": run.notebook, "parameters": values, **results[run.name]}
                for run, _, values in planned
            ]
            failed = [r for r in manifest["reports"] if r["status"] != "OK"]
            manifest["status"] = "FAILED" if failed else "OK"
            manifest["finished_at"] = _now()
            manifest.update(_deck(manifest, tmp))
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            (tmp / "index.html").write_text(index_html(manifest, _last_good(output)), encoding="utf-8")
            (tmp / ".pid").unlink(missing_ok=True)  # a finished run is no longer anyone's to clean up
            final = output / run_id
            os.replace(tmp, final)
        except BaseException:
            for proc in procs.values():
                _stop(proc)
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    if not failed:
        _point_latest(output, run_id)
        if forecasts:
            _record(output / LEDGER, forecasts, run_id, echo)
    return RunResult(final, manifest["status"], manifest)


def _record(path: Path, forecasts: list[dict], run_id: str, echo) -> None:
    """Add a good run's forecasts to the ledger; a ledger that cannot be written is said, the reports stand."""
    from omnimodel.exceptions import explain
    from omnimodel.funnel import ledger

    try:
        ledger.record(path, [ledger.Entry.from_dict(f) for f in forecasts], run_id)
    except Exception as exc:
        echo(f"The forecasts were not recorded in {path}: {explain(exc)[0]}")


def _deck(manifest: dict, run_dir: Path) -> dict[str, Any]:
    """The run's slide deck; a deck that cannot be written is said in the manifest, never fails the run."""
    from omnimodel.exceptions import explain
    from omnimodel.reporting.deck import write_deck

    try:
        return {"deck": write_deck(manifest, run_dir, run_dir / "deck.pptx").name}
    except Exception as exc:  # a deck is a copy of the reports: the reports stand without it
        return {"deck": None, "deck_note": f"no slide deck: {explain(exc)[0]}"}


def _last_good(output: Path) -> dict | None:
    """The manifest of the last good run (``latest``), to say what changed; None when there is none."""
    try:
        return json.loads((output / "latest" / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            proc.kill()


def _execute(planned, tmp: Path, env: dict, jobs: int, procs: dict, echo) -> dict[str, dict]:
    """Run workers, at most ``jobs`` at a time, printing a line as each starts, finishes or runs long."""
    pending = list(planned)
    total = len(planned)
    results: dict[str, dict] = {}
    started: dict[str, float] = {}
    beat = time.time()
    number = {run.name: i for i, (run, _, _) in enumerate(planned, 1)}
    while pending or procs:
        while pending and len(procs) < jobs:
            run, nb, values = pending.pop(0)
            job = tmp / f".{run.name}.job.json"
            job.write_text(
                json.dumps(
                    {
                        "notebook": str(nb),
                        "out_dir": str(tmp),
                        "name": run.name,
                        "parameters": values,
                        "cwd": str(nb.parent),
                    }
                )
            )
            # The worker's result line goes to a file, not a pipe: a pipe holds 64 KB, and a worker whose result
            # (a forecast with its deals for the ledger) is longer would block writing it while we wait for it.
            with (
                open(tmp / f"{run.name}.log", "w") as log,  # the worker keeps its own handles
                open(tmp / f".{run.name}.result", "w") as result_file,
            ):
                procs[run.name] = subprocess.Popen(
                    [sys.executable, "-m", "omnimodel.reporting.execute", str(job)],
                    stdout=result_file,
                    stderr=log,
                    text=True,
                    env=env,
                    start_new_session=True,
                )
            started[run.name] = time.time()
            echo(f"[{number[run.name]}/{total}] {run.name}: running")
        time.sleep(0.2)
        for name, proc in list(procs.items()):
            if proc.poll() is None:
                continue
            result_path = tmp / f".{name}.result"
            out = result_path.read_text() if result_path.exists() else ""
            del procs[name]
            (tmp / f".{name}.job.json").unlink(missing_ok=True)
            result_path.unlink(missing_ok=True)
            try:
                result = json.loads(out.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                result = {
                    "name": name,
                    "status": "FAILED",
                    "ipynb": None,
                    "html": None,
                    "error": f"worker exited with code {proc.returncode}; see {name}.log",
                    "duration_s": round(time.time() - started[name], 2),
                }
            results[name] = result
            line = f"[{number[name]}/{total}] {name}: {result['status']} ({result['duration_s']:.1f} s)"
            echo(line + (f" - {result['error']}" if result.get("error") else ""))
        if procs and time.time() - beat > HEARTBEAT_S:
            beat = time.time()
            echo("  still running: " + ", ".join(f"{n} ({time.time() - started[n]:.0f} s)" for n in procs))
    return results
