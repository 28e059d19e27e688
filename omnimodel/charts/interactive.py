"""Charts that show their values on hover in the HTML report, working offline: Vega-Lite through Altair, with
the Vega libraries inlined once per page from vl-convert (never a CDN).

An :class:`Interactive` carries the same chart twice: a PNG (matplotlib, for JupyterLab, the deck and anyone
without scripts) and the Vega-Lite spec; the report export shows the spec (see
``omnimodel.reporting.html.interactive_as_html``), which adds the libraries before the first one.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from omnimodel.charts.style import BLUE, LIGHT_BLUE, RED, colour_for

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: an output of this type is omnimodel's own interactive HTML; its JSON never carries a closing tag from data
MIME = "application/vnd.omnimodel.interactive+html"


def bundle_script() -> str:
    """The Vega, Vega-Lite and vega-embed libraries as one inline script (about 0.9 MB)."""
    import vl_convert as vlc

    bundle = vlc.javascript_bundle()  # type: ignore[call-arg]  # the stub omits the default snippet
    return f"<script data-omnimodel>{bundle}</script>"


def embed(spec: dict[str, Any], expose: str | None = None) -> str:
    """A chart's HTML: its element and the call that draws it as SVG (the libraries come once per page)."""
    text = json.dumps(spec, sort_keys=True).replace("</", "<\\/")  # data never ends the script
    element = "om-chart-" + hashlib.sha256(text.encode()).hexdigest()[:12]
    keep = f" window.{expose} = r.view;" if expose else ""
    return (
        f'<div id="{element}" class="om-chart"></div><script data-omnimodel>'
        f"vegaEmbed('#{element}', {text}, {{actions: false, renderer: 'svg'}})"
        f".then(r => {{{keep}}}).catch(console.error);</script>"
    )


class Interactive:
    """A chart as a PNG for notebooks and decks and as hover-able Vega-Lite in the report."""

    def __init__(self, chart: Any, figure: Figure | None = None, title: str = "chart"):
        self.chart, self.title = chart, title
        self.png: bytes | None = None
        if figure is not None:
            import matplotlib.pyplot as plt

            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
            plt.close(figure)  # shown once, through this object
            self.png = buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        bundle: dict[str, Any] = {MIME: embed(self.chart.to_dict()), "text/plain": self.title}
        if self.png is not None:
            bundle["image/png"] = base64.b64encode(self.png).decode()
        return bundle


def _colours(names) -> Any:
    import altair as alt

    names = [str(n) for n in names]
    return alt.Scale(domain=names, range=[colour_for(n) for n in names])


def lines_by_group(
    frame: pd.DataFrame, x: str, y: str, group: str, title: str, ylabel: str | None = None
) -> Interactive:
    """One line per group over time, each point's value on hover; the PNG is :func:`charts.lines_by_group`."""
    import altair as alt

    from omnimodel.charts.general import lines_by_group as png

    data = frame.groupby([x, group], as_index=False)[y].sum()
    data[group] = data[group].astype(str)
    when = f"{x}:T" if pd.api.types.is_datetime64_any_dtype(data[x]) else f"{x}:Q"
    line = alt.Chart(data).mark_line(point=True, strokeWidth=2).encode(
        alt.X(when, title=None),
        alt.Y(f"{y}:Q", title=ylabel or y, axis=alt.Axis(format="~s")),
        alt.Color(f"{group}:N", scale=_colours(sorted(data[group].unique())), title=None),
        tooltip=[alt.Tooltip(f"{group}:N"), alt.Tooltip(when),
                 alt.Tooltip(f"{y}:Q", format=",.0f", title=ylabel or y)],
    ).properties(width=760, height=300, title=title)  # fmt: skip
    return Interactive(line, png(frame, x, y, group, title, ylabel), title)


def targets_vs_forecast(table: pd.DataFrame, label: str, title: str, xlabel: str = "revenue") -> Interactive:
    """The forecast's P10-P90 and median against the target per row, the figures and P(hit) on hover; the PNG
    is :func:`charts.targets_vs_forecast`."""
    import altair as alt

    from omnimodel.charts.general import targets_vs_forecast as png

    cols = [label, "forecast_p10", "forecast_p50", "forecast_p90", "target", "p_hit"]
    data = table[cols].copy()
    data[label] = data[label].astype(str)
    tips = [alt.Tooltip(f"{label}:N", title=label), alt.Tooltip("target:Q", format=",.0f"),
            alt.Tooltip("forecast_p50:Q", title="forecast P50", format=",.0f"),
            alt.Tooltip("forecast_p10:Q", title="P10", format=",.0f"), alt.Tooltip("forecast_p90:Q", title="P90", format=",.0f"),
            alt.Tooltip("p_hit:Q", title="chance to reach the target", format=".0%")]  # fmt: skip
    y = alt.Y(f"{label}:N", title=None, sort=list(data[label]))
    base = alt.Chart(data).encode(y=y, tooltip=tips)
    chart = (
        base.mark_bar(color=LIGHT_BLUE, height=10).encode(alt.X("forecast_p10:Q", title=xlabel, axis=alt.Axis(format="~s")), x2="forecast_p90:Q")
        + base.mark_point(color=BLUE, filled=True, size=60).encode(x="forecast_p50:Q")
        + base.mark_tick(color=RED, thickness=3, size=20).encode(x="target:Q")
        + base.mark_text(align="left", dx=8, fontSize=11).encode(
            x="forecast_p90:Q", text=alt.Text("p_hit:Q", format=".0%")
        )
    ).properties(width=620, height=max(120, 32 * len(data)), title=title)  # fmt: skip
    return Interactive(chart, png(table, label, title, xlabel), title)


def group_intervals(frame: pd.DataFrame, label: str, title: str) -> Interactive:
    """P50 bar per group with its P10-P90 range, the figures on hover; the PNG is :func:`charts.group_intervals`."""
    import altair as alt

    from omnimodel.charts.pipeline import group_intervals as png

    data = frame[[label, "p10", "p50", "p90"]].sort_values("p50", ascending=False).copy()
    data[label] = data[label].astype(str)
    tips = [alt.Tooltip(f"{label}:N", title=label.replace("_", " "))] + [
        alt.Tooltip(f"{c}:Q", title=c.upper(), format=",.0f") for c in ("p50", "p10", "p90")
    ]
    base = alt.Chart(data).encode(alt.Y(f"{label}:N", title=None, sort=list(data[label])), tooltip=tips)
    chart = (
        base.mark_bar(color=BLUE, opacity=0.8).encode(alt.X("p50:Q", title="P50 with P10-P90", axis=alt.Axis(format="~s")))
        + base.mark_rule(color="black").encode(x="p10:Q", x2="p90:Q")
    ).properties(width=620, height=max(120, 30 * len(data)), title=title)  # fmt: skip
    return Interactive(chart, png(frame, label, title), title)
