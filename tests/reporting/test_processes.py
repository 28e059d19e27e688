"""A report run never leaves processes or half-written folders behind: SIGTERM stops its workers and kernels
and removes its temporary folder; after SIGKILL the workers and kernels still go, and the next run removes the
folder. Two runs starting in the same second get two folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml
from nbformat.v4 import new_code_cell, new_notebook

from omnimodel.reporting.runner import _claim_run_dir, remove_stale_partials

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="reads /proc to find the run's processes"
    ),
]


def _marked(mark: str) -> list[int]:
    """Pids of processes whose environment holds ``mark`` (the run, its workers and their kernels)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def _kernels(mark: str) -> list[int]:
    out = []
    for pid in _marked(mark):
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
        except OSError:
            continue
    return out


def _project(tmp: Path) -> Path:
    notebooks = tmp / "notebooks"
    notebooks.mkdir(parents=True)
    nb = new_notebook(cells=[new_code_cell("seconds: int = 120  # how long it runs", metadata={"tags": ["parameters"]}),
                             new_code_cell("import time\ntime.sleep(seconds)")])  # fmt: skip
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nbformat.write(nb, notebooks / "slow.ipynb")
    (tmp / "ws.duckdb").write_bytes(b"")  # replaced below by a real (empty) workspace
    from omnimodel.data.workspace import write_workspace

    (tmp / "ws.duckdb").unlink()
    import pandas as pd

    write_workspace(
        tmp / "ws.duckdb", {"products": pd.DataFrame({"product_id": ["P1"], "category": ["x"]})}, {}
    )
    config = {"workspace": "ws.duckdb", "output": "reports", "notebooks": ["slow"]}
    (tmp / "reports.yaml").write_text(yaml.safe_dump(config))
    return tmp / "reports.yaml"


def _start(config: Path, mark: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMNIMODEL_TEST_MARK": mark}
    return subprocess.Popen(
        [sys.executable, "-m", "omnimodel.cli", "report", "--config", str(config), *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait(condition, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.mark.parametrize(
    "how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_a_killed_run_leaves_no_process_and_no_partial_folder(tmp_path, how):
    config = _project(tmp_path)
    mark = f"omnimodel-test-{uuid.uuid4()}"
    first = _start(config, mark, "--param", "seconds=0")  # an earlier good run: `latest` points at it
    assert first.wait(timeout=240) == 0
    output = tmp_path / "reports"
    previous = (output / "latest").resolve()
    run = _start(config, mark)
    try:
        assert _wait(lambda: _kernels(mark), 120), "the notebook's kernel never started"
        os.kill(run.pid, how)
        run.wait(timeout=60)
        assert _wait(lambda: not _marked(mark), 60), f"left running: {_marked(mark)}"
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
    partials = list(output.glob(".*.partial"))
    if how != signal.SIGKILL:
        assert run.returncode == 128 + how and not partials
    else:
        assert len(partials) == 1  # nothing could clean up after SIGKILL: the next run does
        assert remove_stale_partials(output) == partials and not list(output.glob(".*.partial"))
    assert (output / "latest").resolve() == previous and (previous / "index.html").exists()


def test_runs_starting_in_the_same_second_get_their_own_folders(tmp_path):
    first, first_dir = _claim_run_dir(tmp_path)
    second, second_dir = _claim_run_dir(tmp_path)
    assert first != second and first_dir.is_dir() and second_dir.is_dir()
    # A live run's folder is kept; a dead one's goes.
    assert remove_stale_partials(tmp_path) == []
    (first_dir / ".pid").write_text("999999999")
    assert remove_stale_partials(tmp_path) == [first_dir]


def test_two_runs_started_together_into_one_folder_both_complete(tmp_path):
    config = _project(tmp_path)
    mark = f"omnimodel-test-{uuid.uuid4()}"
    runs = [_start(config, mark, "--param", "seconds=0") for _ in range(2)]
    try:
        assert [r.wait(timeout=300) for r in runs] == [0, 0]
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)
    output = tmp_path / "reports"
    folders = sorted(p for p in output.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(folders) == 2 and all((f / "index.html").exists() for f in folders)
    assert not list(output.glob(".*.partial"))
    assert (output / "latest").resolve() in folders
