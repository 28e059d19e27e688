"""A project for a client in one command: ``omnimodel init FOLDER --workspace W``.

Writes ``reports.yaml``, ``goals.yaml`` and (with pipeline data) ``funnel.yaml`` filled from the workspace's
own channels, regions, segments and stages, and copies the five notebooks, so the consultant edits the
templates and runs ``omnimodel report`` in that folder. Every period is left to the data (notebook defaults),
never to the demo's dates. Existing files are never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import yaml

from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ConfigError, OmnimodelError

#: the notebooks and templates shipped inside the package (a pip user has no checkout)
PACKAGE = Path(__file__).resolve().parents[1]
NOTEBOOKS = PACKAGE / "notebooks"


def _list(names: list[str]) -> str:
    return ", ".join(names) if names else "none found"


def _key(name: str) -> str:
    """A name as a YAML key, quoted (JSON strings are YAML): any name of the user's is safe."""
    return json.dumps(str(name), ensure_ascii=False)


def _distinct(ws: Workspace, table: str, column: str) -> list[str]:
    """The distinct values of a column, found in the engine."""
    t = ws.table(table)
    return sorted(str(v) for v in t.select(t[column]).distinct().execute()[column].dropna())


def _goals_yaml(ws: Workspace | None, year: int | None) -> str:
    regions = channels = segments = []
    has_pipeline = False
    if ws is not None:
        if ws.has("customers", "region"):
            regions = _distinct(ws, "customers", "region")
        if ws.has("customers", "segment"):
            segments = _distinct(ws, "customers", "segment")
        channels = ws.channels()
        has_pipeline = ws.has("opportunities")
    cost = "\n".join(f"  {_key(c)}: 0.0" for c in channels) or "  default: 0.0"
    growth = "\n".join(f"  {_key(r)}: 0.05" for r in regions)
    year_line = (
        f"year: {year}"
        if year
        else "# year: 2026      # the target year; default: the year after your latest complete year"
    )
    return f"""# Strategy goals for notebooks 04 and 05, filled from the workspace's own names. Rates are shares (0.05 = 5 %).
# A `default` entry covers the names not listed. Regions: {_list(regions)}.
# Channels: {_list(channels)}. Segments: {_list(segments)}.
{year_line}
growth:            # revenue growth over last year, per sales region
  default: 0.05
{growth}
channel_shift: {{}}  # intended change of a channel's share of revenue, in share points (sums to 0)
focus_segments: {{}}  # extra growth for these segments in the split over category x segment
margin_floor: {{}}    # least gross margin rate per channel (after discounts, before returns)
channel_cost:      # cost to serve (fulfilment, fees, sales staff) as a share of revenue: fill in yours
{cost}
return_rate: {{}}    # overrides of the measured return rate per channel; empty: measured
capacity:          # most a channel x category x segment cell can grow in a year
  default: 0.25
max_decline: 0.15  # most a cell may shrink in the optimised split
pipeline: {"added" if has_pipeline else "ignored"}    # added: won deals add to order revenue; in_orders: they are orders already; ignored
"""


def _funnel_yaml(ws: Workspace) -> str | None:
    """The funnel the workspace knows (stored at ingest or implied by its adapter), as an editable template."""
    from omnimodel.funnel.snapshot import funnel_for

    if not ws.has("stage_events"):
        return None
    try:
        definition = funnel_for(ws)
    except ConfigError:
        stages = _distinct(ws, "stage_events", "stage")
        body = {"name": "Sales pipeline", "stages": [s for s in stages if s not in ("won", "lost")]}
        head = "# The open stages in your stage history, alphabetically: PUT THEM IN FUNNEL ORDER, then ingest again.\n"
        return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    head = "# Your sales process: phases in order with entry and exit criteria, activities and measurement points.\n"
    return head + yaml.safe_dump(definition.to_dict(), sort_keys=False, allow_unicode=True)


