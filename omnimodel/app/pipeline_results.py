"""What the pipeline review answers, each explaining itself one way (:class:`~omnimodel.app.results.Result`):
the forecast (``omnimodel pipeline forecast``), why it changed (``changes``), how good the recorded forecasts were
(``accuracy``) and the backtest (``backtest``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from omnimodel.app.results import Result, known, records

if TYPE_CHECKING:
    from omnimodel.diagnostics import Diagnostics
    from omnimodel.funnel.backtest import BacktestResult
    from omnimodel.funnel.changes import ForecastChange
    from omnimodel.funnel.forecast import BookingsForecast
    from omnimodel.funnel.measures import Target
    from omnimodel.reporting.summary import Summary

#: deals at risk the forecast lists (the value at stake first)
AT_RISK_SHOWN = 10


@dataclass
class PipelineForecast(Result):
    """The period's bookings forecast with its target, each level against its own, the roll-up by team and
    manager, the deals at risk and the fit, as ``omnimodel pipeline forecast`` prints it."""

    data: dict[str, Any]
    forecast: BookingsForecast
    goal: Target
    diagnostics: Diagnostics
    fit_note: str
    headline: Summary | None = None
    json_default = float

    def to_dict(self) -> dict[str, Any]:
        """Quantiles, target and chance to reach it, levels, categories, roll-up, deals at risk, diagnostics."""
        return self.data

    def summary(self) -> Summary | None:
        """The headline cards, findings and next actions."""
        return self.headline

    def _repr_html_(self) -> str:
        return self.forecast._repr_html_()

    def as_text(self) -> str:
        """The forecast in lines, a not-converged fit first so nobody reads the numbers before it."""
        from omnimodel.charts.style import format_chance as chance

        out, d = [], self.data
        if not self.diagnostics.converged:
            out.append(self.diagnostics.as_text())
        out.append(f"Bookings forecast for {d['period']} as of {d['as_of']} ({d['funnel']}, {d['measure']}):")
        out.append(
            f"  P10 {d['p10']:,.0f}   P50 {d['p50']:,.0f}   P90 {d['p90']:,.0f}   mean {d['mean']:,.0f}"
        )
        out.append(f"  {d['measure_note']}")
        if d["mean_note"]:
            out.append(f"  {d['mean_note']}")
        out.append(
            f"  P(bookings reach {self.goal.value:,.0f}) = {chance(d['p_hit_target'])}. {self.goal.as_text()}"
        )
        out.append(f"  {d['new_deals_share']:.0%} of the expected value comes from deals not created yet")
        for g, rows in d["by"].items():
            out.append(f"  by {g}:")
            for row in rows:
                hit = (
                    f"  P(reach {row['target']:,.0f}) {chance(row['p_hit'])}"
                    if known(row.get("p_hit"))
                    else ""
                )
                out.append(
                    f"    {str(row[g]):<20} P10 {row['p10']:>12,.0f}  P50 {row['p50']:>12,.0f}  P90 {row['p90']:>12,.0f}"
                    + hit
                )
        if d["rollup"]:
            out.append(f"  by team and manager (targets: {d['rollup'][0]['target_source']}):")
        for row in d["rollup"]:
            if row["level"] in ("team", "manager"):
                hit = f"  P(reach {row['target']:,.0f}) {chance(row['p_hit'])}" if known(row["p_hit"]) else ""
                out.append(
                    f"  {row['level']:<8} {str(row['name']):<20} P10 {row['p10']:>12,.0f}  P50 {row['p50']:>12,.0f}  "
                    f"P90 {row['p90']:>12,.0f}{hit}"
                )
        categories = ", ".join(
            f"{r['category']} {r['deals']} (expected {r['expected_value']:,.0f})" for r in d["categories"]
        )
        out.append("  open deals by forecast category: " + categories)
        if d["at_risk"]:
            out.append("  deals at risk (value at stake first):")
            width = max([14, *(len(str(r["opportunity_id"])) + 2 for r in d["at_risk"])])  # long CRM ids fit
            places = 0 if d["measure"] == "amount" else 2
            for row in d["at_risk"]:
                out.append(
                    f"    {row['opportunity_id']!s:<{width}}{row['stage']:<14}{row['at_stake']:>12,.{places}f}  "
                    f"{row['reasons']}"
                )
        if self.diagnostics.converged:
            out.append("  " + self.diagnostics.as_text())
        out.append("  " + self.fit_note + (" --refit fits again." if d["fit_reused"] else ""))
        return "\n".join(out)


def forecast_data(
    *,
    as_of: pd.Timestamp,
    funnel: str,
    measure: str,
    measure_note: str,
    forecast: BookingsForecast,
    goal: Target,
    levels: dict[str, pd.DataFrame],
    rollup: pd.DataFrame | None,
    at_risk: pd.DataFrame,
    period_noise_sd: float,
    diagnostics: Diagnostics,
    fit_reused: bool,
) -> dict[str, Any]:
    """The forecast's plain data (see :class:`PipelineForecast`)."""
    from omnimodel.funnel.measures import skew_note

    q = forecast.quantiles()
    categories = forecast.deals.groupby("category")["expected_value"].agg(deals="size", expected_value="sum")
    team = [] if rollup is None else records(rollup.astype({"level": str}))
    return {
        "as_of": str(as_of.date()),
        "period": str(forecast.period),
        "funnel": funnel,
        "measure": measure,
        "measure_note": measure_note,
        **q,
        "mean_note": skew_note(q),
        "target": goal.value,
        "target_source": goal.source,
        "target_warning": goal.warning,
        "p_hit_target": forecast.p_hit(goal.value),
        "new_deals_share": forecast.new_deals_share,
        "period_noise_sd": period_noise_sd,
        "booked_so_far": forecast.booked,
        "by": {g: records(frame) for g, frame in levels.items()},  # each level against its own target
        "categories": categories.reset_index().to_dict(orient="records"),
        "rollup": team,
        "at_risk": records(at_risk.head(AT_RISK_SHOWN)),
        "diagnostics": {**diagnostics.__dict__, "converged": diagnostics.converged},
        "fit_reused": fit_reused,
    }


