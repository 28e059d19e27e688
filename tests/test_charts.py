"""Funnel charts draw a one-phase funnel (Olist) and a one-channel breakdown (Maven) without warnings."""

import warnings

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from omnimodel import charts  # noqa: E402


def test_single_row_charts_draw_without_warnings():
    conversion = pd.DataFrame(
        {"stage": ["mql"], "mean": [0.12], "p05": [0.10], "p95": [0.14], "observed_rate": [0.11]}
    )
    groups = pd.DataFrame({"source_channel": ["direct"], "p10": [80.0], "p50": [100.0], "p90": [130.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.conversion_intervals(conversion)
        assert fig.axes[0].get_yticklabels()[0].get_text() == "mql"
        fig = charts.group_intervals(groups, "source_channel", "By source channel")
        assert fig.axes[0].patches[0].get_width() == 100.0
