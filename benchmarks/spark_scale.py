"""Benchmark: the customer profile and the pipeline snapshot on Spark (a standalone cluster of two local workers
behind a Spark Connect server, all on 127.0.0.1) against DuckDB, on the demo at two sizes.

For each size the demo is built as a DuckDB file, exported to Parquet and loaded into Spark as tables (the load
is timed, not compared). Each step then runs on DuckDB and on Spark with ``spark.sql.shuffle.partitions`` at 4
and 16: wall seconds, the client's CPU seconds and, for Spark, the CPU seconds of the cluster's processes
(master, workers, the Connect server's driver). Usage::

    .venv/bin/python benchmarks/spark_scale.py [--sizes default large] [--repeat 2]

Prints a Markdown section for benchmarks/RESULTS.md; data go to benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from tests.spark_cluster import (  # noqa: E402
    process_tree_cpu,
    spark_connect_server,
    standalone_cluster,
)


def _steps():
    from omnimodel.funnel.definition import load_funnel
    from omnimodel.funnel.snapshot import pipeline_snapshot
    from omnimodel.profile.features import customer_profile

    return {
        "customer profile": lambda ws: len(customer_profile(ws).frame),
        "pipeline snapshot": lambda ws: len(pipeline_snapshot(ws, load_funnel("demo")).deals),
    }


def _timed(fn, ws, cluster_pids):
    cpu_cluster = sum(process_tree_cpu(p) for p in cluster_pids)
    wall, cpu = time.perf_counter(), time.process_time()
    rows = fn(ws)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return rows, wall, cpu, sum(process_tree_cpu(p) for p in cluster_pids) - cpu_cluster


def _load_into_spark(duck_path: Path, url: str, folder: Path) -> float:
    """Export every table to Parquet and have Spark read it into its own tables; returns wall seconds."""
    import duckdb

    from omnimodel.data.engines import spark_session

    start = time.perf_counter()
    parquet = folder / "parquet"
    parquet.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(duck_path), read_only=True)
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    for name in names:
        con.execute(f"COPY \"{name}\" TO '{parquet / ('t' + name)}.parquet' (FORMAT parquet)")
    con.close()
    spark = spark_session(url)
    spark.sql("CREATE DATABASE IF NOT EXISTS omnimodel")
    for name in names:  # "t" first: Spark skips files whose names start with "_" (the meta table's)
        frame = spark.read.parquet(str(parquet / f"t{name}.parquet"))
        frame.write.saveAsTable(f"omnimodel.{name}", mode="overwrite")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["default", "large"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from omnimodel import Workspace
    from omnimodel.data import demo

    data = HERE / ".data"
    rows_out = []
    for size in args.sizes:
        duck_path = data / f"demo-{size}-42.duckdb"  # the one the other benchmarks build, when there
        if not duck_path.exists():
            demo.build(duck_path, size=size, seed=42)
        with Workspace(duck_path) as ws:
            lines = int(ws.table("order_lines").count().execute())
            deals = int(ws.table("opportunities").count().execute())
        folder = data / f"spark-{size}-{os.getpid()}"
        with standalone_cluster(folder / "cluster", workers=2) as master:
            with spark_connect_server(folder / "connect", master=master) as url:
                pids = [spark_connect_server.pid, *standalone_cluster.pids]  # type: ignore[attr-defined]
                load = _load_into_spark(duck_path, url, folder)
                print(
                    f"{size}: {lines:,} order lines, {deals:,} deals; loaded into Spark in {load:.0f} s",
                    flush=True,
                )
                for name, fn in _steps().items():
                    for engine in ("DuckDB", "Spark, 4 partitions", "Spark, 16 partitions"):
                        best = None
                        for _ in range(args.repeat):
                            if engine == "DuckDB":
                                with Workspace(duck_path) as ws:
                                    result = _timed(fn, ws, [])
                            else:
                                from omnimodel.data.engines import spark_session

                                parts = engine.split(", ")[1].split()[0]
                                spark_session(url).conf.set("spark.sql.shuffle.partitions", parts)
                                with Workspace(url) as ws:
                                    result = _timed(fn, ws, pids)
                            if best is None or result[1] < best[1]:
                                best = result
                        rows_out.append((size, lines, name, engine, *best))
                        print(rows_out[-1], flush=True)
    print("\n| size | order lines | step | engine | rows out | wall s | client CPU s | cluster CPU s |")
    print("|---|---|---|---|---|---|---|---|")
    for size, lines, name, engine, rows, wall, cpu, cluster in rows_out:
        print(
            f"| {size} | {lines:,} | {name} | {engine} | {rows:,} | {wall:.1f} | {cpu:.1f} | {cluster:.1f} |"
        )


if __name__ == "__main__":
    main()