def chosen_periods(workspace: str | os.PathLike) -> list[str]:
    """What the reports will take from the workspace's dates, and why, in sentences (``omnimodel init`` says
    them): the orders' span and the year counted complete, the target year, the pipeline's as-of date and
    forecast period."""
    from omnimodel.data import periods

    said = []
    with Workspace(str(workspace) if "://" in str(workspace) else Path(workspace)) as ws:
        if ws.has("orders") and ws.table("orders").count().execute() > 0:
            first, through = periods.data_span(ws)
            year = periods.latest_complete_year(ws)
            given = ws.meta().get("data_through")
            if year is None:
                said.append(
                    f"Orders run from {first.date()} to {through.date()}: no complete calendar year, so the "
                    "targets report gives baseline forecasts only."
                )
            else:
                why = (
                    f"the exports are complete to {given} (--data-through)"
                    if given
                    else "its orders run to 31 December"
                    if year == through.year and through.month == 12 and through.day == 31
                    else "its last order day is within the data's usual gap between order days of 31 December"
                    if year == through.year
                    else f"{through.year} has orders only to {through.date()}"
                )
                said.append(
                    f"Orders run from {first.date()} to {through.date()}: {year} is the latest complete year "
                    f"({why}); targets are set for {year + 1} (give `year:` in goals.yaml for another, or ingest "
                    "with --data-through)."
                )
        if ws.has("stage_events") and ws.has("opportunities"):
            from omnimodel.ingest.stage_history import has_stage_history

            ev = ws.table("stage_events")
            stages = ev.select("stage").distinct().execute()["stage"]
            last = ev.entered_at.max().execute()
            if last is not None and not pd.isna(last):
                said.append(
                    f"The pipeline report takes the CRM as of {pd.Timestamp(last).date()} (its last stage event) and "
                    f"forecasts {periods.next_quarter(last)}"
                    + (
                        "."
                        if has_stage_history(stages)
                        else "; the export has no stage history (one open phase)."
                    )
                )
    return said


def _reports_yaml(workspace: str, demo: bool) -> str:
    demo_block = "demo:              # build the demo company there when the file is missing\n  size: default\n  seed: 42\n"
    return f"""# The report suite `omnimodel report` runs in this folder. Paths are relative to this file.
workspace: {_key(workspace)}
{demo_block if demo else ""}notebooks_dir: notebooks
output: reports
parameters: {{}}     # given to every notebook that declares them; periods default to the data's own
notebooks:
  - notebook: 01_customer_profile
  - notebook: 02_segments_regions
  - notebook: 03_pipeline_forecast
  - notebook: 04_channel_targets
    parameters: {{goals: goals.yaml}}
  - notebook: 05_what_if
    parameters: {{goals: goals.yaml}}
"""


def init_project(folder: str | os.PathLike, workspace: str | os.PathLike | None = None) -> list[Path]:
    """Write a client project into ``folder``: reports.yaml, goals.yaml, funnel.yaml (with pipeline data) and the
    notebooks. Without ``workspace``, the project builds and uses the demo company. Returns the files written.

    Examples
    --------
    >>> init_project("acme", workspace="data/acme.duckdb")  # doctest: +SKIP
    [PosixPath('acme/reports.yaml'), PosixPath('acme/goals.yaml'), ...]
    """
    from omnimodel.data.periods import default_target_year

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    planned = ["reports.yaml", "goals.yaml", "funnel.yaml", "notebooks"]
    existing = [n for n in planned if (target / n).exists()]
    if existing:
        raise ConfigError(
            f"{target} already has {', '.join(existing)}: nothing was written",
            fix="choose an empty folder, or move those files away first",
        )
    if not NOTEBOOKS.is_dir():
        raise OmnimodelError(f"the package has no notebooks at {NOTEBOOKS}", fix="reinstall omnimodel")
    files: dict[str, str] = {}
    if workspace is None:
        files["reports.yaml"] = _reports_yaml("data/demo.duckdb", demo=True)
        files["goals.yaml"] = (PACKAGE / "templates" / "goals.yaml").read_text()
    else:
        url = "://" in str(workspace)  # an engine (sc://host:15002, ...): reports.yaml names it as given
        path = Path(workspace).resolve()
        with Workspace(str(workspace) if url else path) as ws:
            try:
                year = default_target_year(ws)
            except OmnimodelError:
                year = None
            files["goals.yaml"] = _goals_yaml(ws, year)
            funnel = _funnel_yaml(ws)
        if funnel:
            files["funnel.yaml"] = funnel
        inside = not url and path.is_relative_to(target.resolve())
        named = str(workspace) if url else str(path.relative_to(target.resolve()) if inside else path)
        files["reports.yaml"] = _reports_yaml(named, demo=False)
    written = []
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8")
        written.append(target / name)
    shutil.copytree(NOTEBOOKS, target / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    if (
        workspace is not None
    ):  # opened in JupyterLab or as the live panel, a notebook reads the project's data
        for nb in sorted((target / "notebooks").glob("*.ipynb")):
            _default_workspace(nb, named)
    written.append(target / "notebooks")
    return written


def _default_workspace(notebook: Path, workspace: str) -> None:
    """Set the default of ``notebook``'s ``workspace`` parameter to ``workspace`` (the report runner gives it
    anyway; JupyterLab and Voila run the notebook with its defaults)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = re.sub(
                r'^(workspace: [^=\n]+= )"[^"\n]*"', lambda m: m.group(1) + json.dumps(workspace), cell.source,
                count=1, flags=re.M,
            )  # fmt: skip
    nbformat.write(nb, notebook)
