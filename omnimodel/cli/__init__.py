"""The ``omnimodel`` command. Run ``omnimodel --help`` or ``omnimodel COMMAND --help``."""

from __future__ import annotations

import argparse
import contextlib
import sys
import traceback

from omnimodel.cli import data, reports
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ``omnimodel`` command, with help and examples (the commands are in modules
    by topic: :mod:`~omnimodel.cli.reports`, :mod:`~omnimodel.cli.data`, :mod:`~omnimodel.cli.pipeline`,
    :mod:`~omnimodel.cli.targets`)."""
    parser = argparse.ArgumentParser(
        prog="omnimodel",
        description="Notebook-first workbench for omnichannel sales strategy and forecasting.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (reports.add_report, data.add_demo, data.add_validate, data.add_ingest, reports.add_init,
                data.add_map, add_pipeline_parser, add_targets_parser, reports.add_lab, reports.add_panel):  # fmt: skip
        add(sub)
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
