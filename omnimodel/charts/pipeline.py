"""Pipeline charts (notebook 03): funnel, conversion with intervals, forecast distribution, calibration, waterfall."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from omnimodel.charts.style import BLUE, GREEN, GREY, RED, format_chance, percent_ticks, thousands_ticks
from omnimodel.charts.style import tidy as _tidy

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def funnel_chart(conv: pd.DataFrame, title: str = "Deals entering each phase") -> Figure:
    """Horizontal funnel: deals that entered each phase, with the phase conversion written beside."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(conv) + 1.2))
    y = np.arange(len(conv))[::-1]
    width = conv["entered"].to_numpy(float)
    ax.barh(y, width, left=(width.max() - width) / 2, color=BLUE)
    for yi, (_, row) in zip(y, conv.iterrows(), strict=True):
        rate = "" if pd.isna(row["conversion"]) else f"  {row['conversion']:.0%} advance"
        ax.text(width.max() * 1.02, yi, f"{row['entered']:,} entered{rate}", va="center", fontsize=9)
    ax.set_yticks(y, conv["stage"])
    ax.set_xticks([])
    ax.set_xlim(0, width.max() * 1.6)
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def conversion_intervals(
    stage_conv: pd.DataFrame, title: str = "Advance probability by phase (90 % interval)"
) -> Figure:
    """Model estimate with its 90 % interval per phase, and the raw observed rate as a dot."""
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(stage_conv) + 1.5))
    y = np.arange(len(stage_conv))[::-1]
    mean, low, high = (stage_conv[c].to_numpy(float) for c in ("mean", "p05", "p95"))
    ax.errorbar(  # arrays, not Series: matplotlib warns on a one-phase funnel's single-element Series
        mean,
        y,
        xerr=[mean - low, high - mean],
        fmt="o",
        color=BLUE,
        capsize=4,
        label="model (pooled)",
    )
    ax.scatter(stage_conv["observed_rate"], y, color=GREY, marker="x", label="observed", zorder=3)
    ax.set_yticks(y, stage_conv["stage"])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(percent_ticks())
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def forecast_distribution(total: np.ndarray, title: str, target: float | None = None) -> Figure:
    """Distribution of forecast bookings with P10, P50, P90 (and the target, when given)."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.hist(total, bins=50, color=BLUE, alpha=0.8)
    top = ax.get_ylim()[1]
    # the labels one under the other: P10, P50 and P90 lie close together on a narrow forecast
    for q, style, height in ((0.1, ":", 0.97), (0.5, "-", 0.86), (0.9, ":", 0.75)):
        v = np.quantile(total, q)
        ax.axvline(v, color="black", linestyle=style, linewidth=1)
        ax.text(v, top * height, f" P{int(q * 100)} {v:,.0f}", fontsize=8, va="top",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})  # fmt: skip
    if target is not None:
        ax.axvline(target, color=RED, linewidth=2)
        ax.text(
            target,
            top * 0.55,
            f" target {target:,.0f}\n P(hit) {format_chance((total >= target).mean())}",
            color=RED,
            fontsize=9,
        )
    ax.xaxis.set_major_formatter(thousands_ticks())
    ax.set_yticks([])
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def group_intervals(frame: pd.DataFrame, label: str, title: str) -> Figure:
    """P50 bar per group with its P10-P90 range."""
    f = frame.sort_values("p50")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(f) + 1.3))
    y = np.arange(len(f))
    p10, p50, p90 = (f[c].to_numpy(float) for c in ("p10", "p50", "p90"))  # arrays: see conversion_intervals
    ax.barh(y, p50, color=BLUE, alpha=0.8)
    ax.errorbar(p50, y, xerr=[p50 - p10, p90 - p50], fmt="none", color="black", capsize=3)
    ax.set_yticks(y, f[label].astype(str))
    ax.xaxis.set_major_formatter(thousands_ticks())
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def reliability_diagram(
    rel: pd.DataFrame, title: str = "Calibration of win probabilities (backtest)"
) -> Figure:
    """Predicted against observed win rate per probability bin, one line per method."""
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color=GREY, linestyle="--", linewidth=1, label="perfect")
    for method, part in rel.groupby("method", sort=False):
        ax.plot(part["predicted"], part["observed"], marker="o", label=method)
    ax.set_xlabel("predicted win probability")
    ax.set_ylabel("observed win rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8)
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def waterfall_chart(steps: pd.DataFrame, title: str = "Pipeline value: how it moved") -> Figure:
    """Start, new, won, lost, end as a waterfall; advanced and slipped shown as separate grey bars."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    level, tops = 0.0, []
    for i, row in steps.reset_index(drop=True).iterrows():
        if row["step"] in ("start", "end"):
            ax.bar(i, row["value"], color=BLUE)
            level = row["value"]
            tops.append(level)
        elif row["counts_in_total"]:
            ax.bar(i, row["value"], bottom=level, color=GREEN if row["value"] >= 0 else RED)
            tops.append(max(level, level + row["value"]))
            level += row["value"]
        else:
            ax.bar(i, row["value"], color=GREY)
            tops.append(row["value"])
        if row["deals"]:  # a step without deals (a refit) gets no count
            ax.text(i, tops[-1], f"{row['deals']:,} deals", ha="center", va="bottom", fontsize=8)
    ax.set_ylim(top=max(tops) * 1.15)  # room for the deal counts below the title
    ax.set_xticks(range(len(steps)), steps["step"])
    ax.yaxis.set_major_formatter(thousands_ticks())
    _tidy(ax, title)
    fig.tight_layout()
    return fig


