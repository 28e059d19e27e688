"""`omnimodel pipeline forecast|backtest`: the pipeline model from the command line (text or JSON)."""

from __future__ import annotations

import argparse
import json
import os

#: exit code of ``pipeline forecast --strict`` when the model did not converge (the numbers are still printed)
NOT_CONVERGED = 6
#: the forecast ledger's default place (:data:`omnimodel.funnel.ledger.DEFAULT_PATH`; not imported: --help stays light)
DEFAULT_LEDGER = "reports/forecast-ledger.duckdb"
#: deals at risk listed by ``pipeline forecast`` (the value at stake first)
AT_RISK_SHOWN = 10


def _setup(args):
    from omnimodel.data.workspace import Workspace
    from omnimodel.environment import pytensor_environment
    from omnimodel.funnel import funnel_for

    os.environ["PYTENSOR_FLAGS"] = pytensor_environment()["PYTENSOR_FLAGS"]
    ws = Workspace(args.workspace)
    funnel = funnel_for(ws, args.funnel)
    return ws, funnel, {"draws": args.draws, "tune": args.draws}


def forecast_command(args) -> int:
    """``omnimodel pipeline forecast``: fit on the snapshot, forecast the period, print text or JSON."""
    from omnimodel.funnel.fits import fitted_model
    from omnimodel.funnel.forecast import forecast_bookings
    from omnimodel.funnel.measures import choose_measure, default_target, level_targets, skew_note
    from omnimodel.funnel.snapshot import TEAM, pipeline_snapshot

    ws, funnel, sampler = _setup(args)
    snap = pipeline_snapshot(ws, funnel, args.as_of)
    measure, measure_note = choose_measure(snap.deals, args.measure)
    model = fitted_model(
        snap, measure=measure, sampler_config=sampler, random_seed=args.seed, refit=args.refit
    )
    from omnimodel.data.periods import next_quarter

    fc = forecast_bookings(model, snap, args.period or next_quarter(snap.as_of), random_seed=args.seed)
    goal = default_target(snap, str(fc.period), measure, given=args.target)
    categories = fc.deals.groupby("category")["expected_value"].agg(deals="size", expected_value="sum")
    out = {
        "as_of": str(snap.as_of.date()),
        "period": str(fc.period),
        "funnel": funnel.name,
        "measure": measure,
        "measure_note": measure_note,
        **fc.quantiles(),
        "mean_note": skew_note(fc.quantiles()),
        "target": goal.value,
        "target_source": goal.source,
        "target_warning": goal.warning,
        "p_hit_target": fc.p_hit(goal.value),
        "new_deals_share": fc.new_deals_share,
        "period_noise_sd": model.period_noise_.sd,
        "booked_so_far": fc.booked,
        # each level against its own target (its history), not the company's
        "by": {
            g: _records(fc.to_frame(g, targets=level_targets(snap, str(fc.period), measure, g)))
            for g in fc.by_group
            if g not in TEAM  # owners, managers and teams: in the roll-up, against their targets there
        },
        "categories": categories.reset_index().to_dict(orient="records"),
        "rollup": _rollup(fc, snap, measure, goal.value, ws),
        "at_risk": _records(_at_risk(model, snap, fc, ws, args.ledger).head(AT_RISK_SHOWN)),
        "diagnostics": {**model.diagnostics_.__dict__, "converged": model.diagnostics_.converged},
        "fit_reused": model.reused_,
    }
    failed = NOT_CONVERGED if args.strict and not model.diagnostics_.converged else 0
    if args.ledger != "none":
        from omnimodel.funnel import ledger

        out["ledger_run"] = ledger.record(args.ledger, [ledger.entry(fc, snap, model, ws.name, "cli")])
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return failed
    from omnimodel.charts.style import format_chance as chance

    if not model.diagnostics_.converged:  # before the numbers, so nobody reads them first
        print(model.diagnostics_.message())
    print(f"Bookings forecast for {out['period']} as of {out['as_of']} ({funnel.name}, {measure}):")
    print(
        f"  P10 {out['p10']:,.0f}   P50 {out['p50']:,.0f}   P90 {out['p90']:,.0f}   mean {out['mean']:,.0f}"
    )
    print(f"  {measure_note}")
    if out["mean_note"]:
        print(f"  {out['mean_note']}")
    print(f"  P(bookings reach {goal.value:,.0f}) = {chance(out['p_hit_target'])}. {goal.describe()}")
    print(f"  {out['new_deals_share']:.0%} of the expected value comes from deals not created yet")
    for g in out["by"]:
        print(f"  by {g}:")
        for row in out["by"][g]:
            hit = (
                f"  P(reach {row['target']:,.0f}) {chance(row['p_hit'])}" if _known(row.get("p_hit")) else ""
            )
            print(
                f"    {str(row[g]):<20} P10 {row['p10']:>12,.0f}  P50 {row['p50']:>12,.0f}  P90 {row['p90']:>12,.0f}"
                + hit
            )
    if out["rollup"]:
        print(f"  by team and manager (targets: {out['rollup'][0]['target_source']}):")
    for row in out["rollup"]:
        if row["level"] in ("team", "manager"):
            hit = f"  P(reach {row['target']:,.0f}) {chance(row['p_hit'])}" if _known(row["p_hit"]) else ""
            print(
                f"  {row['level']:<8} {str(row['name']):<20} P10 {row['p10']:>12,.0f}  P50 {row['p50']:>12,.0f}  "
                f"P90 {row['p90']:>12,.0f}{hit}"
            )
    print(
        "  open deals by forecast category: "
        + ", ".join(
            f"{r['category']} {r['deals']} (expected {r['expected_value']:,.0f})" for r in out["categories"]
        )
    )
    if out["at_risk"]:
        print("  deals at risk (value at stake first):")
        width = max([14, *(len(str(r["opportunity_id"])) + 2 for r in out["at_risk"])])  # long CRM ids fit
        for row in out["at_risk"]:
            print(
                f"    {row['opportunity_id']!s:<{width}}{row['stage']:<14}{row['at_stake']:>12,.{0 if measure == 'amount' else 2}f}  {row['reasons']}"
            )
    if model.diagnostics_.converged:
        print("  " + model.diagnostics_.message())
    from omnimodel.funnel.fits import note

    print("  " + note(model) + (" --refit fits again." if model.reused_ else ""))
    return failed


