"""Benchmark: ingest the large demo, then profile-style group-bys over its 10M order lines, three ways.

1. omnimodel's engine layer: the Ibis queries of ``omnimodel.data.queries`` executed on the DuckDB workspace;
2. the same results with hand-written DuckDB SQL on the same file;
3. the same results with pandas, from the same tables loaded into memory (load time counted separately).

Each way runs in its own fresh process so peak memory (max RSS) is its own; the three run one after another in
one invocation, and the script checks that all three give the same totals. Usage::

    .venv/bin/python benchmarks/engine_groupby.py [--size large] [--seed 42] [--keep]

Prints a Markdown table for benchmarks/RESULTS.md. The workspace is built in benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPEATS = 3  # each query runs this often in its process; the best time counts (the first pays for warm-up)
QUERIES = [
    "customer_orders",
    "revenue_by_channel_country_month",
    "channel_mix",
    "returns_by_category_channel",
]

SQL = {
    "customer_orders": """
        SELECT o.customer_id, count(DISTINCT o.order_id) AS orders, sum(l.quantity) AS units,
               sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0))) AS revenue,
               sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0)) - l.quantity * coalesce(l.unit_cost, 0))
                   AS margin,
               min(o.order_date) AS first_order, max(o.order_date) AS last_order,
               count(DISTINCT o.channel) AS channels
        FROM order_lines l JOIN orders o USING (order_id)
        WHERE o.customer_id IS NOT NULL GROUP BY o.customer_id""",
    "revenue_by_channel_country_month": """
        SELECT o.channel, o.country, CAST(date_trunc('month', o.order_date) AS DATE) AS month,
               sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0))) AS revenue,
               sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0)) - l.quantity * coalesce(l.unit_cost, 0))
                   AS margin,
               count(DISTINCT o.order_id) AS orders, count(DISTINCT o.customer_id) AS customers
        FROM order_lines l JOIN orders o USING (order_id) GROUP BY ALL""",
    "channel_mix": """
        SELECT customer_id, channel, count(*) AS orders FROM orders
        WHERE customer_id IS NOT NULL GROUP BY ALL""",
    "returns_by_category_channel": """
        WITH sold AS (
            SELECT p.category, o.channel, sum(l.quantity) AS units
            FROM order_lines l JOIN orders o USING (order_id) JOIN products p USING (product_id) GROUP BY ALL),
        ret AS (
            SELECT p.category, o.channel, sum(r.quantity) AS returned
            FROM returns r JOIN order_lines l ON r.order_id = l.order_id AND r.line_no = l.line_no
            JOIN orders o ON r.order_id = o.order_id JOIN products p ON l.product_id = p.product_id GROUP BY ALL)
        SELECT sold.category, sold.channel, sold.units, coalesce(ret.returned, 0) AS returned
        FROM sold LEFT JOIN ret USING (category, channel)""",
}


def run_engine(path: str) -> dict:
    from omnimodel import Workspace
    from omnimodel.data.queries import QUERY_SET

    out = {}
    with Workspace(path) as ws:
        for name in QUERIES:
            out[name] = _best(lambda name=name: QUERY_SET[name](ws).execute())
    return out


def _best(fn) -> dict:
    """The fastest of REPEATS runs by wall time, with that run's CPU seconds (all threads of the process)."""
    times = []
    for _ in range(REPEATS):
        t, c = time.perf_counter(), time.process_time()
        frame = fn()
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    return {"seconds": wall, "cpu": cpu, "first": times[0][0], "rows": len(frame), "check": _check(frame)}


def run_sql(path: str) -> dict:
    import duckdb

    out = {}
    con = duckdb.connect(path, read_only=True)
    for name in QUERIES:
        out[name] = _best(lambda name=name: con.sql(SQL[name]).df())
    return out


def run_pandas(path: str) -> dict:
    import duckdb

    t = time.perf_counter()
    con = duckdb.connect(path, read_only=True)
    tables = {n: con.table(n).df() for n in ("order_lines", "orders", "products", "returns")}
    load = time.perf_counter() - t
    lines, orders, products, returns = (tables[n] for n in ("order_lines", "orders", "products", "returns"))
    out = {"_load": {"seconds": load}}

    def timed(name, fn):
        out[name] = _best(fn)

    def sales():
        s = lines.merge(orders, on="order_id")
        s["revenue"] = s["quantity"] * s["unit_price"] * (1 - s["discount"].fillna(0))
        s["margin"] = s["revenue"] - s["quantity"] * s["unit_cost"].fillna(0)
        return s

    def customer_orders():
        s = sales()
        s = s[s["customer_id"].notna()]
        return (
            s.groupby("customer_id")
            .agg(
                orders=("order_id", "nunique"),
                units=("quantity", "sum"),
                revenue=("revenue", "sum"),
                margin=("margin", "sum"),
                first_order=("order_date", "min"),
                last_order=("order_date", "max"),
                channels=("channel", "nunique"),
            )
            .reset_index()
        )

    def revenue_by_month():
        s = sales()
        s["month"] = s["order_date"].dt.to_period("M").dt.start_time
        return (
            s.groupby(["channel", "country", "month"])
            .agg(
                revenue=("revenue", "sum"),
                margin=("margin", "sum"),
                orders=("order_id", "nunique"),
                customers=("customer_id", "nunique"),
            )
            .reset_index()
        )

    def channel_mix():
        o = orders[orders["customer_id"].notna()]
        return o.groupby(["customer_id", "channel"]).size().rename("orders").reset_index()

    def returns_by_category():
        s = lines.merge(orders[["order_id", "channel"]], on="order_id").merge(
            products[["product_id", "category"]]
        )
        sold = s.groupby(["category", "channel"])["quantity"].sum().rename("units")
        r = returns.merge(s[["order_id", "line_no", "category", "channel"]], on=["order_id", "line_no"])
        ret = r.groupby(["category", "channel"])["quantity"].sum().rename("returned")
        return pd.concat([sold, ret], axis=1).fillna({"returned": 0}).reset_index()

    import pandas as pd

    timed("customer_orders", customer_orders)
    timed("revenue_by_channel_country_month", revenue_by_month)
    timed("channel_mix", channel_mix)
    timed("returns_by_category_channel", returns_by_category)
    return out


