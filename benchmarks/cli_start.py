"""How long the `omnimodel` command takes to start, against `import pandas` in a fresh process, side by side.

Each command runs ``--repeat`` times, interleaved (so a busy moment of a shared machine hits both), and the
figures are medians of wall seconds and of CPU seconds (user + system of the child process). The ratio to the
pandas import is what issue 17 asks of: ``omnimodel --help`` at most 0.5x; a subcommand's ``--help`` imports
only what the subcommand needs.

    .venv/bin/python benchmarks/cli_start.py --repeat 7
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _run(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    commands = {
        "python -c 'import pandas' (the yardstick)": [sys.executable, "-c", "import pandas"],
        "omnimodel --help": [str(BIN / "omnimodel"), "--help"],
        "omnimodel pipeline forecast --help": [str(BIN / "omnimodel"), "pipeline", "forecast", "--help"],
        "omnimodel report --help": [str(BIN / "omnimodel"), "report", "--help"],
        "omnimodel validate --help": [str(BIN / "omnimodel"), "validate", "--help"],
    }
    for argv in commands.values():  # warm the file cache once
        _run(argv)
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for _ in range(args.repeat):
        for name, argv in commands.items():
            times[name].append(_run(argv))
    base_wall = statistics.median(w for w, _ in times[next(iter(commands))])
    base_cpu = statistics.median(c for _, c in times[next(iter(commands))])
    print(f"\n## Command start ({args.repeat} interleaved runs, medians)\n")
    print("| command | wall s | CPU s | x import pandas (wall) | x import pandas (CPU) |")
    print("|---|---|---|---|---|")
    for name, runs in times.items():
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        print(f"| {name} | {wall:.3f} | {cpu:.3f} | {wall / base_wall:.2f} | {cpu / base_cpu:.2f} |")


if __name__ == "__main__":
    main()
