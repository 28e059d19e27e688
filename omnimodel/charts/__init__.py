"""One style for every chart: a stable colour per channel, money and percent formatters, one fan chart.

Charts serve every layer and import none of them: each function takes a tidy frame (or draws) and returns a
matplotlib Figure; :mod:`omnimodel.charts.interactive` gives the same charts with their values on hover in
the HTML report.
"""

from omnimodel.charts import interactive
from omnimodel.charts.general import (
    bars,
    bridge,
    distribution,
    fan,
    heatmap,
    lines_by_group,
    ranking,
    targets_vs_forecast,
)
from omnimodel.charts.pipeline import (
    conversion_intervals,
    forecast_change_chart,
    forecast_convergence,
    forecast_distribution,
    funnel_chart,
    group_intervals,
    reliability_diagram,
    waterfall_chart,
)
from omnimodel.charts.style import colour_for, format_money, format_percent, use_channels

__all__ = [
    "bars",
    "bridge",
    "colour_for",
    "conversion_intervals",
    "distribution",
    "fan",
    "forecast_change_chart",
    "forecast_convergence",
    "forecast_distribution",
    "format_money",
    "format_percent",
    "funnel_chart",
    "group_intervals",
    "heatmap",
    "interactive",
    "lines_by_group",
    "ranking",
    "reliability_diagram",
    "targets_vs_forecast",
    "use_channels",
    "waterfall_chart",
]
