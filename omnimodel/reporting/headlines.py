"""What each report says first: its headline cards, findings and next actions, computed from its numbers (the
customer reports' in :mod:`omnimodel.reporting.customer_headlines`).

One builder per report; each returns a :class:`~omnimodel.reporting.summary.Summary`. Findings are sentences
built from the data (what is largest, what is at risk, what moves most), never fixed text about the demo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from omnimodel.reporting import evidence
from omnimodel.reporting.summary import Card, Summary, compact, pct

if TYPE_CHECKING:
    from omnimodel.diagnostics import Diagnostics
    from omnimodel.forecasting.baseline import BaselineBacktest, HierarchyForecast
    from omnimodel.forecasting.series import Hierarchy
    from omnimodel.funnel.changes import ForecastChange
    from omnimodel.funnel.forecast import BookingsForecast
    from omnimodel.funnel.measures import Target
    from omnimodel.targets.scenario import Outcome


def fit_first(findings: list[str], diagnostics: Diagnostics | None) -> list[str]:
    """A Bayesian fit that has not converged is the first thing the reader learns (the appendix has the card)."""
    if diagnostics is not None and not diagnostics.converged:
        said = f"The model fit behind these numbers has not converged: {diagnostics.figures}. Treat them with caution."
        return [said, *findings]
    return findings


def change_sentence(change: ForecastChange, unit: str | None) -> str:
    """Why the forecast moved since the last recorded one, in one sentence: the change and its three biggest
    parts (:class:`omnimodel.funnel.changes.ForecastChange`)."""
    parts = change.parts.reindex(change.parts["change"].abs().sort_values(ascending=False).index).head(3)
    said = ", ".join(
        f"{p.part} {'+' if p.change >= 0 else '-'}{compact(abs(p.change))}" for p in parts.itertuples()
    )
    sign = "+" if change.change >= 0 else "-"
    return (
        f"Since the forecast as of {change.from_date.date()}, the expected bookings of {change.period} moved "
        f"{sign}{compact(abs(change.change))} to {compact(change.after, unit)}: {said}."
    )


def pipeline_summary(
    fc: BookingsForecast,
    goal: Target,
    measure: str,
    currency: str | None,
    n_actions: int = 3,
    diagnostics: Diagnostics | None = None,
    change: ForecastChange | None = None,
) -> Summary:
    """The pipeline forecast's answer: bookings with their range, the chance to reach the target, what the
    forecast rests on, and the deals to push (best-case deals with the most expected value). With ``change``
    (since the last recorded forecast), why it moved comes first among the findings."""
    unit = currency if measure == "amount" else "deals"
    q = fc.quantiles()
    deals = fc.deals
    cards = [
        Card(f"Bookings {fc.period} (P50)", compact(q["p50"], unit), f"P10-P90 {compact(q['p10'])} to {compact(q['p90'])}"),
        Card("Chance to reach the target", pct(fc.p_hit(goal.value)) if goal.value else "–",
             f"target {compact(goal.value, unit)}: {goal.source}" if goal.value else "no target"),
        Card("Expected from open deals", compact(float(deals["expected_value"].sum()), unit),
             f"{len(deals):,} open deals, {int((deals['category'] == 'commit').sum()):,} commit"),
        Card("From deals not created yet", pct(fc.new_deals_share), "of the expected bookings"),
    ]  # fmt: skip
    findings = [change_sentence(change, unit)] if change is not None else []
    for dim in ("source_channel", "region", "segment"):
        by = fc.to_frame(dim) if dim in fc.by_group else None
        if by is not None and len(by) > 1:
            top = by.iloc[0]
            share = top["mean"] / by["mean"].sum() if by["mean"].sum() else 0  # means add up; P50s do not
            findings.append(
                f"{top[dim]} carries {pct(share)} of the expected bookings by {dim.replace('_', ' ')} "
                f"(P50 {compact(top['p50'], unit)})."
            )
            break
    value = deals["expected_value"].sum()
    if value:
        commit = deals.loc[deals["category"] == "commit", "expected_value"].sum() / value
        findings.append(
            f"Commit deals (70 %+ to book) hold {pct(commit)} of the open deals' expected value; the rest "
            "depends on best-case and pipeline deals."
        )
    if goal.value:
        gap = goal.value - q["p50"]
        findings.append(
            f"The P50 is {compact(abs(gap), unit)} {'short of' if gap > 0 else 'above'} the target."
            + (f" {goal.warning}" if goal.warning else "")
        )
    push = deals[deals["category"] == "best case"].nlargest(n_actions, "expected_value")
    actions = [
        f"Push {r.opportunity_id} ({r.stage}, {compact(r.amount, currency if measure == 'amount' else None)}, "
        f"{pct(r.p_book_in_period)} to book in {fc.period})."
        for r in push.itertuples()
    ]
    return Summary(f"Summary: bookings in {fc.period}", cards, fit_first(findings, diagnostics), actions)


def _gap(gap: float, currency: str | None) -> str:
    """A target's gap (target minus P50) as words."""
    return (
        f"P50 short by {compact(gap, currency)}" if gap > 0 else f"P50 above it by {compact(-gap, currency)}"
    )


