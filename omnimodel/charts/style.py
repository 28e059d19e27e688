"""One look for every chart: colours, a stable colour per channel, money and percent formatters.

Channel colours come from one palette in the order of :func:`use_channels` (notebooks call it with the
workspace's channels), so a channel keeps its colour in every chart of every report of a workspace. Names not
registered take the next free colour in the order they are first drawn.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter

BLUE, LIGHT_BLUE, GREY, DARK, RED, GREEN = "#2f6f9f", "#9dbad3", "#9aa5b1", "#333333", "#b00020", "#176b2c"
#: Tableau 10 then its lighter tones: distinct for up to 20 channels
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63", "#d4a6c8", "#fabfd2",
    "#d7b5a6", "#79706e",
)  # fmt: skip
_assigned: dict[str, str] = {}


def use_channels(names: Iterable[str]) -> None:
    """Fix the colour of each channel (sorted by name) for every chart drawn after this call."""
    _assigned.clear()
    for name in sorted({str(n) for n in names}):
        colour_for(name)


def colour_for(name: str) -> str:
    """The colour of a channel (or any group label): the same for the same name within a process."""
    key = str(name)
    if key not in _assigned:
        _assigned[key] = PALETTE[len(_assigned) % len(PALETTE)]
    return _assigned[key]


def format_money(value: float, decimals: int = 0) -> str:
    """Money for people: thousands separators, M for millions (``1,234``, ``1.85 M``)."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.2f} M"
    return f"{value:,.{decimals}f}"


def format_percent(value: float, decimals: int = 0) -> str:
    """A share as a percentage (``0.183`` gives ``18 %``)."""
    return f"{value * 100:.{decimals}f} %"


def format_chance(p: float, words: bool = False) -> str:
    """A share in [0, 1] as a whole percentage that never says 0 % or 100 %, which a few thousand draws cannot
    show: ``<1 %`` on a chart, "below 1 %" in a sentence (``words``)."""
    if 0 <= p < 0.005:
        return "below 1 %" if words else "<1 %"
    if 0.995 < p <= 1:
        return "above 99 %" if words else ">99 %"
    return f"{p:.0%}".replace("%", " %")


class Ticks(Formatter):
    """Tick labels with thousands separators and as many decimals as the ticks' step needs (0.2 apart: one;
    never "2 2 2 2" for 1.6 to 2.4), as percentages when ``percent``."""

    def __init__(self, percent: bool = False):
        self.percent = percent
        self.ticks: list[float] = []

    def set_locs(self, locs: Iterable[float]) -> None:
        """Keep the axis's tick positions (matplotlib calls this before labelling them)."""
        self.ticks = list(locs)

    def decimals(self) -> int:
        """The fewest decimals that tell the ticks apart (the smallest step written exactly)."""
        scale = 100.0 if self.percent else 1.0
        steps = np.diff(np.sort(np.asarray(self.ticks, dtype=float) * scale))
        steps = steps[steps > 0]
        if not len(steps):
            return 0
        step = float(steps.min())
        return next((d for d in range(7) if abs(step * 10**d - round(step * 10**d)) < 1e-6 * 10**d), 6)

    def __call__(self, x: float, pos: int | None = None) -> str:
        """The label of the tick at ``x``."""
        d = self.decimals()
        return f"{x * 100:,.{d}f}%" if self.percent else f"{x:,.{d}f}"


def thousands_ticks() -> Ticks:
    """An axis formatter with thousands separators (a new one per axis: it keeps that axis's ticks)."""
    return Ticks()


def percent_ticks() -> Ticks:
    """An axis formatter for shares, as percentages (a new one per axis)."""
    return Ticks(percent=True)


def tidy(ax: Axes, title: str) -> None:
    """Title on the left, no top and right spines."""
    ax.set_title(title, loc="left", fontsize=12)
    ax.spines[["top", "right"]].set_visible(False)
