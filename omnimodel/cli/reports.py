"""`omnimodel report|init|lab`: the report commands (run the suite, start a project, JupyterLab)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any


def _cmd_report(args: argparse.Namespace) -> int:
    from omnimodel.reporting.parameters import notebook_parameters, parse_assignments
    from omnimodel.reporting.runner import notebook_path, run_reports
    from omnimodel.reporting.suite import load_report_suite

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


def _cmd_init(args: argparse.Namespace) -> int:
    from omnimodel.reporting.project import chosen_periods, init_project

    written = init_project(args.folder, args.workspace)
    where = "this folder" if Path(args.folder).resolve() == Path.cwd() else args.folder
    print(f"Wrote {', '.join(p.name for p in written)} into {where}.")
    for line in chosen_periods(args.workspace) if args.workspace else []:
        print(line)
    funnel = (
        " and funnel.yaml (your stages in order)"
        if any(p.name == "funnel.yaml" and "no stage history" not in p.read_text() for p in written)
        else ""
    )
    print(
        f"Next: edit goals.yaml (growth per region, cost to serve per channel){funnel}, "
        f"then run `omnimodel report` in {where}."
    )
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
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


def _cmd_panel(args: argparse.Namespace) -> int:
    from omnimodel.environment import project_kernel, project_root, pytensor_environment
    from omnimodel.whatif.voila import voila_command, voila_environment

    root = project_root()
    project_kernel()
    notebook = root / "notebooks" / "05_what_if.ipynb"
    if not notebook.is_file():  # a pip user without `omnimodel init`: the notebook shipped in the package
        notebook = Path(__file__).resolve().parents[1] / "notebooks" / "05_what_if.ipynb"
    print(f"Serving the what-if panel on http://127.0.0.1:{args.port}/ (Ctrl+C stops it).")
    cmd = voila_command(notebook, args.port, browser=not args.no_browser)
    return subprocess.call(cmd, env=voila_environment(pytensor_environment(root)), cwd=root)


def add_report(sub: Any) -> None:
    """Register ``omnimodel report``."""
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


def add_init(sub: Any) -> None:
    """Register ``omnimodel init``."""
    p = sub.add_parser(
        "init",
        help="start a project for your data: reports.yaml, goals.yaml, funnel.yaml and the notebooks",
        description="Write a project folder filled from the workspace's own channels, regions, segments and "
        "stages; every report period defaults to the data's own. Without --workspace: the demo company.",
        epilog="example: omnimodel init acme --workspace data/acme.duckdb && cd acme && omnimodel report",
    )
    p.add_argument(
        "folder",
        nargs="?",
        default=".",
        help="the project folder (default: this one; created; existing files are never overwritten)",
    )
    p.add_argument(
        "--workspace", help="a workspace from `omnimodel ingest` (default: build the demo company)"
    )
    p.set_defaults(func=_cmd_init)


def add_lab(sub: Any) -> None:
    """Register ``omnimodel lab``."""
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


def add_panel(sub: Any) -> None:
    """Register ``omnimodel panel``."""
    p = sub.add_parser(
        "panel",
        aliases=["whatif"],  # the name `make whatif` has in the repository
        help="serve the what-if panel (notebook 05) as a dashboard without code (also: omnimodel whatif)",
        description="Run notebook 05 in Voila on 127.0.0.1 with the omnimodel kernel: sliders for the goals, "
        "the chance to reach the targets updating as they move. Nothing is loaded from other hosts.",
        epilog="example: omnimodel panel --port 8866 --no-browser",
    )
    p.add_argument("--port", type=int, default=8866)
    p.add_argument("--no-browser", action="store_true")
    p.set_defaults(func=_cmd_panel)