FOLDED = "other"  # the name forecasting.series gives folded series


def _fold(outcome: Outcome, dim: str, total_last_year: float) -> str:
    """The finding for series folded into "other" in one dimension, or "" when none are."""
    rows = outcome.level(dim)
    other = rows[rows[dim] == FOLDED]
    if other.empty:
        return ""
    share = other["last_year"].sum() / total_last_year if total_last_year else float("nan")
    word = {"channel": "channels", "region": "regions"}[dim]
    return (
        f"{pct(share)} of last year's revenue is in series too short or too small to forecast on their own, "
        f"folded into '{FOLDED}': the {word}' own figures leave it out, so they are not ranked against each other."
    )


#: what a profit card says when the data has no unit costs
NO_COSTS = "no unit costs in the data"


def targets_summary(
    outcome: Outcome,
    year: int,
    currency: str | None,
    n_actions: int = 3,
    diagnostics: Diagnostics | None = None,
    history: tuple[int, int] | None = None,
) -> Summary:
    """The targets report's answer: the revenue target against the bottom-up forecast, the odds of revenue
    and profit, and the channels furthest from their target (the lowest chance first). ``history`` (periods,
    season length) of the forecasts: with fewer than :data:`evidence.MIN_SEASONS` seasons no chance is
    stated."""
    total = outcome.level("total").iloc[0]
    growth = total["target"] / total["last_year"] - 1 if total["last_year"] else float("nan")
    cards = [
        Card(f"Revenue target {year}", compact(total["target"], currency),
             f"{growth:+.0%} on {year - 1} ({compact(total['last_year'])})".replace("%", " %")),
        Card("Bottom-up forecast (P50)", compact(total["forecast_p50"], currency),
             f"P10-P90 {compact(total['forecast_p10'])} to {compact(total['forecast_p90'])}"),
        Card("Chance to reach the revenue target", pct(total["p_hit"]), _gap(total["gap_p50"], currency)),
        Card("Chance to reach the profit target", pct(total["p_hit_profit"]),
             f"profit target {compact(total['profit_target'], currency)}")
        if pd.notna(total["p_hit_profit"])
        else Card("Profit target", "not stated", NO_COSTS),
    ]  # fmt: skip
    # Series folded into "other" (short or small) leave their own group's figure partial: a group with a
    # fold is not ranked, and the fold is said with its share.
    folded = [_fold(outcome, dim, total["last_year"]) for dim in ("channel", "region")]
    channels = outcome.level("channel").sort_values("p_hit", ignore_index=True)
    channels = channels[channels["channel"] != FOLDED].reset_index(drop=True)
    regions = outcome.level("region").sort_values("p_hit", ignore_index=True)
    short = channels[channels["p_hit"] < 0.5]
    findings = []
    if len(channels) > 1:  # with one channel the total says it all
        findings.append(
            f"{len(short)} of {len(channels)} channels are less likely than not to reach their target"
            + (f" ({', '.join(map(str, short['channel']))})." if len(short) else ".")
        )
        worst = channels.iloc[0]
        findings.append(
            f"{worst['channel']} is furthest from its target: {pct(worst['p_hit'])} chance, P50 "
            f"{compact(worst['forecast_p50'], currency)} against {compact(worst['target'], currency)}."
        )
    findings += [f for f in folded if f]
    if history is not None and not evidence.chance_supported(*history):
        unknown = "not stated"
        cards[2] = Card(cards[2].label, unknown, "less than two years of history")
        cards[3] = Card(cards[3].label, unknown, cards[3].detail)
        findings = [evidence.short_history(*history), *(f for f in folded if f)]
        actions = [f"Track each month of {year} against the target; the chances follow with a second year."]
        return Summary(
            f"Summary: revenue and profit targets {year}", cards, fit_first(findings, diagnostics), actions
        )
    if len(regions) > 1 and not folded[1]:
        findings.append(
            f"By region, {regions.iloc[0]['region']} has the lowest chance ({pct(regions.iloc[0]['p_hit'])}) and "
            f"{regions.iloc[-1]['region']} the highest ({pct(regions.iloc[-1]['p_hit'])})."
        )
    actions = [
        f"Close the gap in {r.channel}: {compact(r.gap_p50, currency)} more than its P50 forecast is needed "
        f"for the target of {compact(r.target, currency)}."
        for r in short.head(n_actions).itertuples()
        if r.gap_p50 > 0
    ] or [
        "Every channel has at least an even chance to reach its target: hold the plan and track it monthly."
    ]
    return Summary(
        f"Summary: revenue and profit targets {year}", cards, fit_first(findings, diagnostics), actions
    )


