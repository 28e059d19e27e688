"""The demo report suite, timed as a user waits for it, with a per-notebook breakdown (issue 17, goal 1).

Runs ``omnimodel report --jobs 2`` (the suite of ``reports.yaml``, as ``make report`` does) into a scratch
output folder, in one of three states:

- ``fresh-fits`` (default): the fit caches (``.cache/clv``, ``.cache/pipeline``, ``.cache/plans``) emptied
  first, the PyTensor compile cache kept: what a nightly run pays when the data changed;
- ``cached``: every cache kept, a second run on unchanged data;
- ``cold``: the compile cache emptied too (``.cache/pytensor``): the first run on a new machine after the
  install.

Printed: the suite's wall and CPU seconds (the command and every worker and kernel it waited for), and per
report its wall time split into kernel start (papermill's start to the first cell), imports and setup (the
first code cell after the parameters), fits (the cells that fit or load a model: ``shared_clv``,
``fitted_model``, ``shared_plan``, the backtests), the other cells, and the export (HTML, PDF: the rest of
the report's time).

Run: ``.venv/bin/python benchmarks/report_suite.py [--state fresh-fits|cached|cold]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIT_CALLS = ("shared_clv(", "fitted_model(", "shared_plan(", "bt.backtest(", "baseline.backtest(")


def _seconds(a: str, b: str) -> float:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds()


def breakdown(ipynb: Path, total: float) -> dict[str, float]:
    """Kernel start, imports, fits, other cells and export of one executed report."""
    nb = json.loads(ipynb.read_text())
    pm = nb["metadata"]["papermill"]
    cells = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and c["metadata"].get("papermill", {}).get("start_time")
    ]
    out = {"kernel start": _seconds(pm["start_time"], cells[0]["metadata"]["papermill"]["start_time"])}
    out |= {"imports and setup": 0.0, "fits": 0.0, "other cells": 0.0}
    injected = next(i for i, c in enumerate(cells) if "injected-parameters" in c["metadata"].get("tags", []))
    for i, cell in enumerate(cells):
        took = float(cell["metadata"]["papermill"]["duration"] or 0.0)
        source = "".join(cell["source"])
        if i == injected + 1:
            out["imports and setup"] += took
        elif any(call in source for call in FIT_CALLS):
            out["fits"] += took
        else:
            out["other cells"] += took
    out["export"] = max(0.0, total - _seconds(pm["start_time"], pm["end_time"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", choices=["fresh-fits", "cached", "cold"], default="fresh-fits")
    args = parser.parse_args()
    cache = ROOT / ".cache"
    emptied = {
        "fresh-fits": ["clv", "pipeline", "plans"],
        "cached": [],
        "cold": ["clv", "pipeline", "plans", "pytensor"],
    }
    for name in emptied[args.state]:
        shutil.rmtree(cache / name, ignore_errors=True)
    out = Path(tempfile.mkdtemp(prefix="suite-"))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.setdefault("PYTENSOR_FLAGS", f"base_compiledir={cache / 'pytensor'}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "omnimodel"), "report", "--jobs", "2", "--out", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run = next(p for p in out.iterdir() if p.is_dir() and p.name != "latest")
    manifest = json.loads((run / "manifest.json").read_text())
    print(f"Suite ({args.state}): {wall:.1f} s wall, {cpu:.1f} s CPU (2 jobs)\n")
    parts = ["kernel start", "imports and setup", "fits", "other cells", "export"]
    print("| report | wall s | " + " | ".join(parts) + " |")
    print("|---|---|" + "---|" * len(parts))
    for report in manifest["reports"]:
        total = float(report["duration_s"])
        split = breakdown(run / report["ipynb"], total)
        print(f"| {report['name']} | {total:.1f} | " + " | ".join(f"{split[p]:.1f}" for p in parts) + " |")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
