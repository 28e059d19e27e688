"""A fresh process to a pipeline forecast, against ``import pymc`` in a fresh process (issue 17, goal 3).

``omnimodel pipeline forecast --workspace W`` runs in a new process, as a new kernel or a scheduled run pays it,
in three states of the caches:

- ``cold``: an empty PyTensor compile cache and no cached fit (a new machine, new data);
- ``warm``: a warm compile cache, no cached fit (new data on a machine that has fitted before);
- ``cached``: the same snapshot fitted before (``.cache/pipeline``): the fit is loaded, not repeated.

Each state runs ``--repeat`` times, interleaved with the yardstick; medians of wall and CPU seconds (user +
system of the child). Workspaces: the default demo (its fit is the Laplace fit) and, where it has been
ingested, Maven's CRM export (``data/maven.duckdb``: its weak effects fail the Laplace check and it is sampled
with NUTS).

Run: ``.venv/bin/python benchmarks/forecast_start.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(argv: list[str], env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workspaces = [ROOT / "data" / "demo.duckdb", ROOT / "data" / "maven.duckdb"]
    workspaces = [w for w in workspaces if w.exists()]
    scratch = Path(tempfile.mkdtemp(prefix="forecast-start-"))
    warm_compile = scratch / "pytensor-warm"
    base = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMNIMODEL_PROJECT": str(scratch)}
    yardstick = [sys.executable, "-c", "import pymc"]
    times: dict[str, list[tuple[float, float]]] = {"python -c 'import pymc' (the yardstick)": []}
    for ws in workspaces:
        forecast = [str(BIN / "omnimodel"), "pipeline", "forecast", "--workspace", str(ws)]
        # the warm compile cache and the cached fit: made once before the clock
        run(forecast, {**base, "PYTENSOR_FLAGS": f"base_compiledir={warm_compile}"})
        for _ in range(args.repeat):
            times["python -c 'import pymc' (the yardstick)"].append(run(yardstick, base))
            for state in ("cold", "warm", "cached"):
                env = dict(base)
                if state == "cold":
                    env["PYTENSOR_FLAGS"] = f"base_compiledir={scratch / 'pytensor-cold'}"
                    shutil.rmtree(scratch / "pytensor-cold", ignore_errors=True)
                else:
                    env["PYTENSOR_FLAGS"] = f"base_compiledir={warm_compile}"
                if state != "cached":
                    shutil.rmtree(scratch / ".cache" / "pipeline", ignore_errors=True)
                times.setdefault(f"{ws.stem}: {state}", []).append(run(forecast, env))
    pymc_wall = statistics.median(w for w, _ in times["python -c 'import pymc' (the yardstick)"])
    pymc_cpu = statistics.median(c for _, c in times["python -c 'import pymc' (the yardstick)"])
    print("| forecast in a fresh process | wall s | CPU s | x import pymc (wall) | x import pymc (CPU) |")
    print("|---|---|---|---|---|")
    for label, got in times.items():
        if not got:
            continue
        wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
        print(f"| {label} | {wall:.2f} | {cpu:.2f} | {wall / pymc_wall:.2f} | {cpu / pymc_cpu:.2f} |")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
