"""`omnimodel pipeline forecast|backtest`: the pipeline model from the command line (text or JSON)."""

from __future__ import annotations

import argparse
import json
import os


def _setup(args):
    from omnimodel.data.workspace import Workspace
    from omnimodel.environment import pytensor_environment
    from omnimodel.funnel import funnel_for

    os.environ["PYTENSOR_FLAGS"] = pytensor_environment()["PYTENSOR_FLAGS"]
    ws = Workspace(args.workspace)
    funnel = funnel_for(ws, args.funnel)
    has_amounts = ws.table("opportunities").amount.notnull().sum().execute() > 0
    measure = args.measure or ("amount" if has_amounts else "deals")
    return ws, funnel, measure, {"draws": args.draws, "tune": args.draws}


def forecast_command(args) -> int:
    """``omnimodel pipeline forecast``: fit on the snapshot, forecast the period, print text or JSON."""
    from omnimodel.funnel.forecast import forecast_bookings
    from omnimodel.funnel.model import PipelineModel
    from omnimodel.funnel.snapshot import pipeline_snapshot

    ws, funnel, measure, sampler = _setup(args)
    snap = pipeline_snapshot(ws, funnel, args.as_of)
    model = PipelineModel(sampler_config=sampler, measure=measure).fit(snap, random_seed=args.seed)
    from omnimodel.data.periods import next_quarter

    fc = forecast_bookings(model, snap, args.period or next_quarter(snap.as_of), random_seed=args.seed)
    categories = fc.deals.groupby("category")["expected_value"].agg(deals="size", expected_value="sum")
    out = {
        "as_of": str(snap.as_of.date()),
        "period": str(fc.period),
        "funnel": funnel.name,
        "measure": measure,
        **fc.quantiles(),
        "target": args.target,
        "p_hit_target": fc.p_hit(args.target) if args.target is not None else None,
        "new_deals_share": fc.new_deals_share,
        "period_noise_sd": model.period_noise_sd_,
        "by": {g: fc.to_frame(g).to_dict(orient="records") for g in fc.by_group},
        "categories": categories.reset_index().to_dict(orient="records"),
        "diagnostics": {**model.diagnostics_.__dict__, "converged": model.diagnostics_.converged},
    }
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return 0
    print(f"Bookings forecast for {out['period']} as of {out['as_of']} ({funnel.name}, {measure}):")
    print(
        f"  P10 {out['p10']:,.0f}   P50 {out['p50']:,.0f}   P90 {out['p90']:,.0f}   mean {out['mean']:,.0f}"
    )
    if args.target is not None:
        print(f"  P(bookings reach {args.target:,.0f}) = {out['p_hit_target']:.0%}")
    print(f"  {out['new_deals_share']:.0%} of the expected value comes from deals not created yet")
    for g in fc.by_group:
        print(f"  by {g}:")
        for row in out["by"][g]:
            print(
                f"    {str(row[g]):<20} P10 {row['p10']:>12,.0f}  P50 {row['p50']:>12,.0f}  P90 {row['p90']:>12,.0f}"
            )
    print(
        "  open deals by forecast category: "
        + ", ".join(
            f"{r['category']} {r['deals']} (expected {r['expected_value']:,.0f})" for r in out["categories"]
        )
    )
    print("  " + model.diagnostics_.message())
    return 0


def backtest_command(args) -> int:
    """``omnimodel pipeline backtest``: rolling as-of snapshots scored against the CRM's baselines."""
    from omnimodel.funnel.backtest import backtest

    ws, funnel, measure, sampler = _setup(args)
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
    """Register ``omnimodel pipeline forecast|backtest`` on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "pipeline",
        help="pipeline forecast and backtest (Bayesian win probabilities)",
        description="Fit the Bayesian pipeline model on a workspace and forecast bookings, or backtest it "
        "against CRM-style baselines on rolling as-of snapshots.",
        epilog="examples:\n  omnimodel pipeline forecast --workspace data/demo.duckdb --period 2026Q1\n"
        "  omnimodel pipeline backtest --workspace data/maven.duckdb --freq M --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, helptext, func in (
        ("forecast", "forecast bookings in a period", forecast_command),
        ("backtest", "score forecasts on past snapshots against baselines", backtest_command),
    ):
        example = "omnimodel pipeline " + action + " --workspace data/demo.duckdb"
        q = actions.add_parser(
            action,
            help=helptext,
            epilog="example: "
            + example
            + (" --period 2026Q1 --target 1500000" if action == "forecast" else " --freq Q"),
        )
        q.add_argument("--workspace", required=True, help="workspace file")
        q.add_argument(
            "--funnel", help="funnel definition name or YAML (default: from the workspace's adapter)"
        )
        q.add_argument(
            "--measure",
            choices=["amount", "deals"],
            help="deal value or won-deal count (default: amount when the data has amounts)",
        )
        q.add_argument("--draws", type=int, default=1000, help="posterior draws (and tuning steps) per chain")
        q.add_argument("--seed", type=int, default=42, help="same seed, same numbers (default 42)")
        q.add_argument("--json", action="store_true", help="machine-readable output")
        q.set_defaults(func=func)
        if action == "forecast":
            q.add_argument(
                "--period",
                help="quarter (2026Q1), month (2026-01) or year (2026); default: the quarter after the as-of date",
            )
            q.add_argument("--as-of", dest="as_of", help="snapshot date (default: the last date in the data)")
            q.add_argument("--target", type=float, help="also report P(bookings reach this target)")
        else:
            q.add_argument(
                "--freq", choices=["M", "Q"], default="M", help="snapshot spacing and period length"
            )
            q.add_argument("--snapshots", type=int, default=6, help="number of rolling snapshots (default 6)")
