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


def test_a_channel_keeps_its_colour_whichever_channels_a_chart_shows():
    from omnimodel.charts.style import PALETTE, colour_for, use_channels

    use_channels(["webshop", "Filiale", "B2B portal", "webshop"])
    assert colour_for("B2B portal") == PALETTE[0] and colour_for("webshop") == PALETTE[2]
    frame = pd.DataFrame(
        {"month": [1, 2, 1, 2], "channel": ["webshop"] * 2 + ["Filiale"] * 2, "revenue": [1.0] * 4}
    )
    only_web = charts.lines_by_group(frame[frame["channel"] == "webshop"], "month", "revenue", "channel", "t")
    both = charts.lines_by_group(frame, "month", "revenue", "channel", "t")
    colour = {line.get_label(): line.get_color() for line in both.axes[0].get_lines()}
    assert only_web.axes[0].get_lines()[0].get_color() == colour["webshop"] == PALETTE[2]
    assert colour_for("a channel not registered") not in (PALETTE[0], PALETTE[1], PALETTE[2])


def test_money_and_percent_for_people():
    from omnimodel.charts import format_money, format_percent

    assert format_money(1_234.4) == "1,234" and format_money(1_850_000) == "1.85 M"
    assert format_percent(0.183) == "18 %" and format_percent(0.1834, 1) == "18.3 %"


def test_tick_labels_tell_close_ticks_apart():
    """A y-axis from 1.6 to 2.4 read "2 2 2 2" with whole numbers; each label is now distinct and exact."""
    import matplotlib.pyplot as plt

    from omnimodel.charts.style import percent_ticks, thousands_ticks

    for low, high, ticks in ((1.6, 2.4, thousands_ticks()), (0.001, 0.012, percent_ticks())):
        fig, ax = plt.subplots()
        ax.set_ylim(low, high)
        ax.yaxis.set_major_formatter(ticks)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(set(labels)) == len(labels) >= 4, labels
        plt.close(fig)
    assert thousands_ticks()(2_500_000) == "2,500,000"


def test_the_forecast_quantile_labels_do_not_overlap_on_a_narrow_forecast():
    import numpy as np

    draws = np.random.default_rng(1).normal(1000.0, 2.0, 4000)  # P10, P50 and P90 a few units apart
    fig = charts.forecast_distribution(draws, "Bookings", target=1001.0)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 4
    overlapping = [(i, j) for i in range(4) for j in range(i + 1, 4) if boxes[i].overlaps(boxes[j])]
    assert overlapping == []
