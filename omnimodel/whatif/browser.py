"""The what-if panel in the report itself: sliders that recompute the target, the forecast, P(hit) and profit in
the reader's browser, without a kernel, a server or a network (Vega-Lite through Altair, its JavaScript inlined
from vl-convert).

The page carries, per forecast draw and per source of revenue (the baseline, and pipeline deals by the phase they
are in today), four sums over the channel x region cells: revenue, revenue after returns, that at cost of goods,
and cost to serve. The company's revenue and profit under any price, margin, cost-to-serve, growth or conversion
lever are linear in those sums (see :func:`omnimodel.targets.scenario.evaluate`), so the browser reproduces
``evaluate``'s company figures exactly on the same draws. Channel shifts move targets between channels, never the
company's total: they stay in the live panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.charts.interactive import MIME, embed
from omnimodel.targets.scenario import PlanInputs, Scenario, cell_rates, profit_rates, revenue_targets

if TYPE_CHECKING:
    import altair as alt

#: (parameter, label, low, high, step); the growth goal and phase uplifts are added per scenario
LEVERS = (
    ("price_change", "price change", -0.10, 0.10, 0.005),
    ("price_elasticity", "price elasticity", -3.0, 0.0, 0.1),
    ("margin_change", "margin (points)", -0.05, 0.05, 0.005),
    ("cost_change", "cost to serve (points)", -0.05, 0.05, 0.005),
    ("growth_change", "growth goal (points)", -0.20, 0.20, 0.01),
)


def draw_sums(inputs: PlanInputs, start: Scenario) -> pd.DataFrame:
    """Per draw: for the baseline (``b``) and each pipeline phase (``p0``, ``p1``, ...; the last is deals not
    created yet), revenue, revenue after returns, that at cost of goods, and cost to serve, summed over the cells
    (columns ``b_0`` ... ``b_3``, ``p0_0`` ...)."""
    margin, returns, cost = cell_rates(inputs, start)
    kept = 1 - returns
    weights = np.stack([np.ones_like(margin), kept, kept * (1 - margin), cost])  # (4, cells)
    sources = [("b", inputs.baseline)]
    if inputs.pipeline_mode == "added":
        sources += [(f"p{k}", inputs.pipeline[k]) for k in range(len(inputs.phases))]
    return pd.DataFrame({f"{name}_{j}": weights[j] @ draws for name, draws in sources for j in range(4)})


@dataclass(frozen=True)
class Constants:
    """The company's targets under the starting goals (growth change 0) and their change per unit of growth."""

    target: float
    target_slope: float
    profit_target: float
    profit_target_slope: float


def constants(inputs: PlanInputs, start: Scenario) -> Constants:
    """Targets are linear in the growth goal's change: their value at zero and their slope."""
    _, planned = profit_rates(inputs, start)
    base = revenue_targets(inputs, start.replace(growth_change=0.0))
    slope = revenue_targets(inputs, start.replace(growth_change=1.0)) - base
    return Constants(float(base.sum()), float(slope.sum()), float(base @ planned), float(slope @ planned))


def _expressions(inputs: PlanInputs, sources: list[str], k: Constants) -> dict[str, str]:
    """Vega expressions of the company's revenue and profit per draw, mirroring ``evaluate``."""
    open_phases = len(inputs.phases) - 1 if inputs.phases else 0
    factor = {"b": "1"}
    for name in sources[1:]:
        phase = int(name[1:])
        first = 0 if phase == open_phases else phase  # deals not created yet pass every phase
        factor[name] = "*".join(f"(1+u{j})" for j in range(first, open_phases)) or "1"
    revenue = " + ".join(f"{factor[s]}*datum.{s}_0" for s in sources)
    profit = " + ".join(
        f"{factor[s]}*(datum.{s}_1 - (datum.{s}_2 - margin_change*datum.{s}_1)/(1+price_change) - datum.{s}_3"
        f" - cost_change*datum.{s}_0)"
        for s in sources
    )
    price = "pow(1+price_change, 1+price_elasticity)"
    return {
        "revenue": f"{price}*({revenue})",
        "profit": f"{price}*({profit})",
        "target": f"{k.target!r} + growth_change*{k.target_slope!r}",
        "profit_target": f"{k.profit_target!r} + growth_change*{k.profit_target_slope!r}",
    }


def chart(inputs: PlanInputs, start: Scenario, currency: str | None = None) -> alt.LayerChart:
    """The Altair chart: the forecast's draws against the target, the odds and medians, and the sliders."""
    import altair as alt

    from omnimodel.charts.style import BLUE, RED

    sums = draw_sums(inputs, start)
    sources = sorted({c.split("_")[0] for c in sums.columns}, key=lambda s: (s != "b", s))
    params = [
        alt.param(name=name, value=float(getattr(start, name)),
                  bind=alt.binding_range(min=lo, max=hi, step=step, name=f"{label} "))
        for name, label, lo, hi, step in LEVERS
    ]  # fmt: skip
    for j, phase in enumerate(inputs.phases[:-1] if inputs.pipeline_mode == "added" else ()):
        value = float(start.conversion_uplift.get(phase, 0.0))
        params.append(alt.param(name=f"u{j}", value=value,
                                bind=alt.binding_range(min=0, max=0.3, step=0.01, name=f"conversion uplift: {phase} ")))  # fmt: skip
    expr = _expressions(inputs, sources, constants(inputs, start))
    unit = f" ({currency})" if currency else ""
    base = (
        alt.Chart(alt.Data(values=sums.round(2).to_dict("records")))
        .transform_calculate(**expr)
        .transform_calculate(
            hit="datum.revenue >= datum.target ? 1 : 0",
            hit_profit="datum.profit >= datum.profit_target ? 1 : 0",
        )  # fmt: skip
    )
    # Bins made explicitly: a binned encoding layered with the target's rule drew no bars (Vega-Lite 6.4).
    bars = (
        base.transform_bin("low", "revenue", bin=alt.Bin(maxbins=40))
        .transform_aggregate(draws="count()", groupby=["low", "low_end"])
        .mark_bar(color=BLUE, opacity=0.75)
        .encode(
            alt.X("low:Q", bin="binned", title=f"revenue {inputs.year}{unit}", axis=alt.Axis(format="~s")),
            alt.X2("low_end:Q"),
            alt.Y("draws:Q", title="forecast draws"),
            tooltip=[alt.Tooltip("low:Q", title="from", format=",.0f"),
                     alt.Tooltip("low_end:Q", title="to", format=",.0f"), alt.Tooltip("draws:Q", title="draws")],
        )
    )  # fmt: skip
    rule = (
        base.transform_aggregate(target="mean(target)")
        .mark_rule(color=RED, size=3)
        .encode(x="target:Q", tooltip=[alt.Tooltip("target:Q", title="target", format=",.0f")])
    )
    figures = (
        base.transform_joinaggregate(p_hit="mean(hit)", p_hit_profit="mean(hit_profit)", p50="median(revenue)",
                                     profit50="median(profit)", target="mean(target)", profit_target="mean(profit_target)")
        .transform_quantile("revenue", probs=[0.1, 0.9], groupby=["p_hit", "p_hit_profit", "p50", "profit50", "target", "profit_target"])
        .transform_pivot("prob", value="value", groupby=["p_hit", "p_hit_profit", "p50", "profit50", "target", "profit_target"])
    )  # fmt: skip
    lines = {
        "chance": "'Chance to reach the revenue target: ' + replace(format(datum.p_hit, '.0%'), '%', ' %')",
        "target": "'Revenue target: ' + format(datum.target, ',.0f')",
        "forecast": "'Forecast P50: ' + format(datum.p50, ',.0f') + ' (P10-P90 ' + format(datum['0.1'], ',.0f')"
        " + ' to ' + format(datum['0.9'], ',.0f') + ')'",
        "profit": "'Profit P50: ' + format(datum.profit50, ',.0f') + ' against ' + format(datum.profit_target, ',.0f')"
        " + '; chance ' + replace(format(datum.p_hit_profit, '.0%'), '%', ' %')",
    }
    text = alt.layer(*[
        figures.transform_calculate(line=code).mark_text(align="left", fontSize=15 if i == 0 else 13,
                                                         fontWeight="bold" if i == 0 else "normal", dy=i * 26 - 40)
        .encode(text="line:N", description=alt.value(key))
        for i, (key, code) in enumerate(lines.items())
    ]).properties(width=460, height=120)  # fmt: skip
    return (
        alt.vconcat(text, (bars + rule).properties(width=640, height=240), spacing=4)
        .add_params(*params)
        .properties(title=f"What if: the {inputs.year} company plan under your levers{unit}")
        .configure_view(stroke=None)
    )


def page_fragment(inputs: PlanInputs, start: Scenario, currency: str | None = None) -> str:
    """The panel as an HTML fragment: the spec, drawn with the sliders above the chart (the report export adds
    the Vega libraries once per page)."""
    css = (
        "#om-whatif .vega-embed{display:flex;flex-direction:column} #om-whatif .vega-bindings{order:-1;"
        "display:grid;grid-template-columns:repeat(2,minmax(280px,1fr));gap:4px 24px;margin-bottom:10px}"
        " #om-whatif .vega-bind-name{display:inline-block;min-width:190px}"
    )
    spec = chart(inputs, start, currency).to_dict()
    return f'<style>{css}</style><div id="om-whatif" class="om-whatif">{embed(spec, expose="omWhatIf")}</div>'


class BrowserPanel:
    """The report's what-if panel: shows in the HTML report as live sliders (a notebook shows one line; its live
    panel is :class:`omnimodel.whatif.widgets.WhatIfPanel`)."""

    def __init__(self, inputs: PlanInputs, start: Scenario, currency: str | None = None):
        self.inputs, self.start, self.currency = inputs, start, currency

    def _repr_mimebundle_(self, include=None, exclude=None):
        line = "The report shows the what-if sliders here; in JupyterLab use the panel above."
        return {MIME: page_fragment(self.inputs, self.start, self.currency), "text/plain": line}