def whatif_summary(
    total: pd.Series,
    comparison: pd.DataFrame,
    year: int,
    currency: str | None,
    diagnostics: Diagnostics | None = None,
    history: tuple[int, int] | None = None,
) -> Summary:
    """The what-if report's answer: the plan under the goals, and which lever moves the chance most (with less
    than :data:`evidence.MIN_SEASONS` seasons of ``history``: no chance, no lever named)."""
    cards = [
        Card(f"Revenue target {year}", compact(total["target"], currency), "under the goals as set"),
        Card("Forecast (P50)", compact(total["forecast_p50"], currency),
             f"P10-P90 {compact(total['forecast_p10'])} to {compact(total['forecast_p90'])}"),
        Card("Chance to reach the revenue target", pct(total["p_hit"]),
             f"profit target: {pct(total['p_hit_profit'])} chance" if pd.notna(total["p_hit_profit"]) else NO_COSTS),
    ]  # fmt: skip
    if history is not None and not evidence.chance_supported(*history):
        cards[2] = Card(cards[2].label, "not stated", "less than two years of history")
        findings = [evidence.short_history(*history)]
        actions = [
            "Use the live what-if panel for the targets the goals set; its chances follow with a second year."
        ]
        return Summary(
            f"Summary: what moves the {year} plan", cards, fit_first(findings, diagnostics), actions
        )
    base = comparison.iloc[0]
    every = comparison.iloc[1:].assign(move=lambda f: f["p_hit"] - base["p_hit"])
    raising = every["scenario"].str.startswith("growth goal")  # a goal, not a lever
    levers = every[~raising].sort_values("move", ascending=False)
    moving = levers[
        [evidence.moves(base["p_hit"], p) for p in levers["p_hit"]]
    ]  # one that moves nothing is none
    helping = moving[moving["move"] > 0]
    findings, actions = [], []
    if len(levers) and not len(helping):
        cards.append(Card("Lever that helps most", "none alone",
                          f"no lever moves the chance ({pct(base['p_hit'])}) by a point or more"))  # fmt: skip
        actions.append(
            "Combine levers in the live what-if panel: none moves the chance to reach the target alone."
        )
    if len(helping):
        best = helping.iloc[0]
        cards.append(Card("Lever that helps most", str(best["scenario"]),
                          f"chance {pct(base['p_hit'])} → {pct(best['p_hit'])}"))  # fmt: skip
    if len(moving):
        for r in moving.itertuples():
            findings.append(
                f"{r.scenario}: chance to reach the revenue target {pct(base['p_hit'])} → {pct(r.p_hit)}"
                + (
                    f", profit P50 {compact(base['profit_p50'], currency)} → {compact(r.profit_p50, currency)}."
                    if pd.notna(base["profit_p50"])
                    else "."
                )
            )
    if len(helping):
        actions.append(
            f"Start with {best['scenario']}; the live what-if panel combines it with the other levers."
        )
    raise_goal = every[raising]
    if len(raise_goal):
        r = raise_goal.iloc[0]
        findings.append(
            f"With the {r['scenario']} the target rises to {compact(r['target'], currency)} and the chance "
            f"falls to {pct(r['p_hit'])}."
        )
    return Summary(
        f"Summary: what moves the {year} plan", cards, fit_first(findings[:4], diagnostics), actions
    )


def baseline_summary(
    backtest: BaselineBacktest, forecast: HierarchyForecast, hierarchy: Hierarchy, no_targets: str = ""
) -> Summary:
    """The baseline-only report (no goals, or other series): how accurate the chosen models were against
    seasonal naive on later origins, and the top series' next period with its range; ``no_targets`` says why
    goals gave no targets (a clause), when they were given."""
    o = backtest.overall
    q = forecast.quantiles()
    top = q[q["node"] == q["node"].iloc[0]].iloc[0]
    beat = o["series_beating_seasonal_naive"]
    cards = [
        Card(f"Next period {top['period']}, {top['node']} (P50)", compact(top["p50"]),
             f"P10-P90 {compact(top['p10'])} to {compact(top['p90'])} ({hierarchy.name})"),
        Card("Forecast error (mean MASE)", f"{o['mase_model']:.2f}",
             f"seasonal naive {o['mase_seasonal_naive']:.2f}; lower is better"),
        Card("Series that beat seasonal naive", f"{beat} of {o['series']}", "on the scoring origins"),
    ]  # fmt: skip
    better = o["mase_model"] < o["mase_seasonal_naive"]
    findings = [
        f"The chosen models erred {'less' if better else 'more'} than seasonal naive on average "
        f"({o['mase_model']:.2f} against {o['mase_seasonal_naive']:.2f})."
    ]
    actions = [
        "Use these forecasts as the baseline."
        if better
        else "Prefer seasonal naive for the series where it wins (the backtest table lists them)."
    ]
    actions.append(
        f"No targets yet: {no_targets}." if no_targets else "Add strategy goals (goals.yaml) to set targets."
    )
    return Summary(f"Summary: {hierarchy.name} forecast", cards, findings, actions)
