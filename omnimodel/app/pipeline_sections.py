"""Notebook 03's sections, one call each: what the pipeline review (:class:`~omnimodel.app.pipeline.PipelineReview`)
shows under each heading, with the one line a section says when its data is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from omnimodel import charts
from omnimodel.app.show import Markdown, Shown
from omnimodel.reporting import tables

if TYPE_CHECKING:
    from omnimodel.app.pipeline import PipelineReview


def _people(review: PipelineReview, frame: pd.DataFrame, show_people: bool) -> pd.DataFrame:
    """People's names only when allowed: otherwise Owner 01, Manager 01, the same in every table."""
    from omnimodel.funnel.rollup import pseudonymise

    return frame if show_people else pseudonymise(frame, review.snapshot.deals)


def _in_unit(review: PipelineReview, frame: pd.DataFrame, name: str = "table") -> Any:
    """A table of forecast quantities in the forecast's unit: counted deals carry no currency."""
    return tables.for_people(frame, None, name=name) if review.measure == "deals" else frame


def process(review: PipelineReview) -> Shown:
    """The sales process: the funnel definition's phases."""
    return Shown(review.definition.to_frame())


def where_it_stands(review: PipelineReview) -> Shown:
    """The measure, the deals entering each phase (chart and table) and the time spent in each."""
    from omnimodel.funnel import metrics

    snapshot = review.snapshot
    conversion = metrics.conversion(snapshot)
    chart = charts.funnel_chart(conversion, f"Deals entering each phase (as of {snapshot.as_of.date()})")
    if review.stage_history:
        return Shown(review.measure_note, chart, conversion, metrics.time_in_phase(snapshot))
    today = (
        review.stages_today.value_counts().rename_axis("stage in the CRM").rename("open deals").reset_index()
    )
    return Shown(
        review.measure_note,
        "No stage history in this workspace (an opportunity list): every deal counts as open from its created "
        "date until it is won or lost, and its chance to win comes from how long deals stay open, not from its "
        "stage. Open deals today by their stage in the CRM:",
        today,
        chart,
        conversion,
        metrics.time_in_phase(snapshot),
    )


def measured_phases(review: PipelineReview) -> Shown:
    """Each measurement point of the funnel definition, computed from the data."""
    from omnimodel.funnel import phases

    return Shown(phases.phases_table(review.snapshot, review.activities, review.workspace.currency()))


def activities(review: PipelineReview) -> Shown:
    """Activity counts per phase and their association with advancing."""
    from omnimodel.funnel import phases

    if review.activities is None:
        return Shown(
            "No activities table in this workspace: activity counts per phase and their association with "
            "advancing need one (deal, type, date, owner)."
        )
    association = phases.activity_association(review.snapshot, review.activities, seed=review.seed)
    return Shown(
        phases.activity_counts(review.snapshot, review.activities),
        Markdown(
            "Deals that advanced out of each phase, with and without each activity in it "
            f"({association.attrs.get('interval', '')} intervals). **This is association, not effect**: an "
            "activity may be done because a deal already looks good."
        ),
        association,
    )


def velocity(review: PipelineReview) -> Shown:
    """The won deals far above the rest, then velocity by segment (medians, which they do not set)."""
    from omnimodel.funnel import metrics

    outliers = metrics.value_outliers(review.snapshot)
    said = None
    if len(outliers):
        said = (
            f"{len(outliers)} won deals lie far above the others and hold "
            f"{outliers['share_of_won_value'].sum():.0%} of the won value; the velocity uses medians, so they do "
            "not set it:"
        )
    table = outliers.head(10) if len(outliers) else None
    by = "segment" if "segment" in review.dimensions else None
    pace = metrics.velocity(review.snapshot, by=by, measure=review.measure)
    window = int(pace["window_days"].max()) if len(pace) else metrics.VELOCITY_WINDOW_DAYS
    how = (
        f"Velocity{' by segment' if by else ''}: deals won per day in the {window} days to {review.snapshot.as_of:%d %b %Y}"
        + (", times their median value" if review.measure == "amount" else "")
        + "; the win rate is of the deals closed in those days."
    )
    return Shown(said, table, how, pace.drop(columns="window_days"))