def forecast_change_chart(
    parts: pd.DataFrame, before: float, after: float, start: str, end: str, title: str
) -> Figure:
    """Why a forecast changed, as a waterfall: the earlier expected bookings (labelled ``start``), each part
    (``part``, ``change``, ``deals``) that moved them, the later ones (``end``); parts that round to 0 left out."""
    parts = parts[parts["change"].round(0) != 0]
    steps = pd.concat(
        [
            pd.DataFrame([{"step": "start", "deals": 0, "value": before}]),
            pd.DataFrame({"step": parts["part"], "deals": parts["deals"], "value": parts["change"]}),
            pd.DataFrame([{"step": "end", "deals": 0, "value": after}]),
        ],
        ignore_index=True,
    )
    steps["counts_in_total"] = True
    fig = waterfall_chart(steps, title)
    fig.set_size_inches(max(8.0, 1.0 * len(steps)), 4.0)
    labels = [textwrap.fill(x, 11) for x in [start, *parts["part"], end]]  # side by side, readable
    fig.axes[0].set_xticks(range(len(steps)), labels, fontsize=8)
    fig.tight_layout()
    return fig


def forecast_convergence(scored: pd.DataFrame, title: str = "How early the forecast was right") -> Figure:
    """Each closed period's recorded forecasts against days before its end: the P50 and the P10-P90 range as a
    share of what the period booked (0 % = right on), one colour per period (``period``, ``days_ahead``,
    ``p10``, ``p50``, ``p90``, ``actual``)."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.axhline(0, color=GREY, linewidth=1)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (period, part) in enumerate(scored.sort_values("days_ahead").groupby("period", sort=True)):
        c = colours[i % len(colours)]
        rel = {q: part[q] / part["actual"] - 1 for q in ("p10", "p50", "p90")}
        ax.fill_between(part["days_ahead"], rel["p10"], rel["p90"], color=c, alpha=0.15, linewidth=0)
        ax.plot(part["days_ahead"], rel["p50"], marker="o", color=c, label=f"{period} (P50, P10-P90 shaded)")
    ax.invert_xaxis()  # time runs to the right: the period's end at 0
    ax.set_xlabel("days before the period's end")
    ax.set_ylabel("forecast against actual")
    ax.yaxis.set_major_formatter(percent_ticks())
    ax.legend(frameon=False, fontsize=8)
    _tidy(ax, title)
    fig.tight_layout()
    return fig
