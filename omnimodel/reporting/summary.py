"""The answer first: headline cards with their ranges, findings as sentences computed from the data, and next
actions, shown at the top of a report.

A notebook computes its summary where the numbers exist (usually near the end) in a cell tagged ``summary``;
the HTML export moves that cell's output right under the report's title (:func:`omnimodel.reporting.html`), so
readers see the decision first and the method after.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np


def compact(x: float, unit: str | None = None) -> str:
    """A number as people say it on a slide: 1.85 M, 185 k, 1,234 (with its unit after it)."""
    if x is None or not np.isfinite(x):
        return "–"
    a = abs(x)
    if a >= 1e9:
        text = f"{x / 1e9:.2f} bn"
    elif a >= 1e6:
        text = f"{x / 1e6:.2f} M"
    elif a >= 1e4:
        text = f"{x / 1e3:.0f} k"
    else:
        text = f"{x:,.0f}"
    return f"{text} {unit}" if unit else text


def pct(x: float) -> str:
    """A share as a whole percentage, written as the tables write it: 72 %. A Monte Carlo share never says
    0 % or 100 %: a few thousand draws cannot rule either out."""
    if 0 <= x < 0.005:
        return "below 1 %"
    if 0.995 < x <= 1:
        return "above 99 %"
    return f"{x:.0%}".replace("%", " %")


@dataclass(frozen=True)
class Card:
    """One headline number: what it is, the number, and its range or provenance."""

    label: str
    value: str
    detail: str = ""


@dataclass
class Summary:
    """Cards, findings and actions; shows as HTML in notebooks and reports (every text escaped)."""

    title: str
    cards: list[Card]
    findings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        e = html.escape
        cards = "".join(
            '<div style="border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:190px;'
            'flex:1;background:#f6f8fa">'
            f'<div style="font-size:.85rem;color:#57606a">{e(c.label)}</div>'
            f'<div style="font-size:1.6rem;font-weight:600;margin:2px 0">{e(c.value)}</div>'
            f'<div style="font-size:.85rem;color:#57606a">{e(c.detail)}</div></div>'
            for c in self.cards
        )
        parts = [
            f'<section class="om-summary"><h2>{e(self.title)}</h2>',
            f'<div style="display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 14px">{cards}</div>',
        ]
        for head, items in (("Findings", self.findings), ("Next actions", self.actions)):
            if items:
                parts.append(f"<h3>{head}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
        return "".join(parts) + "</section>"


def pipeline_summary(fc, goal, measure: str, currency: str | None, n_actions: int = 3) -> Summary:
    """The pipeline forecast's answer: bookings with their range, the chance to reach the target, what the
    forecast rests on, and the deals to push (best-case deals with the most expected value)."""
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
    findings = []
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
    return Summary(f"Summary: bookings in {fc.period}", cards, findings, actions)


def _gap(gap: float, currency: str | None) -> str:
    """A target's gap (target minus P50) as words."""
    return (
        f"P50 short by {compact(gap, currency)}" if gap > 0 else f"P50 above it by {compact(-gap, currency)}"
    )


def targets_summary(outcome, year: int, currency: str | None, n_actions: int = 3) -> Summary:
    """The targets report's answer: the revenue target against the bottom-up forecast, the odds of revenue
    and profit, and the channels furthest from their target (the lowest chance first)."""
    total = outcome.level("total").iloc[0]
    growth = total["target"] / total["last_year"] - 1 if total["last_year"] else float("nan")
    cards = [
        Card(f"Revenue target {year}", compact(total["target"], currency),
             f"{growth:+.0%} on {year - 1} ({compact(total['last_year'])})".replace("%", " %")),
        Card("Bottom-up forecast (P50)", compact(total["forecast_p50"], currency),
             f"P10-P90 {compact(total['forecast_p10'])} to {compact(total['forecast_p90'])}"),
        Card("Chance to reach the revenue target", pct(total["p_hit"]), _gap(total["gap_p50"], currency)),
        Card("Chance to reach the profit target", pct(total["p_hit_profit"]),
             f"profit target {compact(total['profit_target'], currency)}"),
    ]  # fmt: skip
    channels = outcome.level("channel").sort_values("p_hit", ignore_index=True)
    regions = outcome.level("region").sort_values("p_hit", ignore_index=True)
    short = channels[channels["p_hit"] < 0.5]
    findings = [
        f"{len(short)} of {len(channels)} channels are less likely than not to reach their target"
        + (f" ({', '.join(map(str, short['channel']))})." if len(short) else "."),
    ]
    if len(channels):
        worst = channels.iloc[0]
        findings.append(
            f"{worst['channel']} is furthest from its target: {pct(worst['p_hit'])} chance, P50 "
            f"{compact(worst['forecast_p50'], currency)} against {compact(worst['target'], currency)}."
        )
    if len(regions) > 1:
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
    return Summary(f"Summary: revenue and profit targets {year}", cards, findings, actions)
