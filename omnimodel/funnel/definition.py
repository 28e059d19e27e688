"""The funnel definition: what the sales process is (phases in order with entry and exit criteria, activities,
measurement points and their targets, the CRM's fixed stage probability), from YAML. Bundled definitions are in
``omnimodel/funnel/definitions/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnimodel.config import read_yaml
from omnimodel.exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

FUNNEL_DEFINITIONS = Path(__file__).parent / "definitions"


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
    #: the source's own rule, when it has one: a deal open this many days without an outcome counts as lost
    #: (Olist records wins only; its adapter calls a lead lost after 180 days), at any as-of date
    lost_after_days: int | None = None

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
        rule = {"lost_after_days": self.lost_after_days} if self.lost_after_days is not None else {}
        return {"name": self.name, "stages": stages, "won": self.won, "lost": self.lost, **rule}

    def to_frame(self) -> pd.DataFrame:
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
    raw = read_yaml(path, "funnel definition", "see funnel/definitions/demo.yaml")
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
    after = raw.get("lost_after_days")
    if after is not None and not (isinstance(after, int) and not isinstance(after, bool) and after > 0):
        raise ConfigError(f"{path}: lost_after_days must be a whole number of days above 0, got {after!r}")
    return FunnelDefinition(str(raw.get("name", default_name)), tuple(parsed), won, lost, after)


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
