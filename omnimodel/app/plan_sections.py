"""Notebooks 04's and 05's sections, one call each: what the channel plan (:class:`~omnimodel.app.plan.ChannelPlan`)
shows under each heading. A section about targets shows nothing on a baseline-only plan, which says so once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnimodel import charts
from omnimodel.app.plan_results import failed_sentence
from omnimodel.app.show import Shown

if TYPE_CHECKING:
    from omnimodel.app.plan import ChannelPlan

MONEY = [
    "last_year",
    "target",
    "forecast_p10",
    "forecast_p50",
    "forecast_p90",
    "gap_p50",
    "profit_target",
    "profit_p50",
]


def data_used(plan: ChannelPlan) -> Shown:
    """What the plan is made of: the workspace's inventory (or the series set), and whether it plans targets."""
    from omnimodel.data import overview

    said = None
    if not plan.targets_apply:
        why = plan.no_targets or "targets need a workspace, goals, levels channel,region and monthly periods"
        said = f"Baseline forecasts only: {why}."
    if plan.workspace is None:
        return Shown(said, f"Series set: {plan.series_set} ({plan.series_folder})")
    return Shown(said, overview.workspace_summary(plan.workspace))


def series(plan: ChannelPlan) -> Shown:
    """How many bottom series over which periods."""
    h = plan.hierarchy
    history = h.all_series()
    return Shown(
        f"{h.bottom.shape[1]} bottom series ({' x '.join(h.levels)}), {history.index[0]} to {history.index[-1]}"
    )


def backtest(plan: ChannelPlan) -> Shown:
    """Which model for which series: the chosen models against seasonal naive on the scoring origins."""
    bt = plan.backtest
    o = bt.overall
    overall = (
        f"Mean MASE on the scoring origins: chosen models {o['mase_model']:.3f}, seasonal naive "
        f"{o['mase_seasonal_naive']:.3f}; {o['series_beating_seasonal_naive']} of {o['series']} series beat "
        f"seasonal naive (model chosen per {plan.choose_by} on {plan.origins[0]} origins, scored on "
        f"{plan.origins[1]})."
    )
    stopped = None
    if o["fits_not_converged"]:
        stopped = (
            f"{o['fits_not_converged']:,} of the {o['fits']:,} backtest fits stopped at the optimiser's limit of 1,000 "
            'iterations before its tolerance; their forecasts are scored like the rest (column "Fits not converged").'
        )
    note = plan.shared.as_text() if plan.shared is not None else None
    failed = failed_sentence(o["fits_failed"], '"Fits failed"') if o["fits_failed"] else None
    return Shown(note, plan.origins_note, overall, stopped, failed, bt.summary.round(3))


def forecasts(plan: ChannelPlan) -> Shown:
    """A fan chart per top-level series (of the region or channel shown): the last two seasons and the forecast."""
    fc, h = plan.forecast, plan.hierarchy
    q, history, m = fc.quantiles(), h.all_series(), max(h.season_length, 1)
    stopped = None
    if fc.not_converged:
        stopped = (
            f"The model fits of {', '.join(fc.not_converged)} stopped at the optimiser's iteration limit; the "
            "backtest above scored fits like these with the rest."
        )
    fans = [
        charts.fan(
            history[node].iloc[-2 * m :],
            q[q["node"] == node],
            f"{node}: {h.name} per period and forecast",
            h.name,
        )
        for node in fc.nodes_to_show(plan.channel, plan.region)
    ]
    return Shown(stopped, *fans)


def goals(plan: ChannelPlan) -> Shown:
    """The strategy goals the targets come from."""
    if not plan.targets_apply or plan.goals is None:
        return Shown()
    g = plan.goals
    no_returns = plan.workspace is not None and not plan.workspace.has("returns") and not g.return_rate
    return Shown(
        f"Target year {g.year}; pipeline bookings: {g.pipeline}; cells shrink at most {g.max_decline:.0%} in the split",
        "No returns in this workspace: profits are before returns (return rate 0; set return_rate in goals.yaml "
        "to plan with one)."
        if no_returns
        else None,
        g.to_frame(),
    )


def targets(plan: ChannelPlan) -> Shown:
    """Targets top-down against the forecast bottom-up (of the region or channel shown)."""
    if not plan.targets_apply:
        return Shown()
    view = plan.outcome.view(plan.channel, plan.region).drop(columns=["channel", "region"])
    return Shown(view.round({"p_hit": 2, "p_hit_profit": 2, **dict.fromkeys(MONEY, 0)}))