@dataclass
class ChangeReport(Result):
    """Why the forecast of a period changed between two as-of dates (``omnimodel pipeline changes``)."""

    funnel: str
    measure: str
    where: dict[str, str | None]
    recorded_deals: int  # deals whose state on the earlier date was recorded (history or ledger)
    change: ForecastChange
    top: int = 10  # deals listed in the text

    def to_dict(self) -> dict[str, Any]:
        """The change, its parts and the deals that moved it."""
        return {
            "funnel": self.funnel,
            "measure": self.measure,
            "where": self.where,
            "recorded_deals": self.recorded_deals,
            **self.change.to_dict(),
        }

    def _repr_html_(self) -> str:
        return self.change._repr_html_()

    def as_text(self) -> str:
        """The change and its parts, then the deals that moved it most."""
        c = self.change
        where = "".join(f", {k} {v}" for k, v in self.where.items())
        out = [
            f"Why the forecast for {c.period} changed from {c.from_date.date()} to {c.to_date.date()} "
            f"({self.funnel}, {self.measure}{where}):",
            f"  expected bookings {c.before:,.0f} -> {c.after:,.0f} ({c.change:+,.0f})",
        ]
        for row in c.parts.itertuples():
            if row.change or row.part == "model update":
                deals = f"{row.deals:,} deals" if row.deals else ""
                out.append(f"    {row.part:<24}{row.change:>+14,.0f}  {deals}")
        if not self.recorded_deals:
            out.append(
                "  Amounts and close dates as in today's export (no opportunity history and no ledger entry for the "
                "earlier date): amount changes and slips show once forecasts are recorded (omnimodel pipeline "
                "forecast, omnimodel report) or with an opportunity_history table."
            )
        out.append("  deals that moved the forecast most:")
        shown = c.deals.head(self.top)
        width = max([14, *(len(str(i)) + 2 for i in shown["opportunity_id"])])  # long CRM ids (Olist: 32) fit
        for row in shown.itertuples():
            out.append(
                f"    {row.opportunity_id!s:<{width}}{row.part:<24}{str(row.stage_before):>12} -> "
                f"{str(row.stage_after):<12}{row.change:>+12,.0f}"
            )
        return "\n".join(out)


@dataclass
class AccuracyReport(Result):
    """The recorded forecasts of closed periods scored against what they booked, by days ahead."""

    workspace: str
    ledger: str
    forecasts: pd.DataFrame
    trend: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        """Each scored forecast, and the scores by days ahead."""
        scored = self.forecasts.assign(as_of=self.forecasts["as_of"].astype(str))
        return {"forecasts": scored.to_dict(orient="records"), "trend": self.trend.to_dict(orient="records")}

    def as_text(self) -> str:
        """One line per days-ahead bucket: forecasts, median error, P10-P90 coverage and CRPS."""
        scored = self.forecasts
        if scored.empty:
            return (
                f"No recorded forecast of a closed period for {self.workspace} in {self.ledger}: forecasts are "
                "scored once their period has closed (omnimodel pipeline forecast and omnimodel report record them)."
            )
        out = [
            f"{len(scored)} recorded forecasts of {scored['period'].nunique()} closed periods, by days ahead:"
        ]
        for r in self.trend.itertuples():
            out.append(
                f"  {r.days_ahead:<14} {r.recorded:>3} forecasts   median error {r.median_ape:6.1%}   "
                f"P10-P90 held the actual {r.coverage_p10_p90:4.0%}   CRPS {r.crps:,.0f}"
            )
        return "\n".join(out)


@dataclass
class BacktestReport(Result):
    """The forecast scored on rolling past snapshots against the CRM's baselines (``pipeline backtest``)."""

    funnel: str
    measure: str
    freq: str
    result: BacktestResult

    def to_dict(self) -> dict[str, Any]:
        """The summary by method, and every snapshot's scores."""
        return {
            "funnel": self.funnel,
            "measure": self.measure,
            "summary": self.result.summary().to_dict(orient="records"),
            "snapshots": self.result.scores.to_dict(orient="records"),
        }

    def as_text(self) -> str:
        """The summary by method, with how to read it."""
        summary = self.result.summary()
        return "\n".join(
            [
                f"\nBacktest of {self.funnel} ({self.measure}), {summary['snapshots'].iloc[0]} snapshots, "
                f"freq {self.freq}:",
                summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"),
                "Lower is better for mape, crps and brier; coverage_p10_p90 should be near 0.8.",
            ]
        )
