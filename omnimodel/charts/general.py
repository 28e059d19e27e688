"""Charts of revenue, segments, countries and targets: lines, bars, heat maps, rankings, fans and bridges.

Each function takes a tidy frame and returns a matplotlib Figure, so notebooks stay one call per chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import matplotlib.pyplot as plt
import pandas as pd

from omnimodel.charts.style import (
    BLUE,
    DARK,
    GREEN,
    LIGHT_BLUE,
    RED,
    colour_for,
    format_chance,
    format_money,
    thousands_ticks,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def lines_by_group(
    frame: pd.DataFrame, x: str, y: str, group: str, title: str, ylabel: str | None = None
) -> Figure:
    """One line per group over time (e.g. monthly revenue per channel)."""
    fig, ax = plt.subplots(figsize=(9, 4))
    wide = frame.pivot_table(index=x, columns=group, values=y, aggfunc="sum").sort_index()
    for col in wide.columns:
        ax.plot(wide.index, wide[col], label=str(col), linewidth=1.8, color=colour_for(col))
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel or y)
    ax.yaxis.set_major_formatter(thousands_ticks())
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, ncol=min(len(wide.columns), 6), fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def bars(
    frame: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    xlabel: str | None = None,
    stack: str | None = None,
) -> Figure:
    """Horizontal bars, largest at the top; ``stack`` splits each bar by a second column."""
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * frame[label].nunique() + 1)))
    if stack:
        wide = frame.pivot_table(index=label, columns=stack, values=value, aggfunc="sum").fillna(0)
        wide = wide.loc[wide.sum(axis=1).sort_values().index]
        left = pd.Series(0.0, index=wide.index)
        for col in wide.columns:
            ax.barh(wide.index.astype(str), wide[col], left=left, label=str(col), color=colour_for(col))
            left += wide[col]
        ax.legend(frameon=False, fontsize=8)
    else:
        s = frame.groupby(label)[value].sum().sort_values()
        ax.barh(s.index.astype(str), s.values, color=BLUE)
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel or value)
    ax.xaxis.set_major_formatter(thousands_ticks())
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def heatmap(
    matrix: pd.DataFrame, title: str, fmt: str = "{:.0%}", xlabel: str = "", ylabel: str = ""
) -> Figure:
    """A labelled heat map (e.g. the channel transition matrix: rows = from, columns = to)."""
    fig, ax = plt.subplots(figsize=(1.1 * len(matrix.columns) + 2.5, 0.7 * len(matrix) + 1.8))
    values = matrix.to_numpy(dtype=float)
    im = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(pd.Series(values.ravel()).max()), 1e-9))
    ax.set_xticks(range(len(matrix.columns)), [str(c) for c in matrix.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(matrix.index)), [str(i) for i in matrix.index])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if values[i, j] == values[i, j]:  # not NaN
                colour = "white" if values[i, j] > 0.6 * values[~pd.isna(values)].max() else "black"
                ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def ranking(
    frame: pd.DataFrame, label: str, value: str, low: str, high: str, title: str, xlabel: str = ""
) -> Figure:
    """Ranked dots with their interval (e.g. country scores with 90 % intervals), best at the top."""
    f = frame.sort_values(value)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(f) + 1)))
    y = range(len(f))
    ax.hlines(y, f[low], f[high], color=LIGHT_BLUE, linewidth=3)
    ax.plot(f[value], y, "o", color=BLUE)
    ax.set_yticks(list(y), f[label].astype(str))
    ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel or value)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def distribution(
    frame: pd.DataFrame, value: str, group: str, title: str, xlabel: str = "", log: bool = True
) -> Figure:
    """Overlaid histograms of ``value`` per group (e.g. customer lifetime value per segment). On a log scale
    values at or below zero cannot be drawn: how many there are is said under the chart, never dropped
    silently (a profit can be a loss)."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 3.8))
    v = frame[value].astype(float)
    below = int((v <= 0).sum()) if log else 0
    shown = frame[v > 0] if log else frame
    pos = v[v > 0] if log else v
    top = float(pos.quantile(0.99)) if len(pos) else 1.0
    bins: Any = np.geomspace(max(float(pos.min()), top / 1e4), top, 40) if log and len(pos) else 40
    for name, part in shown.groupby(group):
        ax.hist(part[value].clip(upper=top), bins=bins, histtype="step", linewidth=1.6, label=str(name))
    if log:
        ax.set_xscale("log")
    ax.set_title(title, loc="left", fontsize=12)
    note = f"; {below:,} customers at or below zero are not on this log scale" if below else ""
    ax.set_xlabel((xlabel or value) + note)
    ax.set_ylabel("customers")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def fan(
    history: pd.Series, quantiles: pd.DataFrame, title: str, ylabel: str = "", target: float | None = None
) -> Figure:
    """History as a line and the forecast as a P10-P90 band with its median (columns p10, p50, p90)."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    hx = history.index.to_timestamp() if hasattr(history.index, "to_timestamp") else history.index
    ax.plot(hx, history.to_numpy(), color=DARK, linewidth=1.6, label="actual")
    fx = pd.PeriodIndex(quantiles["period"]).to_timestamp()
    ax.fill_between(fx, quantiles["p10"], quantiles["p90"], color=LIGHT_BLUE, alpha=0.6, label="P10-P90")
    ax.plot(fx, quantiles["p50"], color=BLUE, linewidth=1.8, label="median forecast")
    if target is not None:
        ax.axhline(target, color=RED, linestyle="--", linewidth=1, label="target per period")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(thousands_ticks())
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _signed(v: float) -> str:
    """A step of a bridge: +1.20 M, −317, and ±0 for a step that rounds to nothing (never "-0")."""
    if abs(v) < 0.5:
        return "±0"
    return ("+" if v > 0 else "−") + format_money(abs(v))


def bridge(steps: pd.DataFrame, title: str, ylabel: str = "") -> Figure:
    """A waterfall from a start value through signed steps to an end value (columns step, value; the first
    and last rows are totals, e.g. last year and target)."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    values = steps["value"].to_numpy(float)
    bottoms, heights, colours = [0.0], [values[0]], ["#7f7f7f"]
    level = values[0]
    for v in values[1:-1]:
        bottoms.append(level if v >= 0 else level + v)
        heights.append(abs(v))
        colours.append(GREEN if v >= 0 else RED)
        level += v
    bottoms.append(0.0)
    heights.append(values[-1])
    colours.append(BLUE)
    x = range(len(values))
    ax.bar(x, heights, bottom=bottoms, color=colours, width=0.6)
    for i, v in enumerate(values):
        label = format_money(v) if i in (0, len(values) - 1) else _signed(v)
        ax.text(i, bottoms[i] + heights[i], label, ha="center", va="bottom", fontsize=8)
    top = max(b + h for b, h in zip(bottoms, heights, strict=True))
    ax.set_ylim(top=top * 1.12)  # room for the labels above the tallest bar, below the title
    ax.set_xticks(list(x), steps["step"].astype(str))
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(thousands_ticks())
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def targets_vs_forecast(
    table: pd.DataFrame, label: str, title: str, xlabel: str = "revenue", ax: Axes | None = None
) -> Figure:
    """Per row: the forecast P10-P90 as a bar with its median, the target as a red tick, and P(hit) as text
    (columns forecast_p10, forecast_p50, forecast_p90, target, p_hit)."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, max(2.5, 0.45 * len(table) + 1)))
    y = list(range(len(table)))[::-1]
    ax.hlines(
        y,
        table["forecast_p10"],
        table["forecast_p90"],
        color=LIGHT_BLUE,
        linewidth=8,
        label="forecast P10-P90",
    )
    ax.plot(table["forecast_p50"], y, "o", color=BLUE, label="forecast median")
    ax.plot(table["target"], y, "|", color=RED, markersize=18, markeredgewidth=2.5, label="target")
    right = float(max(table["forecast_p90"].max(), table["target"].max()))
    for yi, p in zip(y, table["p_hit"], strict=True):
        ax.text(right * 1.02, yi, f"P(hit) {format_chance(p)}", va="center", fontsize=8)
    ax.set_xlim(left=0, right=right * 1.18)
    ax.set_yticks(y, table[label].astype(str))
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(thousands_ticks())
    ax.grid(alpha=0.3, axis="x")
    ax.spines[["top", "right"]].set_visible(False)
    # below the axis: at the right it covered the P(hit) labels
    ax.legend(frameon=False, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=3)
    if fig is not None:
        fig.tight_layout()
    return fig if fig is not None else cast("Figure", ax.figure)  # drawn into a figure of the caller's
