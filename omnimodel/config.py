"""Typed configs loaded from YAML.

Three configs stay apart: what a model is (funnel definition, strategy goals: added by the analysis issues),
how to fit it (sampler settings, next to each model), and which reports to run (:class:`ReportSuite`, from
``reports.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from omnimodel.exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

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


def parse_yaml(text: str, where: str):
    """YAML read safely (no tags, nothing run), or one ConfigError naming the line and what to write instead."""
    try:
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(
            f"{where} uses a YAML tag{line}, which omnimodel never reads: {exc.problem}",
            fix="write plain values (text, numbers, lists, mappings) without `!` tags",
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{where} is not valid YAML{line}: {problem}", fix="check indentation and quoting there"
        ) from exc


def _read_yaml(path: Path, what: str, fix: str):
    """The parsed YAML at ``path``, or a ConfigError saying what is missing or malformed."""
    if not path.exists():
        raise ConfigError(f"{what} {path} not found", fix=fix)
    return parse_yaml(path.read_text(), str(path)) or {}


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
    return beside.resolve() if beside.is_dir() else Path(__file__).parent / "notebooks"


def load_report_suite(path: str | Path) -> ReportSuite:
    """Read and check ``reports.yaml``.

    Examples
    --------
    >>> suite = load_report_suite("reports.yaml")  # doctest: +SKIP
    >>> [r.name for r in suite.runs]  # doctest: +SKIP
    ['01_customer_profile', '02_segments_regions', ...]
    """
    path = Path(path).resolve()
    raw = _read_yaml(path, "report config", "pass --config PATH or create reports.yaml")
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


# --- funnel definition (what the sales process is) -----------------------------------------------------

FUNNEL_DEFINITIONS = Path(__file__).parent / "funnel" / "definitions"


@dataclass(frozen=True)
class Stage:
    """One phase of the sales process, with its entry and exit criteria and what belongs to it."""

    name: str
    entry: str = ""
    exit: str = ""
    activities: tuple[str, ...] = ()
    measurements: tuple[str, ...] = ()
    probability: float | None = None  # the CRM's fixed win probability for the stage (the baseline to beat)
    #: optional: measurement name -> target value (a share as 0.6, days, money or a count)
    targets: dict[str, float] = field(default_factory=dict)
    #: optional: measurement name -> metric, where its words do not say it (see omnimodel.funnel.phases)
    metrics: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FunnelDefinition:
    """Open stages in order and the terminal won/lost states.

    Examples
    --------
    >>> funnel = load_funnel("demo")
    >>> funnel.stage_names
    ['lead', 'qualified', 'proposal', 'negotiation']
    """

    name: str
    stages: tuple[Stage, ...]
    won: str = "won"
    lost: str = "lost"

    @property
    def stage_names(self) -> list[str]:
        """The phases' names in funnel order."""
        return [s.name for s in self.stages]

    def rank(self, stage: str) -> int:
        """Position of an open stage (0 = first); won ranks after the last open stage."""
        if stage == self.won:
            return len(self.stages)
        return self.stage_names.index(stage)

    def to_dict(self) -> dict[str, Any]:
        """The definition as plain data, the same shape as its YAML (:func:`parse_funnel` reads it back)."""
        stages = [
            {
                "name": s.name,
                "entry": s.entry,
                "exit": s.exit,
                "activities": list(s.activities),
                "measurements": list(s.measurements),
                "probability": s.probability,
                **({"targets": dict(s.targets)} if s.targets else {}),
                **({"metrics": dict(s.metrics)} if s.metrics else {}),
            }
            for s in self.stages
        ]
        return {"name": self.name, "stages": stages, "won": self.won, "lost": self.lost}

    def to_frame(self):
        """The definition as a table: phase, entry and exit criteria, activities, measurement points."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "phase": i + 1,
                    "stage": s.name,
                    "entry": s.entry,
                    "exit": s.exit,
                    "activities": "; ".join(s.activities),
                    "measurements": "; ".join(s.measurements),
                    "crm_probability": s.probability,
                }
                for i, s in enumerate(self.stages)
            ]
        )


def load_funnel(name_or_path: str | Path) -> FunnelDefinition:
    """Load a funnel definition: a bundled name (``demo``, ``maven_crm``, ``olist_funnel``) or a YAML path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = FUNNEL_DEFINITIONS / f"{name_or_path}.yaml"
    if not path.exists():
        bundled = ", ".join(p.stem for p in sorted(FUNNEL_DEFINITIONS.glob("*.yaml")))
        raise ConfigError(
            f"funnel definition {name_or_path} not found", fix=f"use a YAML path or one of {bundled}"
        )
    raw = _read_yaml(path, "funnel definition", "see funnel/definitions/demo.yaml")
    return parse_funnel(raw, str(path), default_name=path.stem)