def _at_risk(model, snap, fc, ws, path: str):
    """The open deals at risk, with the deals' recorded history: the workspace's opportunity history and the deal
    states the ledger recorded at earlier runs on this workspace."""
    from omnimodel.funnel import ledger
    from omnimodel.funnel.history import recorded_states
    from omnimodel.funnel.inspection import deals_at_risk

    book = None if path == "none" else path
    recorded = ledger.read(book, "deals")
    earlier = recorded[recorded["run_id"].isin(ledger.runs(book, ws.name)["run_id"])]
    return deals_at_risk(model, snap, fc.deals, recorded_states(ws, snap.as_of, earlier))


def _known(x) -> bool:
    """A number, not None or NaN (a level without a target has no chance to reach it)."""
    return x is not None and x == x


def _rollup(fc, snap, measure: str, goal: float, ws) -> list[dict]:
    """The forecast by team, manager and owner against their targets (empty without deal owners)."""
    from omnimodel.funnel import rollup

    if "owner" not in fc.by_group:
        return []
    targets = rollup.owner_targets(snap, str(fc.period), measure, goal, rollup.quotas_of(ws))
    return _records(
        rollup.rollup(fc, targets).assign(target_source=targets["source"].iloc[0]).astype({"level": str})
    )


def _records(frame) -> list[dict]:
    """Rows as plain records, missing values as None (valid JSON: no NaN)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def changes_command(args) -> int:
    """``omnimodel pipeline changes``: why the forecast of a period changed between two as-of dates."""
    import pandas as pd

    from omnimodel.data.periods import next_quarter
    from omnimodel.exceptions import ParameterError
    from omnimodel.funnel import ledger
    from omnimodel.funnel.changes import as_recorded, forecast_change
    from omnimodel.funnel.fits import fitted_model
    from omnimodel.funnel.history import recorded_states, states_on
    from omnimodel.funnel.measures import choose_measure
    from omnimodel.funnel.snapshot import pipeline_snapshot

    ws, funnel, sampler = _setup(args)
    later = pipeline_snapshot(ws, funnel, args.to)
    where = dict(w.split("=", 1) for w in args.where or [])
    book = None if args.ledger == "none" else args.ledger
    recorded = ledger.runs(book, ws.name, where)
    recorded = recorded[pd.to_datetime(recorded["as_of"]) < later.as_of]
    if args.period:
        recorded = recorded[recorded["period"] == args.period]
    if args.from_date:
        from_date = pd.Timestamp(args.from_date)
    elif len(recorded):
        from_date = pd.Timestamp(recorded["as_of"].max())  # the last recorded forecast before
    else:
        from_date = later.as_of - pd.Timedelta(days=7)  # the weekly call
    if from_date >= later.as_of:
        raise ParameterError(
            f"--from ({from_date.date()}) must be before --to ({later.as_of.date()})",
            fix="give an earlier --from",
        )
    on_date = recorded[pd.to_datetime(recorded["as_of"]) == from_date]
    period = args.period or (on_date["period"].iloc[-1] if len(on_date) else next_quarter(later.as_of))
    found = ledger.last_before(book, ws.name, period, from_date + pd.Timedelta(days=1), where)
    on_from = found[1] if found is not None and pd.Timestamp(found[0]["as_of"]) == from_date else None
    # the deals as the CRM showed them on the earlier date: its opportunity history, the ledger's entry that day
    seen = states_on(recorded_states(ws, from_date, on_from), from_date)
    earlier = later.rewind(from_date)
    measure, _ = choose_measure(later.deals, args.measure)
    fit = {"measure": measure, "sampler_config": sampler, "random_seed": args.seed}
    models = fitted_model(earlier, **fit), fitted_model(later, **fit)
    change = forecast_change((models[0], as_recorded(earlier, seen)), (models[1], later), period, where=where)
    out = {
        "funnel": funnel.name,
        "measure": measure,
        "where": where,
        "recorded_deals": len(seen),
        **change.to_dict(),
    }
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    print(
        f"Why the forecast for {out['period']} changed from {out['from']} to {out['to']} ({funnel.name}, {measure}"
        + "".join(f", {k} {v}" for k, v in where.items())
        + "):"
    )
    print(f"  expected bookings {change.before:,.0f} -> {change.after:,.0f} ({change.change:+,.0f})")
    for row in change.parts.itertuples():
        if row.change or row.part == "model update":
            deals = f"{row.deals:,} deals" if row.deals else ""
            print(f"    {row.part:<24}{row.change:>+14,.0f}  {deals}")
    if not len(seen):
        print(
            "  Amounts and close dates as in today's export (no opportunity history and no ledger entry for the "
            "earlier date): amount changes and slips show once forecasts are recorded (omnimodel pipeline "
            "forecast, omnimodel report) or with an opportunity_history table."
        )
    print("  deals that moved the forecast most:")
    shown = change.deals.head(args.top)
    width = max([14, *(len(str(i)) + 2 for i in shown["opportunity_id"])])  # long CRM ids (Olist: 32) fit
    for row in shown.itertuples():
        print(
            f"    {row.opportunity_id!s:<{width}}{row.part:<24}{str(row.stage_before):>12} -> {str(row.stage_after):<12}"
            f"{row.change:>+12,.0f}"
        )
    return 0


def accuracy_command(args) -> int:
    """``omnimodel pipeline accuracy``: the recorded forecasts of closed periods scored, by days ahead."""
    from omnimodel.data.workspace import Workspace
    from omnimodel.funnel import funnel_for
    from omnimodel.funnel.accuracy import scores, trend
    from omnimodel.funnel.snapshot import pipeline_snapshot

    ws = Workspace(args.workspace)
    where = dict(w.split("=", 1) for w in args.where or [])
    scored = scores(args.ledger, pipeline_snapshot(ws, funnel_for(ws, args.funnel)), ws.name, where)
    by_lead = trend(scored)
    if args.json:
        out = {"forecasts": scored.assign(as_of=scored["as_of"].astype(str)), "trend": by_lead}
        print(json.dumps({k: v.to_dict(orient="records") for k, v in out.items()}, indent=2, default=str))
        return 0
    if scored.empty:
        print(
            f"No recorded forecast of a closed period for {ws.name} in {args.ledger}: forecasts are scored once "
            "their period has closed (omnimodel pipeline forecast and omnimodel report record them)."
        )
        return 0
    print(f"{len(scored)} recorded forecasts of {scored['period'].nunique()} closed periods, by days ahead:")
    for r in by_lead.itertuples():
        print(
            f"  {r.days_ahead:<14} {r.recorded:>3} forecasts   median error {r.median_ape:6.1%}   "
            f"P10-P90 held the actual {r.coverage_p10_p90:4.0%}   CRPS {r.crps:,.0f}"
        )
    return 0


def backtest_command(args) -> int:
    """``omnimodel pipeline backtest``: rolling as-of snapshots scored against the CRM's baselines."""
    from omnimodel.funnel.backtest import backtest
    from omnimodel.funnel.measures import choose_measure
    from omnimodel.funnel.snapshot import pipeline_snapshot

    ws, funnel, sampler = _setup(args)
    measure, _ = choose_measure(pipeline_snapshot(ws, funnel).deals, args.measure)
    result = backtest(
        ws,
        funnel,
        freq=args.freq,
        n_snapshots=args.snapshots,
        sampler_config=sampler,
        random_seed=args.seed,
        measure=measure,
        echo=None if args.json else print,
    )
    summary = result.summary()
    if args.json:
        print(
            json.dumps(
                {
                    "funnel": funnel.name,
                    "measure": measure,
                    "summary": summary.to_dict(orient="records"),
                    "snapshots": result.scores.to_dict(orient="records"),
                },
                indent=2,
                default=str,
            )
        )
        return 0
    print(
        f"\nBacktest of {funnel.name} ({measure}), {summary['snapshots'].iloc[0]} snapshots, freq {args.freq}:"
    )
    print(summary.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print("Lower is better for mape, crps and brier; coverage_p10_p90 should be near 0.8.")
    return 0


def add_pipeline_parser(sub) -> None:
    """Register ``omnimodel pipeline forecast|changes|backtest`` on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "pipeline",
        help="pipeline forecast, why it changed, and backtest (Bayesian win probabilities)",
        description="Fit the Bayesian pipeline model on a workspace and forecast bookings, split the change of "
        "a forecast between two dates into its causes, or backtest it against CRM-style baselines on rolling "
        "as-of snapshots. Forecasts are recorded in the forecast ledger.",
        epilog="examples:\n  omnimodel pipeline forecast --workspace data/demo.duckdb --period 2026Q1\n"
        "  omnimodel pipeline changes --workspace data/maven.duckdb --from 2017-05-31 --to 2017-06-30\n"
        "  omnimodel pipeline backtest --workspace data/maven.duckdb --freq M --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext, func in (
        ("forecast", "forecast bookings in a period", forecast_command),
        ("changes", "why the forecast of a period changed between two dates", changes_command),
        ("accuracy", "how good the recorded forecasts were, by days ahead", accuracy_command),
        ("backtest", "score forecasts on past snapshots against baselines", backtest_command),
    ):
        example = "omnimodel pipeline " + action + " --workspace data/demo.duckdb"
        q = actions.add_parser(
            action,
            help=helptext,
            epilog="example: "
            + example
            + {
                "forecast": " --period 2026Q1 --target 1500000",
                "changes": " --from 2025-05-31 --to 2025-06-30 --period 2025Q3",
                "accuracy": " --json",
                "backtest": " --freq Q",
            }[action],
        )
        q.add_argument(
            "--workspace", required=True, help="workspace file, or an engine URL (sc://host:15002)"
        )
        q.add_argument(
            "--funnel", help="funnel definition name or YAML (default: from the workspace's adapter)"
        )
        if action != "accuracy":  # scoring recorded forecasts fits nothing
            q.add_argument(
                "--measure",
                choices=["amount", "deals"],
                help="deal value or won-deal count (default: amount when most won deals have one and no few "
                "dominate)",
            )
            q.add_argument(
                "--draws", type=int, default=1000, help="posterior draws (and tuning steps) per chain"
            )
            q.add_argument("--seed", type=int, default=42, help="same seed, same numbers (default 42)")
        q.add_argument("--json", action="store_true", help="machine-readable output")
        if action in ("forecast", "changes", "accuracy"):
            q.add_argument(
                "--ledger",
                default=str(DEFAULT_LEDGER),
                help=f"forecast ledger (default {DEFAULT_LEDGER}, beside the reports)"
                + {"forecast": "; 'none' records nothing", "changes": "; 'none' reads nothing"}.get(
                    action, ""
                ),
            )
        if action == "accuracy":
            q.add_argument(
                "--where",
                action="append",
                metavar="COLUMN=VALUE",
                help="forecasts of this slice (repeatable)",
            )
        if action == "changes":
            q.add_argument(
                "--from",
                dest="from_date",
                help="earlier as-of date (default: the last forecast recorded in the ledger before --to, else a "
                "week before it)",
            )
            q.add_argument("--to", help="later as-of date (default: the last date in the data)")
            q.add_argument(
                "--period",
                help="quarter, month or year (default: the recorded forecast's, else the quarter after --to)",
            )
            q.add_argument(
                "--where",
                action="append",
                metavar="COLUMN=VALUE",
                help="only deals with this value, e.g. region=Central (repeatable)",
            )
            q.add_argument("--top", type=int, default=10, help="deals to list (default 10)")
        if action == "forecast":
            q.add_argument(
                "--strict",
                action="store_true",
                help=f"exit {NOT_CONVERGED} when the model did not converge (for scheduled runs)",
            )
            q.add_argument(
                "--refit",
                action="store_true",
                help="fit again even when the same snapshot was fitted with the same settings before "
                "(the fit is otherwise loaded from .cache/pipeline)",
            )
        q.set_defaults(func=func)
        if action == "forecast":
            q.add_argument(
                "--period",
                help="quarter (2026Q1), month (2026-01) or year (2026); default: the quarter after the as-of date",
            )
            q.add_argument("--as-of", dest="as_of", help="snapshot date (default: the last date in the data)")
            q.add_argument(
                "--target",
                type=float,
                help="P(bookings reach this target); default: the same period a year earlier (the median of the last four periods when that one is not comparable)",
            )
        elif action == "backtest":
            q.add_argument(
                "--freq", choices=["M", "Q"], default="M", help="snapshot spacing and period length"
            )
            q.add_argument("--snapshots", type=int, default=6, help="number of rolling snapshots (default 6)")
