"""`omnimodel demo|validate|ingest|map`: the data commands (the demo company, a client's exports into a workspace)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from omnimodel.exceptions import OmnimodelError


def _cmd_demo(args: argparse.Namespace) -> int:
    from omnimodel.data import demo

    path = demo.build(args.workspace, size=args.size, seed=args.seed)
    print(f"Demo workspace ({args.size}, seed {args.seed}) written to {path}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from omnimodel.ingest.load import validate_source

    report = validate_source(
        args.path, args.adapter, encoding=args.encoding, mapping=args.mapping, in_engine=bool(args.in_engine)
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def _cmd_ingest(args: argparse.Namespace) -> int:
    from omnimodel.ingest.load import ingest

    report = ingest(
        args.source,
        args.adapter,
        args.workspace,
        quarantine=args.quarantine,
        data_through=args.data_through,
        encoding=args.encoding,
        mapping=args.mapping,
        currency=args.currency,
        in_engine=args.in_engine,
    )
    print(report.text())
    return 0


def _source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--encoding",
        help="text encoding of the CSV files, e.g. cp1252 or latin-1 (default utf-8; canonical adapter)",
    )
    p.add_argument(
        "--mapping",
        metavar="FILE",
        help="mapping file for the canonical adapter (default: mapping.yaml in the folder, if any); "
        "`omnimodel map --suggest FOLDER` writes a first version",
    )


def _cmd_map(args: argparse.Namespace) -> int:
    from omnimodel.ingest.suggest import suggest_mapping

    text = suggest_mapping(Path(args.suggest), encoding=args.encoding)
    if not args.out:
        print(text, end="")
        return 0
    out = Path(args.out)
    if out.exists():
        raise OmnimodelError(f"{out} exists", fix="remove it or write the proposal elsewhere with --out")
    out.write_text(text, encoding="utf-8")
    print(
        f"Proposed mapping written to {out}: check every line marked TODO, then `omnimodel validate`.",
        file=sys.stderr,
    )
    return 0


def add_demo(sub: Any) -> None:
    """Register ``omnimodel demo``."""
    p = sub.add_parser(
        "demo",
        help="build the demo company's workspace",
        description="Generate the seeded demo company (with its planted truth) as a workspace.",
        epilog="example: omnimodel demo --size large --workspace data/large.duckdb",
    )
    p.add_argument(
        "--size",
        choices=["small", "default", "large"],
        default="default",
        help="small: seconds, for tests; large: over 10 million order lines (default: default)",
    )
    p.add_argument("--seed", type=int, default=42, help="same seed, same data (default 42)")
    p.add_argument(
        "--workspace",
        default="data/demo.duckdb",
        help="where to write: a DuckDB file (default data/demo.duckdb) or an engine URL such as sc://host:15002",
    )
    p.set_defaults(func=_cmd_demo)


def add_validate(sub: Any) -> None:
    """Register ``omnimodel validate``."""
    p = sub.add_parser(
        "validate",
        help="check source data and list every problem; writes nothing",
        description="Load a source with an adapter and validate it against the canonical data "
        "model. Exit 0 when clean, 1 with the full problem list otherwise.",
        epilog="example: omnimodel validate exports/ --adapter canonical --json",
    )
    p.add_argument("path", help="source file or folder")
    p.add_argument("--adapter", required=True, help="how to read the source, e.g. canonical, workspace")
    _source_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--in-engine",
        action="store_true",
        help="DuckDB reads and checks the files as queries (CSV or Parquet larger than memory)",
    )
    p.set_defaults(func=_cmd_validate)


def add_ingest(sub: Any) -> None:
    """Register ``omnimodel ingest``."""
    p = sub.add_parser(
        "ingest",
        help="load source data into a workspace (all or nothing)",
        description="Load, validate and write a workspace. Problems stop the load and nothing "
        "is written; --quarantine instead sets rejected rows aside with their reason.",
        epilog="example: omnimodel ingest exports/ --adapter canonical --workspace data/shop.duckdb\n"
        "         omnimodel ingest exports/ --adapter canonical --workspace sc://spark-host:15002",
    )
    p.add_argument("source", help="source file or folder (never modified)")
    p.add_argument("--adapter", required=True, help="how to read the source, e.g. canonical")
    p.add_argument(
        "--workspace",
        required=True,
        help="where to write: a DuckDB file, or an engine URL (sc://host:15002 for Spark Connect, postgres://...)",
    )
    _source_options(p)
    p.add_argument(
        "--quarantine",
        action="store_true",
        help="write rejected rows to WORKSPACE.rejected.csv and load the rest",
    )
    p.add_argument(
        "--data-through",
        metavar="DATE",
        help="the day the exports are complete to (ISO date; default: the last order day seen); "
        "a year, quarter or month counts as complete when the data reaches its end",
    )
    p.add_argument(
        "--currency",
        metavar="CODE",
        help="currency of the amounts (EUR, USD, ...), shown beside money in the reports (default: the "
        "source's own where the adapter knows it)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--in-engine",
        dest="in_engine",
        action="store_const",
        const=True,
        help="the engine (DuckDB or Spark) reads, checks and writes the files itself: for exports larger than "
        "memory (default for canonical exports going to Spark, or to a DuckDB file when over 1 GiB)",
    )
    where.add_argument(
        "--in-memory",
        dest="in_engine",
        action="store_const",
        const=False,
        help="read and check the files in memory (pandas), then write them",
    )
    p.set_defaults(func=_cmd_ingest)


def add_map(sub: Any) -> None:
    """Register ``omnimodel map``."""
    p = sub.add_parser(
        "map",
        help="propose a mapping.yaml for an export folder (files, columns, date formats, values)",
        description="Read the export files' column names and values and propose which file feeds which "
        "canonical table, the column renames, date formats, country codes and channel kinds. Edit the "
        "proposal, then validate and ingest with it (a mapping.yaml in the export folder is used by itself).",
        epilog="example: omnimodel map --suggest exports/ > exports/mapping.yaml",
    )
    p.add_argument("--suggest", metavar="FOLDER", required=True, help="the export folder to read")
    p.add_argument("--out", metavar="FILE", help="write the proposal here (never over an existing file)")
    p.add_argument("--encoding", help="text encoding of the CSV files (default: detected per file)")
    p.set_defaults(func=_cmd_map)