def parse_funnel(raw: Any, path: str = "funnel definition", default_name: str = "funnel") -> FunnelDefinition:
    """A funnel definition from its YAML content (a mapping with ``stages``, optional ``name``, ``won``,
    ``lost``); ``path`` names where it came from in errors. Stages are names or mappings."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping with `stages`", fix="see funnel/definitions/demo.yaml")
    stages = raw.get("stages")
    if not isinstance(stages, list) or not stages:
        raise ConfigError(
            f"{path} needs a list `stages:` of the open phases in order",
            fix="e.g. stages: [lead, qualified, proposal]; see funnel/definitions/demo.yaml",
        )
    parsed = []
    for s in stages:
        if isinstance(s, str):
            s = {"name": s}
        if not isinstance(s, dict) or "name" not in s:
            raise ConfigError(f"{path}: each stage needs a `name`, got {s!r}")
        unknown = set(s) - {"name", "entry", "exit", "activities", "measurements", "probability", "targets",
                            "metrics"}  # fmt: skip
        if unknown:
            raise ConfigError(f"{path}: stage {s['name']} has unknown key(s) {', '.join(sorted(unknown))}")
        prob = s.get("probability")
        if prob is not None and not (isinstance(prob, (int, float)) and 0 <= prob <= 1):
            raise ConfigError(f"{path}: stage {s['name']} probability must be between 0 and 1, got {prob!r}")
        parsed.append(
            Stage(
                str(s["name"]),
                s.get("entry", ""),
                s.get("exit", ""),
                tuple(s.get("activities", ())),
                tuple(s.get("measurements", ())),
                prob,
                _named_map(s, "targets", path, float),
                _named_map(s, "metrics", path, str),
            )
        )
    names = [s.name for s in parsed]
    won, lost = str(raw.get("won", "won")), str(raw.get("lost", "lost"))
    if len(set(names)) != len(names) or {won, lost} & set(names):
        raise ConfigError(f"{path}: stage names must be distinct and differ from the won/lost states")
    return FunnelDefinition(str(raw.get("name", default_name)), tuple(parsed), won, lost)


def _named_map(stage: dict, key: str, path: str, kind: type) -> dict:
    """A stage's optional mapping from its measurement names to a target or a metric."""
    raw = stage.get(key) or {}
    names = set(stage.get("measurements", ()))
    if not isinstance(raw, dict) or set(raw) - names:
        extra = sorted(set(raw) - names) if isinstance(raw, dict) else ["(not a mapping)"]
        raise ConfigError(
            f"{path}: stage {stage['name']} `{key}` names {', '.join(map(str, extra))}, not among its measurements",
            fix=f"key `{key}` by the stage's measurement names, e.g. {key}: {{lead-to-qualified rate: 0.6}}",
        )
    try:
        return {str(k): kind(v) for k, v in raw.items()}
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{path}: stage {stage['name']} `{key}`: {err}") from None


# --- strategy goals ------------------------------------------------------------------------------------

PIPELINE_MODES = ("added", "in_orders", "ignored")


