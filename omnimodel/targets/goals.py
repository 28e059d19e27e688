"""The strategy goals (``goals.yaml``): what the strategy asks of next year, turned into targets by
:mod:`omnimodel.targets.plan`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from omnimodel.config import read_yaml
from omnimodel.exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

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

    year: int | None  # None: the year after the data's latest complete year (set by whoever reads the data)
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
    raw = read_yaml(path, "strategy goals", "copy goals.yaml from the project root")
    known = {"year", *GOAL_MAPS, "max_decline", "pipeline"}
    if not isinstance(raw, dict) or set(raw) - known:
        extra = sorted(set(raw) - known) if isinstance(raw, dict) else ["(not a mapping)"]
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)}", fix=f"use {', '.join(sorted(known))}")
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise ConfigError(f"{path}: `year` must be the target year, e.g. 2026 (or left out: from the data)")
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
        year=year,
        **{k: v for k, v in maps.items() if k != "capacity" or v},
        max_decline=float(decline),
        pipeline=pipeline,
        source=path,
    )


def channel_cost(goals: str | None) -> dict[str, float] | None:
    """The cost to serve per channel from a goals file (``channel_cost``), None when there is no such file (the
    defaults by channel kind then apply, and the report says so)."""
    from omnimodel.environment import resolve_path

    if not goals or not resolve_path(goals).exists():
        return None
    return dict(load_strategy_goals(resolve_path(goals)).channel_cost) or None
