"""Charts a consultant would put in a deck: consistent look, labelled axes, thousands separators.

Each function takes a tidy frame and returns a matplotlib Figure, so notebooks stay one call per chart.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

_thousands = FuncFormatter(lambda v, _: f"{v:,.0f}")


def lines_by_group(frame: pd.DataFrame, x: str, y: str, group: str, title: str, ylabel: str | None = None):
    """One line per group over time (e.g. monthly revenue per channel)."""
    fig, ax = plt.subplots(figsize=(9, 4))
    wide = frame.pivot_table(index=x, columns=group, values=y, aggfunc="sum").sort_index()
    for col in wide.columns:
        ax.plot(wide.index, wide[col], label=str(col), linewidth=1.8)
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel or y)
    ax.yaxis.set_major_formatter(_thousands)
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
):
    """Horizontal bars, largest at the top; ``stack`` splits each bar by a second column."""
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.35 * frame[label].nunique() + 1)))
    if stack:
        wide = frame.pivot_table(index=label, columns=stack, values=value, aggfunc="sum").fillna(0)
        wide = wide.loc[wide.sum(axis=1).sort_values().index]
        left = pd.Series(0.0, index=wide.index)
        for col in wide.columns:
            ax.barh(wide.index.astype(str), wide[col], left=left, label=str(col))
            left += wide[col]
        ax.legend(frameon=False, fontsize=8)
    else:
        s = frame.groupby(label)[value].sum().sort_values()
        ax.barh(s.index.astype(str), s.values, color="#2f6f9f")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel or value)
    ax.xaxis.set_major_formatter(_thousands)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def heatmap(matrix: pd.DataFrame, title: str, fmt: str = "{:.0%}", xlabel: str = "", ylabel: str = ""):
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


def ranking(frame: pd.DataFrame, label: str, value: str, low: str, high: str, title: str, xlabel: str = ""):
    """Ranked dots with their interval (e.g. country scores with 90 % intervals), best at the top."""
    f = frame.sort_values(value)
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(f) + 1)))
    y = range(len(f))
    ax.hlines(y, f[low], f[high], color="#9dbad3", linewidth=3)
    ax.plot(f[value], y, "o", color="#2f6f9f")
    ax.set_yticks(list(y), f[label].astype(str))
    ax.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel or value)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return fig


def distribution(frame: pd.DataFrame, value: str, group: str, title: str, xlabel: str = "", log: bool = True):
    """Overlaid histograms of ``value`` per group (e.g. customer lifetime value per segment)."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(8, 3.8))
    v = frame[value].clip(lower=0)
    top = float(v.quantile(0.99)) or 1.0
    bins = np.geomspace(max(float(v[v > 0].min()), top / 1e4), top, 40) if log and (v > 0).any() else 40
    for name, part in frame.groupby(group):
        ax.hist(part[value].clip(upper=top), bins=bins, histtype="step", linewidth=1.6, label=str(name))
    if log:
        ax.set_xscale("log")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel(xlabel or value)
    ax.set_ylabel("customers")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def fan(
    history: pd.Series, quantiles: pd.DataFrame, title: str, ylabel: str = "", target: float | None = None
):
    """History as a line and the forecast as a P10-P90 band with its median (columns p10, p50, p90)."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    hx = history.index.to_timestamp() if hasattr(history.index, "to_timestamp") else history.index
    ax.plot(hx, history.to_numpy(), color="#333333", linewidth=1.6, label="actual")
    fx = pd.PeriodIndex(quantiles["period"]).to_timestamp()
    ax.fill_between(fx, quantiles["p10"], quantiles["p90"], color="#9dbad3", alpha=0.6, label="P10-P90")
    ax.plot(fx, quantiles["p50"], color="#2f6f9f", linewidth=1.8, label="median forecast")
    if target is not None:
        ax.axhline(target, color="#c0504d", linestyle="--", linewidth=1, label="target per period")
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(_thousands)
    ax.grid(alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig
