"""The what-if panel: ipywidgets sliders and dropdowns wired to :func:`omnimodel.targets.scenario.evaluate`.

Every change re-evaluates the scenario on the stored draws (no refit) and redraws one chart (forecast
P10-P90 against the target, with P(hit)) and one table. The chart is a PNG in an ``Image`` widget, so it
shows the same in JupyterLab, Voila and the HTML report.
"""

from __future__ import annotations

import html
import io

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from omnimodel import charts
from omnimodel.targets.scenario import Outcome, PlanInputs, Scenario, evaluate

SHOWN = [
    "node",
    "target",
    "forecast_p50",
    "forecast_p10",
    "forecast_p90",
    "p_hit",
    "profit_target",
    "profit_p50",
    "p_hit_profit",
]


def _wide() -> dict:
    """Every control's label in one column, wide enough for the longest ("conversion uplift: negotiation")."""
    return {"style": {"description_width": "235px"}, "layout": widgets.Layout(width="480px")}


def _slider(description: str, value: float, low: float, high: float, step: float, fmt: str = ".1%"):
    return widgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        readout_format=fmt,
        continuous_update=False,  # evaluate when the slider is let go, not on every pixel
        **_wide(),
    )


class WhatIfPanel:
    """Sliders for the levers of a :class:`Scenario` over fixed forecast draws, with a live chart and table.

    Examples
    --------
    >>> panel = WhatIfPanel(inputs, Scenario.from_goals(goals))  # doctest: +SKIP
    >>> panel  # doctest: +SKIP   (shows the panel in a notebook)
    >>> panel.controls["price_change"].value = 0.03  # doctest: +SKIP
    >>> panel.outcome.level("channel")  # doctest: +SKIP
    """

    def __init__(self, inputs: PlanInputs, scenario: Scenario):
        self.inputs, self.start = inputs, scenario
        channels = sorted(inputs.cells["channel"].unique())
        self.controls: dict[str, widgets.Widget] = {
            "level": widgets.Dropdown(
                options=["channel", "region", "cell", "total"],
                value="channel",
                description="show by",
                **_wide(),
            ),
            "growth_change": _slider("growth goal (+/- points)", 0.0, -0.2, 0.2, 0.01),
            "shift_channel": widgets.Dropdown(options=channels, description="shift share to", **_wide()),
            "shift": _slider("channel shift (points)", 0.0, -0.05, 0.05, 0.005),
            "price_change": _slider("price change", 0.0, -0.1, 0.1, 0.005),
            "price_elasticity": _slider("price elasticity", scenario.price_elasticity, -3.0, 0.0, 0.1, ".1f"),
            "margin_change": _slider("margin (+/- points)", 0.0, -0.05, 0.05, 0.005),
            "cost_change": _slider("cost to serve (+/- points)", 0.0, -0.05, 0.05, 0.005),
        }
        for phase in inputs.phases[:-1]:
            self.controls[f"uplift:{phase}"] = _slider(f"conversion uplift: {phase}", 0.0, 0.0, 0.3, 0.01)
        self.chart = widgets.Image(format="png", layout=widgets.Layout(width="640px"))
        self.headline = widgets.HTML()
        self.table = widgets.HTML()
        for control in self.controls.values():
            control.observe(lambda _: self.update(), names="value")
        left = widgets.VBox(list(self.controls.values()), layout=widgets.Layout(min_width="500px"))
        self.widget = widgets.VBox(
            [widgets.HBox([left, widgets.VBox([self.headline, self.chart])]), self.table],
            layout=widgets.Layout(border="1px solid #ddd", padding="8px"),
        )
        self.widget.add_class("omnimodel-whatif")
        self.outcome: Outcome | None = None
        self.update()

    @property
    def scenario(self) -> Scenario:
        """The scenario the controls show: the starting one with the levers applied."""
        c = self.controls
        shift = dict(self.start.channel_shift)
        if c["shift"].value:
            # Share points go to the chosen channel and come from the others in proportion to their size.
            cells = self.inputs.cells
            size = cells.groupby("channel")["last_year"].sum()
            others = size.drop(c["shift_channel"].value)
            for channel, value in (others / others.sum()).items():
                shift[channel] = shift.get(channel, 0.0) - c["shift"].value * value
            shift[c["shift_channel"].value] = shift.get(c["shift_channel"].value, 0.0) + c["shift"].value
        uplift = {k.split(":", 1)[1]: w.value for k, w in c.items() if k.startswith("uplift:") and w.value}
        return self.start.replace(
            channel_shift=shift,
            conversion_uplift={**self.start.conversion_uplift, **uplift},
            **{
                k: c[k].value
                for k in ("growth_change", "price_change", "price_elasticity", "margin_change", "cost_change")
            },
        )

    def update(self) -> Outcome:
        """Evaluate the current scenario and redraw the chart, headline and table."""
        self.outcome = evaluate(self.inputs, self.scenario)
        level = self.controls["level"].value
        shown = self.outcome.level(level)
        total = self.outcome.level("total").iloc[0]
        self.headline.value = (
            f"<b>{self.inputs.year} company target {total['target']:,.0f}</b>: forecast median "
            f"{total['forecast_p50']:,.0f}, P(hit) <b>{total['p_hit']:.0%}</b>; "
            + (
                f"profit target {total['profit_target']:,.0f}, P(hit) <b>{total['p_hit_profit']:.0%}</b>"
                if total["profit_target"] == total["profit_target"]  # not NaN: the data has unit costs
                else "no profit target (no unit costs in the data)"
            )
        )
        # A bare Figure (no pyplot) draws off-screen and leaves the notebook's own plotting alone.
        fig = Figure(figsize=(8, max(2.5, 0.45 * len(shown) + 1)))
        title = f"Revenue {self.inputs.year}: forecast against target, by {level}"
        charts.targets_vs_forecast(shown, "node", title, ax=fig.subplots())
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=72)
        self.chart.value = buffer.getvalue()
        self.table.value = as_html(shown)
        return self.outcome

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def as_html(table: pd.DataFrame) -> str:
    """The scenario table as escaped HTML: money without decimals, odds in percent."""
    t = table[SHOWN].copy()
    t["node"] = t["node"].map(html.escape)
    money = ["target", "forecast_p50", "forecast_p10", "forecast_p90", "profit_target", "profit_p50"]
    formats = {c: "{:,.0f}".format for c in money} | {c: "{:.0%}".format for c in ("p_hit", "p_hit_profit")}
    words = {"node": "", "target": "Target", "forecast_p50": "Forecast P50", "forecast_p10": "P10",
             "forecast_p90": "P90", "p_hit": "Chance to reach it", "profit_target": "Profit target",
             "profit_p50": "Profit P50", "p_hit_profit": "Chance to reach the profit target"}  # fmt: skip
    return t.rename(columns=words).to_html(
        index=False, escape=False, formatters={words[k]: f for k, f in formats.items()}, na_rep="n/a",
        classes="omnimodel-whatif-table",
    )  # fmt: skip