def bridges(plan: ChannelPlan) -> Shown:
    """Revenue and profit from last year to the target, step by step."""
    if not plan.targets_apply:
        return Shown()
    focus = " / ".join(v for v in (plan.channel, plan.region) if v) or "total"  # for the titles
    steps, year = plan.bridge(), plan.year
    assert year is not None
    profit = steps[steps["measure"] == "profit"]
    return Shown(
        charts.bridge(
            steps[steps["measure"] == "revenue"],
            f"{focus}: revenue bridge from {year - 1} to the {year} target",
            "revenue",
        ),
        charts.bridge(profit, f"{focus}: profit bridge from {year - 1} to the {year} target", "profit")
        if profit["value"].notna().all()
        else "No profit bridge: the data has no unit costs, so no profit can be stated.",
    )


def against_targets(plan: ChannelPlan) -> Shown:
    """The forecast against the target by channel and by region, values and chances on hover."""
    if not plan.targets_apply:
        return Shown()
    year = plan.year
    return Shown(
        *(
            charts.interactive.targets_vs_forecast(
                plan.outcome.level(level),
                "node",
                f"Revenue {year} by {level}: bottom-up forecast against the target",
            )
            for level in ("channel", "region")
        )
    )


def split_by_channel(plan: ChannelPlan) -> Shown:
    """Each channel's target split proportionally and optimised for profit."""
    if not plan.targets_apply:
        return Shown()
    rounded = {"target": 0, "profit_proportional": 0, "profit_optimised": 0}
    rounded |= {"margin_rate_proportional": 3, "margin_rate_optimised": 3}
    return Shown(plan.split.channels.round(rounded))


def split_changes(plan: ChannelPlan, n: int = 20) -> Shown:
    """The category x segment cells the optimised split moves most, with the reason for each."""
    if not plan.targets_apply:
        return Shown()
    moved = plan.split.largest_changes(plan.channel, n=n)
    rounded = {
        "last_year": 0,
        "proportional": 0,
        "optimised": 0,
        "change": 0,
        "margin_rate": 3,
        "profit_rate": 3,
    }
    return Shown(moved.round(rounded))


def diagnostics(plan: ChannelPlan) -> Shown:
    """The pipeline model's convergence card, where the plan forecasts a pipeline."""
    if not plan.targets_apply:
        return Shown()
    return Shown(plan.inputs.diagnostics or "No pipeline model: the plan has no open deals to forecast.")


# --- notebook 05: what if -----------------------------------------------------------------------------------


def whatif_plan(plan: ChannelPlan) -> Shown:
    """Where the plan's numbers come from, and what the panel moves; without targets the report ends here and
    says why in one line."""
    from omnimodel.notice import ReportStopped

    if not plan.targets_apply:
        why = plan.no_targets or "the goals (goals.yaml) give none"
        raise ReportStopped(
            f"No what-if: its levers move the targets; {why}",
            fix="report 04 shows the baseline forecasts; targets follow once the orders cover a complete year "
            "and goals.yaml sets the growth"
            if plan.no_targets
            else "give strategy goals (goals.yaml, `omnimodel init` writes one from the workspace)",
        )
    inputs = plan.inputs
    assert plan.shared is not None and plan.goals is not None
    cells = f"{len(inputs.cells)} channel x region cells, {inputs.baseline.shape[1]} draws; pipeline: {plan.goals.pipeline}"
    return Shown(plan.shared.as_text(), cells)


def page_panel(plan: ChannelPlan) -> Any:
    """The sliders in the report page itself: they recompute on the draws the page carries, without a kernel."""
    from omnimodel.whatif.browser import BrowserPanel

    return BrowserPanel(plan.inputs, plan.start, plan.currency)


def panel_as_opened(plan: ChannelPlan) -> Any:
    """The live panel's chart as it opens (a picture)."""
    from IPython.display import Image

    return Image(plan.panel.chart.value)


def scenarios(plan: ChannelPlan) -> Shown:
    """The standard scenarios side by side."""
    rounded = {
        "p_hit": 2,
        "p_hit_profit": 2,
        "target": 0,
        "forecast_p50": 0,
        "profit_target": 0,
        "profit_p50": 0,
    }
    return Shown(plan.scenarios.round(rounded))


def by_channel(plan: ChannelPlan) -> Shown:
    """Each channel's plan under the goals."""
    table = plan.under_goals.level("channel").drop(columns=["level", "channel", "region"])
    return Shown(table.rename(columns={"node": "channel"}))


def whatif_diagnostics(plan: ChannelPlan) -> Shown:
    """The pipeline model's convergence card, or why there is none."""
    return Shown(plan.inputs.diagnostics or "No pipeline model: the plan has no open deals to forecast.")