def _check(frame) -> float:
    """A total that all three ways must agree on."""
    for col in ("revenue", "orders", "units"):
        if col in frame.columns:
            return float(frame[col].sum())
    raise ValueError("no column to check")


def _peak_memory_mb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss would include the parent's across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def benchmark_args(doc: str):
    """The command line every benchmark here shares: --size, --seed, --keep and the hidden --child."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=["small", "default", "large"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="reuse an existing benchmark workspace")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def run_children(script: str, ways, path: Path) -> dict:
    """Run each way in a fresh process of ``script`` (so peak memory is its own); their JSON results."""
    results = {}
    for way in ways:
        proc = subprocess.run(
            [sys.executable, script, "--child", way, str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        if proc.returncode:
            sys.exit(proc.stderr)
        results[way] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def _child(way: str, path: str) -> None:
    result = {"run_engine": run_engine, "run_sql": run_sql, "run_pandas": run_pandas}[way](path)
    result["_peak_rss_mb"] = _peak_memory_mb()
    print(json.dumps(result))


def main() -> None:
    args = benchmark_args(__doc__)
    if args.child:
        _child(*args.child)
        return
    from omnimodel.data import demo

    path = HERE / ".data" / f"demo-{args.size}-{args.seed}.duckdb"
    timings = {}
    if not (args.keep and path.exists()):
        t = time.perf_counter()
        tables, _ = demo.generate(args.size, args.seed)
        timings["generate"] = time.perf_counter() - t
        from omnimodel.data.workspace import write_workspace

        t = time.perf_counter()
        write_workspace(path, tables, {"source": "benchmark"})
        timings["ingest"] = time.perf_counter() - t
        n_lines = len(tables["order_lines"])
        del tables
    else:
        import duckdb

        n_lines = (
            duckdb.connect(str(path), read_only=True).sql("SELECT count(*) FROM order_lines").fetchone()[0]
        )
    results = run_children(__file__, ("run_engine", "run_sql", "run_pandas"), path)
    for name in QUERIES:
        checks = {w: results[w][name]["check"] for w in results}
        base = checks["run_sql"]
        assert all(abs(c - base) <= 1e-6 * max(1.0, abs(base)) for c in checks.values()), (name, checks)
    print(
        f"\n## Engine group-bys: {args.size} demo ({n_lines:,} order lines), "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores\n"
    )
    if timings:
        print(
            f"Generate {timings['generate']:.1f} s; ingest into DuckDB workspace {timings['ingest']:.1f} s.\n"
        )
    print(
        "| query | engine (Ibis on DuckDB) s wall / CPU | hand-written DuckDB SQL s wall / CPU | "
        "pandas s wall / CPU | engine / SQL (CPU) | pandas / engine (CPU) |"
    )
    print("|---|---|---|---|---|---|")
    ways = ("run_engine", "run_sql", "run_pandas")
    tot = {w: [0.0, 0.0] for w in ways}
    for name in QUERIES:
        for w in ways:
            tot[w][0] += results[w][name]["seconds"]
            tot[w][1] += results[w][name]["cpu"]
        e, s, p = (results[w][name] for w in ways)
        print(
            f"| {name} | {e['seconds']:.2f} / {e['cpu']:.2f} | {s['seconds']:.2f} / {s['cpu']:.2f} | "
            f"{p['seconds']:.2f} / {p['cpu']:.2f} | {e['cpu'] / s['cpu']:.2f} | {p['cpu'] / e['cpu']:.1f} |"
        )
    e, s, p = (tot[w] for w in ways)
    print(
        f"| **all four** | {e[0]:.2f} / {e[1]:.2f} | {s[0]:.2f} / {s[1]:.2f} | {p[0]:.2f} / {p[1]:.2f} | "
        f"{e[1] / s[1]:.2f} | {p[1] / e[1]:.1f} |"
    )
    load = results["run_pandas"]["_load"]["seconds"]
    print(f"\nBest of {REPEATS} runs per query, each way in its own process, one after another.")
    print(f"pandas also spent {load:.1f} s loading the four tables into memory (not in the figures above).")
    print(
        "Peak memory (max RSS of each process): "
        + ", ".join(f"{w.removeprefix('run_')} {results[w]['_peak_rss_mb']:,.0f} MB" for w in results)
    )


if __name__ == "__main__":
    main()