@dataclass(frozen=True)
class StrategyGoals:
    """What the strategy asks of next year, from ``goals.yaml``: turned into targets by ``targets.plan``.

    Rates are shares (0.05 = 5 %). Mappings keyed by region, channel or segment take a ``default`` entry for the
    names not listed.

    Examples
    --------
    >>> goals = load_strategy_goals("goals.yaml")  # doctest: +SKIP
    >>> goals.rate("growth", "North")  # doctest: +SKIP
    0.12
    """

    year: int
    growth: dict[str, float]  # revenue growth over last year, per region
    channel_shift: dict[str, float] = field(default_factory=dict)  # change of channel share, in share points
    focus_segments: dict[str, float] = field(default_factory=dict)  # extra growth of a segment in the split
    margin_floor: dict[str, float] = field(default_factory=dict)  # least gross margin rate, per channel
    channel_cost: dict[str, float] = field(default_factory=dict)  # cost to serve as a share of revenue
    return_rate: dict[str, float] = field(default_factory=dict)  # overrides the measured return rate
    capacity: dict[str, float] = field(default_factory=lambda: {"default": 0.25})  # most a split cell grows
    max_decline: float = 0.15  # most a split cell shrinks
    pipeline: str = "added"  # how won deals relate to orders: added, in_orders (shown, not added), ignored
    source: Path | None = None

    def rate(self, key: str, name: str, default: float = 0.0) -> float:
        """The rate of ``key`` (``growth``, ``margin_floor``, ...) for a region, channel or segment name."""
        table = getattr(self, key)
        return float(table.get(name, table.get("default", default)))

    def to_frame(self) -> pd.DataFrame:
        """Every goal as a row: which goal, what it applies to (a region, channel, segment or default), value."""
        import pandas as pd  # here: the CLI reads configs and should not pay for pandas

        rows = [
            {"goal": key, "applies to": name, "value": value}
            for key in GOAL_MAPS
            for name, value in getattr(self, key).items()
        ]
        return pd.DataFrame(rows, columns=["goal", "applies to", "value"])


#: the goals that map a region, channel or segment (or `default`) to a rate
GOAL_MAPS = (
    "growth",
    "channel_shift",
    "focus_segments",
    "margin_floor",
    "channel_cost",
    "return_rate",
    "capacity",
)


def load_strategy_goals(path: str | Path) -> StrategyGoals:
    """Read and check a strategy goals YAML (see ``goals.yaml`` for the demo company's)."""
    path = Path(path).resolve()
    raw = _read_yaml(path, "strategy goals", "copy goals.yaml from the project root")
    known = {"year", *GOAL_MAPS, "max_decline", "pipeline"}
    if not isinstance(raw, dict) or set(raw) - known:
        extra = sorted(set(raw) - known) if isinstance(raw, dict) else ["(not a mapping)"]
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)}", fix=f"use {', '.join(sorted(known))}")
    if not isinstance(raw.get("year"), int):
        raise ConfigError(f"{path}: `year` must be the target year, e.g. 2026")
    maps = {}
    for key in GOAL_MAPS:
        value = raw.get(key) or {}
        if isinstance(value, (int, float)):
            value = {"default": value}
        if not isinstance(value, dict) or not all(isinstance(v, (int, float)) for v in value.values()):
            raise ConfigError(f"{path}: `{key}` must map names to numbers, got {value!r}")
        low, high = (
            (-1.0, 1.0) if key == "channel_shift" else (-0.9, 10.0) if key == "growth" else (0.0, 10.0)
        )
        if key in ("margin_floor", "channel_cost", "return_rate"):
            high = 1.0
        bad = {k: v for k, v in value.items() if not low <= v <= high}
        if bad:
            raise ConfigError(f"{path}: `{key}` values must lie in [{low}, {high}], got {bad}")
        maps[key] = {str(k): float(v) for k, v in value.items()}
    if "default" in maps["channel_shift"]:
        raise ConfigError(f"{path}: `channel_shift` names channels; a default shift is meaningless")
    if abs(sum(maps["channel_shift"].values())) > 1e-6:
        raise ConfigError(
            f"{path}: `channel_shift` must sum to 0 (share points move between channels), "
            f"got {sum(maps['channel_shift'].values()):+.3f}",
            fix="balance the gains with losses",
        )
    if not maps["growth"]:
        raise ConfigError(f"{path}: `growth` is required, e.g. {{default: 0.05}}")
    pipeline = raw.get("pipeline", "added")
    if pipeline not in PIPELINE_MODES:
        raise ConfigError(f"{path}: `pipeline` must be one of {', '.join(PIPELINE_MODES)}, got {pipeline!r}")
    decline = raw.get("max_decline", 0.15)
    if not isinstance(decline, (int, float)) or not 0 <= decline <= 1:
        raise ConfigError(f"{path}: `max_decline` must be a share between 0 and 1, got {decline!r}")
    return StrategyGoals(
        year=raw["year"],
        **{k: v for k, v in maps.items() if k != "capacity" or v},
        max_decline=float(decline),
        pipeline=pipeline,
        source=path,
    )