def slippage(review: PipelineReview) -> Shown:
    """Open deals whose expected close date has passed, and where they pile up."""
    from omnimodel.funnel import metrics

    return Shown(metrics.slippage(review.snapshot), metrics.slippage_by_dimension(review.snapshot))


def waterfall(review: PipelineReview, months: int = 3) -> Shown:
    """How the pipeline's value moved over the last ``months``, in total (chart) and by dimension."""
    from omnimodel.funnel import metrics

    previous = review.snapshot.rewind(review.as_of - pd.DateOffset(months=months))
    steps = metrics.waterfall(previous, review.snapshot)
    chart = charts.waterfall_chart(steps, f"Pipeline value since {previous.as_of.date()}")
    # how each dimension's pipeline value moved (value per step; advanced and slipped do not add)
    return Shown(chart, metrics.waterfall_by_dimension(previous, review.snapshot))


def diagnostics(review: PipelineReview) -> Shown:
    """Where the fit comes from, and its convergence card."""
    from omnimodel.funnel.fits import note

    return Shown(note(review.model), review.model.diagnostics_)


def conversion(review: PipelineReview) -> Shown:
    """The model's chance to advance out of each phase, with its 90 % interval."""
    return Shown(charts.conversion_intervals(review.model.stage_conversion()))


def forecast(review: PipelineReview) -> Shown:
    """The period's forecast against its target: where the target comes from, the distribution, the quantiles
    (with the forecast's data, as the CLI gives it) and the split by source channel."""
    from omnimodel.funnel.measures import skew_note

    fc, goal = review.forecast, review.goal
    distribution = charts.forecast_distribution(
        fc.total, f"Bookings in {fc.period} ({review.measure})", goal.value or None
    )
    by_channel = charts.interactive.group_intervals(
        fc.to_frame("source_channel"), "source_channel", "By source channel: P50 with P10-P90"
    )  # values on hover
    return Shown(goal.as_text(), skew_note(fc.quantiles()), distribution, review.result(), by_channel)


def levels(review: PipelineReview, group: str) -> Shown:
    """Each level of ``group`` (region, segment) against its own target (its bookings a year earlier, or its
    usual period), not the company's."""
    if group not in review.dimensions:
        return Shown(
            f"No {group.replace('_', ' ')} in the opportunity data: the forecast is not split by it."
        )
    return Shown(_in_unit(review, review.by(group), group))


def open_deals(review: PipelineReview, show_people: bool = False, top: int = 25) -> Shown:
    """The open deals with their win probability and forecast category, the most expected value first."""
    from omnimodel.funnel import metrics

    shown = _people(review, review.forecast.deals, show_people)
    shown = shown.drop(columns=[d for d in metrics.DIMENSIONS if d in shown and d not in review.dimensions])
    if not review.stage_history:  # the CRM's stage today, not the model's one open phase
        shown = shown.assign(stage=shown["opportunity_id"].map(review.stages_today).fillna(shown["stage"]))
    rounded = shown.head(top).round({"win_probability": 3, "p_book_in_period": 3, "expected_value": 0})
    return Shown(_in_unit(review, rounded, "open deals"))


def deals_at_risk(review: PipelineReview, top: int = 15) -> Shown:
    """The open deals at risk, the value at stake first."""
    at_risk, deals = review.at_risk, review.forecast.deals
    said = (
        f"{len(at_risk)} of {len(deals)} open deals at risk, {at_risk['at_stake'].sum():,.0f} at stake "
        "(amount x win probability)."
    )
    rounded = at_risk.head(top).round({"win_probability": 3, "p_book_in_period": 3, "at_stake": 0})
    return Shown(said, _in_unit(review, rounded, "deals at risk"))


def what_moves(review: PipelineReview) -> Shown:
    """The factors and combinations whose effect on the chance to win is clearly not zero, largest first."""
    moves = review.what_moves
    if moves.empty:
        return Shown(
            "No segment, region, channel or product moves the chance to win clearly (every 90 % interval "
            "includes no effect)."
        )
    words = {"what": "factor", "effect": "effect (log-odds)", "low": "90 % interval from", "high": "to"}
    return Shown(tables.for_people(moves.rename(columns=words), name="what moves the chance to win"))


