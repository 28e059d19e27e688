"""Benchmark: loading canonical CSV exports in memory (pandas) against through the engine (DuckDB reads,
checks and writes them), on the demo at a given size: wall seconds, CPU seconds and peak memory of the process.

The demo is built as a DuckDB file, its tables exported to canonical CSV files once (benchmarks/.data/, git-
ignored), then ``omnimodel ingest --in-memory`` and ``--in-engine`` each run in a fresh process, side by side
(their order alternates between repeats). Usage::

    .venv/bin/python benchmarks/ingest_scale.py [--size large] [--repeat 2]

Prints a Markdown section for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"


def exports(size: str) -> Path:
    """The demo of ``size`` as canonical CSV files (made once)."""
    import duckdb

    from omnimodel.data import demo

    folder = DATA / f"csv-{size}-42"
    if (folder / "orders.csv").exists():
        return folder
    ws = DATA / f"demo-{size}-42.duckdb"
    if not ws.exists():
        demo.build(ws, size=size, seed=42)
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ws), read_only=True)
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        if not name.startswith("_"):
            con.execute(f"COPY \"{name}\" TO '{folder / name}.csv' (HEADER, DELIMITER ',')")
    con.close()
    return folder


#: runs the CLI and reports its own peak memory (VmHWM); wait4's ru_maxrss would carry this process's peak
#: over the fork and exec. BENCH_DUCKDB_LIMIT caps DuckDB's memory (SET memory_limit) in that process.
_CHILD = (
    "import atexit, os, sys\n"
    "atexit.register(lambda: print('PEAK_KB', [l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM')][0], file=sys.stderr))\n"
    "limit = os.environ.get('BENCH_DUCKDB_LIMIT')\n"
    "if limit:\n"
    "    import ibis\n"
    "    connect = ibis.duckdb.connect\n"
    "    def capped(*a, **k):\n"
    "        con = connect(*a, **k)\n"
    "        con.raw_sql(f\"SET memory_limit = '{limit}'\")\n"
    "        return con\n"
    "    ibis.duckdb.connect = capped\n"
    "from omnimodel.cli import main\nsys.exit(main(sys.argv[1:]))\n"
)


def run(route: str, source: Path, out: Path, limit: str | None = None) -> tuple[float, float, float]:
    """One ingest in a fresh process: (wall s, CPU s, peak resident MB); ``limit`` caps DuckDB's memory."""
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-c", _CHILD, "ingest", str(source), "--adapter", "canonical",
           "--workspace", str(out), route]  # fmt: skip
    wall = time.perf_counter()
    env = {**os.environ, **({"BENCH_DUCKDB_LIMIT": limit} if limit else {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - wall
    err = proc.stderr.read().decode() if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"{route} failed: {err}")
    peak_kb = int(err.rsplit("PEAK_KB", 1)[1].split()[0])
    return wall, usage.ru_utime + usage.ru_stime, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=["small", "default", "large"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--capped", metavar="LIMIT", help="also run --in-engine with DuckDB's memory capped (e.g. 1GB)"
    )
    args = parser.parse_args()
    source = exports(args.size)
    megabytes = sum(p.stat().st_size for p in source.glob("*.csv")) / 2**20
    lines = sum(1 for _ in (source / "order_lines.csv").open()) - 1
    results: dict[str, list] = {"--in-memory": [], "--in-engine": []}
    for i in range(args.repeat):
        order = list(results) if i % 2 == 0 else list(reversed(results))
        for route in order:
            results[route].append(run(route, source, DATA / f"ingest{route.replace('--', '-')}.duckdb"))
        if args.capped:
            capped = results.setdefault(f"--in-engine (DuckDB capped at {args.capped})", [])
            capped.append(run("--in-engine", source, DATA / "ingest-capped.duckdb", args.capped))
    print(f"### Loading exports: in memory against through the engine ({args.size} demo)\n")
    print(f"{megabytes:,.0f} MB of CSV, {lines:,} order lines; `benchmarks/ingest_scale.py --size {args.size} "
          f"--repeat {args.repeat}`, each run a fresh process, best of the repeats.\n")  # fmt: skip
    print("| route | wall s | CPU s | peak memory MB |")
    print("|---|---:|---:|---:|")
    for route, runs in results.items():
        wall, cpu, peak = min(runs)
        flag, _, note = route.partition(" ")
        label = f"`ingest {flag}`" + (f" {note}" if note else "")
        print(f"| {label} | {wall:,.1f} | {cpu:,.1f} | {max(r[2] for r in runs):,.0f} |")


if __name__ == "__main__":
    main()
