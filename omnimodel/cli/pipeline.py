"""`omnimodel pipeline forecast|backtest`: the pipeline model from the command line (text or JSON)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnimodel.app.pipeline import PipelineReview

#: exit code of ``pipeline forecast --strict`` when the model did not converge (the numbers are still printed)
NOT_CONVERGED = 6
#: the forecast ledger's default place (:data:`omnimodel.funnel.ledger.DEFAULT_PATH`; not imported: --help stays light)
DEFAULT_LEDGER = "reports/forecast-ledger.duckdb"


def _review(args: argparse.Namespace, **settings: Any) -> PipelineReview:
    """The pipeline review of the command's workspace and settings."""
    from omnimodel.app.pipeline import PipelineReview  # noqa: F811 (at run time: --help stays light)
    from omnimodel.environment import pytensor_environment

    os.environ["PYTENSOR_FLAGS"] = pytensor_environment()["PYTENSOR_FLAGS"]
    where = dict(w.split("=", 1) for w in getattr(args, "where", None) or [])
    ledger = getattr(args, "ledger", None)
    return PipelineReview(args.workspace, funnel=args.funnel, where=where, ledger=ledger, **settings)


def _fit(args: argparse.Namespace) -> dict[str, Any]:
    return {"measure": args.measure, "draws": args.draws, "seed": args.seed}


def forecast_command(args: argparse.Namespace) -> int:
    """``omnimodel pipeline forecast``: fit on the snapshot, forecast the period, print text or JSON."""
    review = _review(
        args, as_of=args.as_of, period=args.period, target=args.target, refit=args.refit, **_fit(args)
    )
    result = review.result()
    if review.ledger is not None:
        result.data["ledger_run"] = review.record("cli")
    print(result.to_json() if args.json else result.as_text())
    return NOT_CONVERGED if args.strict and not result.diagnostics.converged else 0


def changes_command(args: argparse.Namespace) -> int:
    """``omnimodel pipeline changes``: why the forecast of a period changed between two as-of dates."""
    report = _review(args, as_of=args.to, period=args.period, **_fit(args)).changes(args.from_date)
    report.top = args.top
    print(report.to_json() if args.json else report.as_text())
    return 0


def accuracy_command(args: argparse.Namespace) -> int:
    """``omnimodel pipeline accuracy``: the recorded forecasts of closed periods scored, by days ahead."""
    report = _review(args).accuracy_report()
    print(report.to_json() if args.json else report.as_text())
    return 0


def backtest_command(args: argparse.Namespace) -> int:
    """``omnimodel pipeline backtest``: rolling as-of snapshots scored against the CRM's baselines."""
    report = _review(args, **_fit(args)).backtest_report(
        args.freq, args.snapshots, None if args.json else print
    )
    print(report.to_json() if args.json else report.as_text())
    return 0


def add_pipeline_parser(sub: Any) -> None:
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
