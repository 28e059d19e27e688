"""The ``omnimodel`` command. Run ``omnimodel --help`` or ``omnimodel COMMAND --help``."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

from omnimodel.cli.pipeline import add_pipeline_parser
from omnimodel.cli.targets import add_targets_parser
from omnimodel.environment import sigterm_exits
from omnimodel.exceptions import OmnimodelError, explain

EPILOG = """Add --debug to any command to see the traceback of an error.

examples:
  omnimodel report                                   run every report of reports.yaml on the demo data
  omnimodel report --only 03_pipeline_forecast --param period=2026Q1
  omnimodel demo --size small --seed 7               build data/demo.duckdb
  omnimodel validate exports/ --adapter canonical    check a folder of CSV files, change nothing
  omnimodel ingest exports/ --adapter canonical --workspace data/shop.duckdb
  omnimodel map --suggest exports/ --out exports/mapping.yaml   propose a mapping for other names
  omnimodel pipeline forecast --workspace data/demo.duckdb --period 2026Q1 --target 1500000
  omnimodel pipeline backtest --workspace data/maven.duckdb --freq M --snapshots 9
  omnimodel targets backtest --series au-visitor-nights --folder tourism/
  omnimodel lab                                      JupyterLab with the omnimodel kernel
"""


def _cmd_report(args) -> int:
    from omnimodel.config import load_report_suite
    from omnimodel.reporting.parameters import notebook_parameters, parse_assignments
    from omnimodel.reporting.runner import notebook_path, run_reports

    suite = load_report_suite(args.config)
    if args.list:
        for run in suite.select(args.only):
            params = notebook_parameters(notebook_path(suite, run))
            print(run.name)
            for p in params.values():
                print(f"    {p.name}: {p.type} = {p.default}    # {p.help}")
        return 0
    result = run_reports(
        suite,
        only=args.only,
        params=parse_assignments(args.param),
        jobs=args.jobs,
        out=Path(args.out) if args.out else None,
    )
    ok = sum(r["status"] == "OK" for r in result.manifest["reports"])
    total = len(result.manifest["reports"])
    if result.ok:
        latest = result.run_dir.parent / "latest" / "index.html"
        print(f"All {total} reports OK. Open {latest}")
        return 0
    print(
        f"{total - ok} of {total} reports FAILED; earlier reports and reports/latest are unchanged.\n"
        f"See {result.index}",
        file=sys.stderr,
    )
    return 1


def _cmd_demo(args) -> int:
    from omnimodel.data import demo

    path = demo.build(args.workspace, size=args.size, seed=args.seed)
    print(f"Demo workspace ({args.size}, seed {args.seed}) written to {path}")
    return 0


def _cmd_validate(args) -> int:
    from omnimodel.data.ingest import validate_source

    report = validate_source(
        args.path, args.adapter, encoding=args.encoding, mapping=args.mapping, in_engine=bool(args.in_engine)
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def _cmd_init(args) -> int:
    from omnimodel.reporting.project import init_project

    written = init_project(args.folder, args.workspace)
    print(f"Wrote {', '.join(p.name for p in written)} into {args.folder}.")
    print(
        "Next: edit goals.yaml (growth per region, cost to serve per channel) and funnel.yaml, "
        f"then run `omnimodel report` in {args.folder}."
    )
    return 0


def _cmd_ingest(args) -> int:
    from omnimodel.data.ingest import ingest

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


def _source_options(p) -> None:
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


def _cmd_map(args) -> int:
    from omnimodel.data.suggest import suggest_mapping

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


def _cmd_lab(args) -> int:
    from omnimodel.environment import project_kernel, project_root, pytensor_environment

    root = project_root()
    project_kernel()
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--notebook-dir={root}",
        f"--port={args.port}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if args.no_browser:
        cmd.append("--no-browser")
    cmd += [a for a in args.lab_args if a != "--"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    print("Starting JupyterLab with the kernel 'Python (omnimodel)'. Notebooks are in notebooks/.")
    return subprocess.call(cmd, env=pytensor_environment(root), cwd=root)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``omnimodel`` command, with help and examples."""
    parser = argparse.ArgumentParser(
        prog="omnimodel",
        description="Notebook-first workbench for omnichannel sales strategy and forecasting.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "report",
        help="run notebooks into HTML reports under reports/<timestamp>/",
        description="Run the report suite: each notebook is executed with its parameters and saved as a "
        "code-free HTML page, with index.html and manifest.json. reports/latest points at the "
        "newest run in which every report succeeded.",
        epilog="example: omnimodel report --only 03_pipeline_forecast --param period=2026Q1 --jobs 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", default="reports.yaml", help="report suite config (default: reports.yaml)")
    p.add_argument(
        "--only", action="append", metavar="NAME", help="run only this report or notebook (repeatable)"
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a notebook parameter (repeatable); checked against each notebook's types",
    )
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="notebooks to run in parallel (default 1)"
    )
    p.add_argument("--out", metavar="DIR", help="output folder instead of the config's `output`")
    p.add_argument("--list", action="store_true", help="list the reports and their parameters, run nothing")
    p.set_defaults(func=_cmd_report)

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

    p = sub.add_parser(
        "init",
        help="start a project for your data: reports.yaml, goals.yaml, funnel.yaml and the notebooks",
        description="Write a project folder filled from the workspace's own channels, regions, segments and "
        "stages; every report period defaults to the data's own. Without --workspace: the demo company.",
        epilog="example: omnimodel init acme --workspace data/acme.duckdb && cd acme && omnimodel report",
    )
    p.add_argument("folder", help="the project folder (created; existing files are never overwritten)")
    p.add_argument(
        "--workspace", help="a workspace from `omnimodel ingest` (default: build the demo company)"
    )
    p.set_defaults(func=_cmd_init)

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

    add_pipeline_parser(sub)
    add_targets_parser(sub)

    p = sub.add_parser(
        "lab",
        help="start JupyterLab with the omnimodel kernel",
        description="Register the kernel 'Python (omnimodel)' and start JupyterLab on 127.0.0.1.",
        epilog="example: omnimodel lab --port 8899 --no-browser",
    )
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument(
        "lab_args", nargs=argparse.REMAINDER, help="after --: options passed to jupyter lab as they are"
    )
    p.set_defaults(func=_cmd_lab)
    return parser


