"""What the customer reports (01 and 02) say first: headline cards, findings and next actions, computed from
their numbers, each under the evidence rules (:mod:`omnimodel.reporting.evidence`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.data.schema import UNCATEGORISED
from omnimodel.reporting import evidence
from omnimodel.reporting.headlines import fit_first
from omnimodel.reporting.summary import Card, Summary, compact, pct

if TYPE_CHECKING:
    from omnimodel.data.workspace import Workspace
    from omnimodel.diagnostics import Diagnostics


def _growth(now: float, before: float) -> str:
    """A change as people say it: +12 %, -5 %."""
    return f"{now / before - 1:+.0%}".replace("%", " %") if before else "new"


def _window(start: str, end: str) -> str:
    """A date window as people name it: 2025 for a calendar year, else 2025-03-01 to 2026-02-28."""
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    if a.year == b.year and (a.month, a.day, b.month, b.day) == (1, 1, 12, 31):
        return str(a.year)
    return f"{a.date()} to {b.date()}"


def _period_before(start: str, end: str) -> tuple[str, str]:
    """The window of the same length just before: the year before a year, the quarter before a quarter."""
    a, b = pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1)
    months = (b.year - a.year) * 12 + b.month - a.month
    first = a - pd.DateOffset(months=months) if a.day == b.day and months > 0 else a - (b - a)
    return str(first.date()), str((a - pd.Timedelta(days=1)).date())


def _ranks(low: float, high: float) -> str:
    """A rank range as words: 1-3, or just 1 when the range is one rank."""
    return f"{int(low)}" if int(low) == int(high) else f"{int(low)}-{int(high)}"


def _best_rules(rules: pd.DataFrame | None) -> pd.DataFrame:
    """Rules worth acting on: lift above 1 with its whole 90 % interval, strongest first."""
    if rules is None or not isinstance(rules, pd.DataFrame) or not len(rules) or "lift" not in rules:
        return pd.DataFrame()
    sure = rules[rules["lift_low"] > 1] if "lift_low" in rules else rules
    return sure.sort_values(["lift", "support"], ascending=False, ignore_index=True)


def profile_summary(
    ws: Workspace,
    profile: pd.DataFrame,
    rules: pd.DataFrame | None,
    segment_rules: pd.DataFrame | None,
    start: str,
    end: str,
    currency: str | None,
) -> Summary:
    """The customer profile's answer: who bought in the period, the revenue and how it changed, the largest
    channel, the strongest cross-sell; which channels grow and shrink, how segments differ; what to offer."""
    from omnimodel.data import overview, periods

    sales = overview.sales_by_month(ws, by="channel", start=start, end=end)
    before_start, before_end = _period_before(start, end)
    before = overview.sales_by_month(ws, by="channel", start=before_start, end=before_end)
    # growth only between two whole windows of the same length: a year against its first days is no comparison
    comparable = evidence.complete([(start, end), (before_start, before_end)], *periods.covered_span(ws))
    now_by = sales.groupby("channel")["revenue"].sum().sort_values(ascending=False)
    before_by = before.groupby("channel")["revenue"].sum()
    revenue = float(now_by.sum())
    buyers = profile[profile["orders"] > 0]
    multi = float((buyers["channels_used"] >= 2).mean()) if len(buyers) else float("nan")
    window = _window(start, end)
    cards = [
        Card("Customers who have bought", f"{len(buyers):,}",
             f"{pct(multi)} through two channels or more" if len(now_by) > 1 else "all through one channel"),
        Card(f"Net revenue {window}", compact(revenue, currency),
             f"{_growth(revenue, float(before_by.sum()))} on {_window(before_start, before_end)}"
             if before_by.sum() and comparable else "no complete period of the same length before it to compare"),
    ]  # fmt: skip
    if len(now_by):
        top = now_by.index[0]
        runner = f"; {now_by.index[1]} {pct(now_by.iloc[1] / revenue)}" if len(now_by) > 1 else ""
        cards.append(
            Card("Largest channel", str(top), f"{pct(now_by.iloc[0] / revenue)} of net revenue{runner}")
        )
    overall = _best_rules(rules)
    if len(overall):
        r = overall.iloc[0]
        cards.append(Card("Strongest cross-sell", f"{r['antecedent']} → {r['consequent']}",
                          f"lift {r['lift']:.2f} (90 % {r['lift_low']:.2f}-{r['lift_high']:.2f}); "
                          f"{pct(r['confidence'])} of {r['antecedent']} baskets have it"))  # fmt: skip

    findings = []
    common = [c for c in now_by.index if before_by.get(c, 0) > 0] if comparable else []
    if len(common) > 1:
        change = (now_by[common] / before_by[common] - 1).sort_values()
        up, down = change.index[-1], change.index[0]
        findings.append(
            f"{up} grew most ({_growth(now_by[up], before_by[up])}, to {compact(now_by[up], currency)}); "
            f"{down} {'grew least' if now_by[down] > before_by[down] else 'fell most'} "
            f"({_growth(now_by[down], before_by[down])})."
        )
    if "segment" in buyers and buyers["segment"].nunique() > 1:
        by = buyers.groupby("segment")[[c for c in ("channels_used", "return_rate") if c in buyers]].mean()
        used = by["channels_used"].sort_values()
        if f"{used.iloc[-1]:.1f}" != f"{used.iloc[0]:.1f}":  # a one-channel shop has nothing to say here
            findings.append(
                f"{used.index[-1]} customers buy through {used.iloc[-1]:.1f} channels on average, "
                f"{used.index[0]} through {used.iloc[0]:.1f}."
            )
        returns = by["return_rate"].dropna().sort_values() if "return_rate" in by else by.iloc[:0, 0]
        if len(returns) > 1 and returns.iloc[-1] > 0 and pct(returns.iloc[-1]) != pct(returns.iloc[0]):
            findings.append(
                f"{returns.index[-1]} customers return {pct(returns.iloc[-1])} of their units, "
                f"{returns.index[0]} {pct(returns.iloc[0])}."
            )
    actions = []
    best = _best_rules(segment_rules)
    if len(best):
        per = best.drop_duplicates("segment") if "segment" in best else best
        for r in per.head(3).itertuples():
            who = f"{r.segment} customers" if "segment" in best else "customers"
            actions.append(
                f"Offer {r.consequent} to {who} who buy {r.antecedent}: {pct(r.confidence)} of such baskets "
                f"already add it ({r.lift:.1f} times as often as other baskets)."
            )
    if len(common) > 1 and now_by[down] < before_by[down]:
        actions.append(f"Look into {down}: its revenue fell {_growth(now_by[down], before_by[down])}.")
    return Summary(f"Summary: customers {window}", cards, findings, actions)


def segments_summary(
    addressing: pd.DataFrame,
    values: pd.DataFrame,
    total_draws: np.ndarray,
    relative_error: float,
    ranking: pd.DataFrame | None,
    candidates: pd.DataFrame | None,
    currency: str | None,
    diagnostics: Diagnostics | None = None,
    has_costs: bool = True,
) -> Summary:
    """Segments, CLV and countries: the value of today's customers with its range, whether the CLV model held
    on the holdout, the segment and country that matter most; how to address the leading segments. A segment or
    country is named best only with :data:`~omnimodel.reporting.evidence.MIN_CUSTOMERS` customers behind it and
    another such to compare with; value is profit only where the data has costs (``has_costs``)."""
    lo, hi = np.quantile(total_draws, [0.05, 0.95])
    cards = [
        Card(f"Expected {evidence.value_word(has_costs)} from today's customers, next 12 months",
             compact(float(np.mean(total_draws)), currency),
             f"90 % range {compact(lo)} to {compact(hi)}"
             + ("" if has_costs else "; no costs of goods in the data")),
        Card("CLV model on the holdout", f"{relative_error:+.0%}".replace("%", " %"),
             f"predicted {'more' if relative_error > 0 else 'fewer'} purchases than the held-out period had: the value "
             f"above is likely {'high' if relative_error > 0 else 'low'} by about as much"),
    ]  # fmt: skip
    by_value = (
        values.groupby("segment" if "segment" in values else values.columns[1])["value"]
        .agg(value="sum", customers="size")
        .sort_values("value", ascending=False)
    )
    named = evidence.supported(by_value)
    if len(named) > 1:
        cards.append(Card("Most valuable segment", str(named.index[0]),
                          f"{pct(named['value'].iloc[0] / by_value['value'].sum())} of the expected value"))  # fmt: skip
    ranked = ranking if ranking is not None else pd.DataFrame()
    countries = evidence.supported(ranked) if len(ranked) else None
    if countries is not None and len(countries) > 1:
        top = countries.iloc[0]
        top3 = (
            f"; {pct(top['p_top3'])} chance to be in the top 3"
            if len(ranked) >= evidence.MIN_RANKED_FOR_TOP3
            else ""
        )
        cards.append(Card("Most attractive country", str(top["country_name"]),
                          f"ranked {_ranks(top['rank_p05'], top['rank_p95'])} in 90 % of weightings{top3}"))  # fmt: skip
    elif countries is not None:
        cards.append(Card("Most attractive country", "–", f"too few customers to rank: fewer than two countries "
                          f"with {evidence.MIN_CUSTOMERS} or more"))  # fmt: skip
    findings = []
    grow = (
        addressing.dropna(subset=["growth"]).sort_values("growth") if "growth" in addressing else addressing
    )
    if len(grow) > 1:
        a, b = grow.iloc[-1], grow.iloc[0]
        findings.append(
            f"{a['segment']} grew fastest over the last 12 months ({a['growth']:+.0%}), "
            f"{b['segment']} slowest ({b['growth']:+.0%}).".replace("%", " %")
            .replace("-0 %", "0 %")
            .replace("+0 %", "0 %")
        )
    if len(addressing):
        lead = addressing.iloc[0]
        findings.append(
            f"{lead['segment']} brings the most revenue ({compact(lead['revenue'], currency)}), mostly through "
            f"{lead['preferred channels']}."
        )
    losing = values[values["value"] < 0]
    if len(losing):
        n, share = len(losing), len(losing) / len(values)
        why = (f"; {'they send' if n > 1 else 'it sends'} back {losing['return_share'].median():.0%} of "
               f"{'their' if n > 1 else 'its'} lines{' (median)' if n > 1 else ''}" if "return_share" in losing else "")  # fmt: skip
        who = (
            f"{n:,} customers ({share:.1%})"
            if share >= 0.001
            else f"{n:,} customer{'s' if n > 1 else ''} (below 0.1%)"
        )
        findings.append(
            f"{who} {'are' if n > 1 else 'is'} expected to cost money over the next 12 months, "
            f"{compact(-float(losing['value'].sum()), currency)} in total{why}.".replace("%", " %")
        )
    if countries is not None and len(countries) > 1 and str(countries.iloc[0].get("reasons", "")):
        lead = countries.iloc[0]
        findings.append(f"{lead['country_name']} leads the country ranking: {lead['reasons']}")
    actions = [
        f"Address {r['segment']} through {re.sub(r'[ ]+[0-9]+[ ]?%$', '', r['preferred channels'].split(',')[0])}"
        + (f", leading with {top}" if (top := r["top categories"].split(",")[0]) != UNCATEGORISED else "")
        + (f"; cross-sell {r['best cross-sell']}." if "->" in str(r.get("best cross-sell", "")) else ".")
        for _, r in addressing.head(2).iterrows()
    ]
    if isinstance(candidates, pd.DataFrame) and len(candidates):
        c = candidates.iloc[0]
        actions.append(f"Test {c.get('country_name', c.get('country'))} as a new country: the best market among "
                       "those the company barely serves.")  # fmt: skip
    return Summary(
        "Summary: segments, customer value and countries", cards, fit_first(findings, diagnostics), actions
    )
