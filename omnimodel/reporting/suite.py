"""Which reports ``omnimodel report`` runs (``reports.yaml``): the notebooks, their parameters, the workspace and
the output folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnimodel.config import read_yaml
from omnimodel.exceptions import ConfigError

DEMO_SIZES = ("small", "default", "large")


@dataclass(frozen=True)
class ReportRun:
    """One report: a notebook run with one parameter set."""

    name: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    #: the suite's shared parameters: given only where the notebook declares them (its own win)
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSuite:
    """Which notebooks ``omnimodel report`` runs, on which workspace, into which folder.

    Relative paths are taken from the folder of the config file.
    """

    workspace: Path | str | dict  # a DuckDB file, or an engine's URL or block (omnimodel.data.engines)
    notebooks_dir: Path
    output: Path
    runs: tuple[ReportRun, ...]
    demo: dict | None = None  # {"size": ..., "seed": ...}: build the demo workspace when it is missing
    source: Path | None = None

    def select(self, only: list[str] | None) -> list[ReportRun]:
        """The runs named by ``--only`` (a run name or a notebook name), in config order."""
        if not only:
            return list(self.runs)
        chosen = [r for r in self.runs if r.name in only or r.notebook in only]
        unknown = [o for o in only if not any(o in (r.name, r.notebook) for r in self.runs)]
        if unknown:
            names = sorted({r.notebook for r in self.runs} | {r.name for r in self.runs})
            raise ConfigError(
                f"--only {', '.join(unknown)}: no such report in {self.source}",
                fix=f"use one of {', '.join(names)}",
            )
        return chosen


def _slug(value: Any) -> str:
    if value is None:
        return "all"
    return re.sub(r"[^A-Za-z0-9_.]+", "-", str(value)).strip("-") or "x"


def _notebooks_dir(base: Path, given: str | None) -> Path:
    """The notebooks a suite runs: ``notebooks_dir`` as given, else ``notebooks/`` beside the config, else the
    ones shipped in the package (a pip user's config needs no copy of them)."""
    if given:
        return (base / given).resolve()
    beside = base / "notebooks"
    return beside.resolve() if beside.is_dir() else Path(__file__).parents[1] / "notebooks"


def load_report_suite(path: str | Path) -> ReportSuite:
    """Read and check ``reports.yaml``.

    Examples
    --------
    >>> suite = load_report_suite("reports.yaml")  # doctest: +SKIP
    >>> [r.name for r in suite.runs]  # doctest: +SKIP
    ['01_customer_profile', '02_segments_regions', ...]
    """
    path = Path(path).resolve()
    raw = read_yaml(path, "report config", "pass --config PATH or create reports.yaml")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path} must be a mapping with keys workspace, notebooks, ...")
    known = {"workspace", "notebooks_dir", "output", "demo", "parameters", "notebooks"}
    extra = set(raw) - known
    if extra:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(sorted(extra))}", fix=f"use {', '.join(sorted(known))}"
        )
    base = path.parent
    demo = raw.get("demo")
    if demo is not None:
        if not isinstance(demo, dict) or demo.get("size", "small") not in DEMO_SIZES:
            raise ConfigError(f"{path}: demo must look like {{size: small|default|large, seed: 42}}")
        demo = {"size": demo.get("size", "small"), "seed": int(demo.get("seed", 42))}
    shared = raw.get("parameters") or {}
    runs: list[ReportRun] = []
    entries = raw.get("notebooks") or []
    if not entries:
        raise ConfigError(f"{path}: no notebooks listed", fix="add a `notebooks:` list")
    for entry in entries:
        if isinstance(entry, str):
            entry = {"notebook": entry}
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise ConfigError(f"{path}: each notebooks entry needs a `notebook:` name, got {entry!r}")
        nb = str(entry["notebook"]).removesuffix(".ipynb")
        params = dict(entry.get("parameters") or {})
        variants = entry.get("runs") or [{}]
        for variant in variants:
            if not isinstance(variant, dict):
                raise ConfigError(f"{path}: runs of {nb} must be mappings of parameters, got {variant!r}")
            name = str(entry.get("name", nb))
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):  # it names files in the run folder
                raise ConfigError(
                    f"{path}: report name {name!r} is not a plain file name",
                    fix="use letters, digits, '_', '-' and '.', without '/' or a leading dot",
                )
            if variant:
                name += "--" + "-".join(f"{_slug(v)}" for v in variant.values())
            runs.append(
                ReportRun(name=name, notebook=nb, parameters={**params, **variant}, shared=dict(shared))
            )
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(
            f"{path}: report names repeat: {', '.join(dupes)}", fix="give each run a distinct `name`"
        )
    return ReportSuite(
        workspace=_workspace(base, raw.get("workspace", "data/demo.duckdb")),
        notebooks_dir=_notebooks_dir(base, raw.get("notebooks_dir")),
        output=(base / raw.get("output", "reports")).resolve(),
        runs=tuple(runs),
        demo=demo,
        source=path,
    )


def _workspace(base: Path, value) -> Path | str | dict:
    """``workspace:``: a file relative to the config's folder, or an engine's URL or block (its path too)."""
    if isinstance(value, dict):
        return {**value, **({"path": str((base / str(value["path"])).resolve())} if "path" in value else {})}
    return str(value) if "://" in str(value) else (base / str(value)).resolve()