#: exit codes: 1 data problems listed, 2 a usage or configuration error, 3 the operating system refused (disk,
#: permissions), 4 the workspace engine failed (a damaged file), 5 an internal error (a bug: please report it)
EXIT_CODES = {"problems": 1, "usage": 2, "system": 3, "engine": 4, "internal": 5}


@contextlib.contextmanager
def _engine_sessions():
    """Close the engine workspaces a command opened when it ends (workspace.py only if it was imported: --help
    stays light)."""
    try:
        yield
    finally:
        loaded = sys.modules.get("omnimodel.data.workspace")
        if loaded is not None:
            loaded.close_engines()


def main(argv: list[str] | None = None) -> int:
    """Run the ``omnimodel`` command with ``argv`` (default: the command line); returns the exit code.

    Every error is one line naming what to do (see :data:`EXIT_CODES`); ``--debug`` adds the traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    try:
        with sigterm_exits(), _engine_sessions():  # SIGTERM ends a command like Ctrl-C: through its clean-up
            return args.func(args)
    except OmnimodelError as exc:
        print(f"omnimodel {args.command}: {exc}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_CODES["usage"] if not hasattr(exc, "problems") else EXIT_CODES["problems"]
    except KeyboardInterrupt:
        print(f"\nomnimodel {args.command}: interrupted; nothing half-written was kept.", file=sys.stderr)
        return 130
    except Exception as exc:  # the one place a foreign error becomes a sentence; --debug keeps the traceback
        message, kind = explain(exc)
        print(f"omnimodel {args.command}: {message}", file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_CODES[kind]


if __name__ == "__main__":
    raise SystemExit(main())
