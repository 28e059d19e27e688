"""An ingest stopped while it writes (Ctrl-C, SIGTERM, SIGKILL) changes nothing: the previous workspace is
intact, no process is left, and no temporary file outlives the next write."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_source(tmp_path_factory) -> Path:
    """The default-size demo (about 700,000 rows): its write takes long enough to be interrupted in."""
    from omnimodel.data import demo

    return demo.build(tmp_path_factory.mktemp("src") / "source.duckdb", size="default", seed=1)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_an_ingest_killed_while_it_writes_leaves_the_previous_workspace(
    tmp_path, big_source, demo_workspace, how
):
    out = tmp_path / "w.duckdb"
    out.write_bytes(demo_workspace.read_bytes())  # the previous workspace
    before = _digest(out)
    run = subprocess.Popen(
        [sys.executable, "-m", "omnimodel.cli", "ingest", str(big_source), "--adapter", "workspace",
         "--workspace", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    temporary = tmp_path / f".w.duckdb.tmp-{run.pid}"
    deadline = time.time() + 240
    while not temporary.exists() and run.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert temporary.exists(), "the write never started"
    os.kill(run.pid, how)
    err = run.communicate(timeout=60)[1]
    assert run.returncode == {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -9}[how], err
    assert "Traceback" not in err
    assert _digest(out) == before, "the previous workspace must be intact"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".w.duckdb.tmp-"))
    if how != signal.SIGKILL:
        assert left == [], "its own clean-up removes the temporary files"
    # The next write (of anything) removes what a killed one left, and nothing else runs on.
    import pandas as pd

    from omnimodel.data.workspace import write_workspace

    write_workspace(
        tmp_path / "w.duckdb", {"products": pd.DataFrame({"product_id": ["P1"], "category": ["x"]})}, {}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]