def team_rollup(review: PipelineReview, show_people: bool = False) -> Shown:
    """The forecast by team, manager and owner against their targets, one table per level."""
    from omnimodel.funnel.rollup import LEVELS

    if review.rollup is None or review.owner_targets is None:
        return Shown(
            "No deal owners in this workspace (opportunities.owner): the roll-up needs them, and a sales_team "
            "table for managers and teams."
        )
    table = _people(review, review.rollup, show_people)
    parts: list[Any] = [f"Owner targets: {review.owner_targets['source'].iloc[0]}."]
    for level in LEVELS:
        part = table[table["level"] == level].drop(columns="level").rename(columns={"name": level})
        if len(part):
            parts.append(_in_unit(review, part.dropna(axis=1, how="all"), level))
    return Shown(*parts)


def owner_calls(review: PipelineReview, show_people: bool = False) -> Shown:
    """Each owner's calls for the period, corrected by their record, beside the model's P50."""
    calls = review.calls
    if calls is None:
        return Shown(
            "No forecast_calls table in this workspace (owner, period, submitted_at, commit, best_case): the "
            "owners' calls and their calibration need one."
        )
    parts: list[Any] = [
        f"{len(calls.record)} past calls of {calls.record['owner'].nunique()} owners set against what they booked.",
        _in_unit(review, _people(review, calls.corrected, show_people), "calls"),
    ]
    if not len(calls.corrected):
        parts += [
            f"No calls for {review.period} made by {review.as_of.date()}; the calibration of each owner:",
            _people(review, calls.calibration, show_people),
        ]
    return Shown(*parts)


def what_changed(review: PipelineReview) -> Shown:
    """The forecast's rows for the ledger (recorded once the whole run succeeds), and why the forecast changed
    since the last one recorded: its parts (chart) and the deals that moved it most."""
    entry = review.ledger_entry("report")
    change = review.change
    if change is None:
        return Shown(
            entry,
            f"No earlier forecast of {review.period} in the forecast ledger: once this report has run on an "
            "earlier as-of date, this section shows what changed since.",
        )
    chart = charts.forecast_change_chart(
        change.parts,
        change.before,
        change.after,
        f"as of {change.from_date.date()}",
        f"as of {change.to_date.date()}",
        f"Why the forecast of {change.period} changed",
    )
    money = {"value_before": 0, "value_after": 0, "expected_before": 0, "expected_after": 0, "change": 0}
    return Shown(
        entry, change, chart, _in_unit(review, change.deals.head(10).round(money), "deals that moved")
    )


def accuracy(review: PipelineReview) -> Shown:
    """Every recorded forecast of a closed period scored, by days ahead (table and chart)."""
    from omnimodel.funnel.accuracy import trend

    scored = review.accuracy
    if scored.empty:
        return Shown(
            "No recorded forecast of a closed period yet: each forecast is scored here once its period has closed."
        )
    return Shown(_in_unit(review, trend(scored), "accuracy"), charts.forecast_convergence(scored))


def backtest(review: PipelineReview, freq: str = "Q", n_snapshots: int = 4) -> Shown:
    """The forecast scored on past snapshots against the CRM's stage weights: the summary, each snapshot (PIT:
    the share of forecast draws below what happened) and the calibration of the win probabilities."""
    from omnimodel.funnel.backtest import NotEnoughHistory

    if not n_snapshots:
        return Shown("Backtest skipped.")
    try:
        result = review.backtest(freq, n_snapshots)
    except NotEnoughHistory as err:  # an opportunity list without months of closes: the rest of 03 runs
        return Shown(f"Backtest skipped: {err}.")
    unit: dict[str, Any] = {}
    if review.measure == "amount":  # CRPS is in the forecast's unit
        unit = {"currency": review.workspace.currency(), "money": ["crps"]}
    left_out = (
        [
            f"Left out of the scores: the forecasts as of {', '.join(result.left_out)}, whose model fits did not "
            "settle even when refitted with longer sampling."
        ]
        if result.left_out
        else []
    )
    return Shown(
        *left_out,
        tables.for_people(result.summary(), percent=["mape", "coverage_p10_p90"], **unit),
        tables.for_people(result.scores, percent=["ape"], name="backtest-scores", **unit),
        charts.reliability_diagram(result.reliability(bins=5)),
    )
