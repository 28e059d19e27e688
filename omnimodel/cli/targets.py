"""`omnimodel targets backtest`: per series MASE of the chosen baseline model and of seasonal naive, on the
same origins."""

from __future__ import annotations

import argparse
import json
import sys


def _hierarchy(args):
    from omnimodel.forecasting import series

    if args.workspace:
        from omnimodel.data.workspace import Workspace

        with Workspace(args.workspace) as ws:
            return series.workspace_revenue(ws, tuple(args.levels.split(",")), args.freq, args.min_share)
    if args.csv:
        from omnimodel.data.readers import read_table_file

        frame = read_table_file(args.csv, "series")
        return series.Hierarchy.from_frame(
            frame, args.period_column, args.levels.split(","), args.value, args.freq, name=args.value
        )
    if not args.folder:
        from omnimodel.exceptions import ParameterError

        raise ParameterError(
            f"--series {args.series} needs --folder", fix="pass the folder holding the series files"
        )
    return series.series_set(args.series, args.folder)


def backtest_command(args) -> int:
    """``omnimodel targets backtest``: MASE of the chosen baseline models against seasonal naive."""
    from omnimodel.forecasting.baseline import backtest

    hierarchy = _hierarchy(args)
    result = backtest(
        hierarchy,
        h=args.horizon,
        n_select=args.choose,
        n_score=args.score,
        choose_by=args.choose_by,
        progress=sys.stderr.isatty(),  # a terminal watches it; logs and pipes stay clean
    )
    out = {
        "source": args.workspace or args.csv or args.series,
        "periods": [str(hierarchy.bottom.index[0]), str(hierarchy.bottom.index[-1])],
        "season_length": hierarchy.season_length,
        "horizon": args.horizon or hierarchy.season_length,
        "origins": {"choose": args.choose, "score": args.score},
        "choose_by": args.choose_by,
        "overall": result.overall,
        "series": result.summary.to_dict(orient="records"),
    }
    if args.json:
        print(json.dumps(out, indent=2, default=float))
        return 0
    o = out["overall"]
    print(
        f"Baseline backtest of {out['source']} ({out['periods'][0]} to {out['periods'][1]}, horizon "
        f"{out['horizon']}): model chosen per {args.choose_by} on the first {args.choose} origins, scored with seasonal "
        f"naive on the same origins of the last {args.score} (scored_origins)."
    )
    print(result.summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"Mean MASE: chosen models {o['mase_model']:.3f}, seasonal naive {o['mase_seasonal_naive']:.3f}; "
        f"{o['series_beating_seasonal_naive']} of {o['series']} series beat seasonal naive. Lower is better."
    )
    if o["fits_not_converged"]:
        print(
            f"Note: {o['fits_not_converged']:,} of the {o['fits']:,} fits stopped at the optimiser's limit of "
            "1,000 iterations before its tolerance (column fits_not_converged); they are scored like the rest."
        )
    return 0


def add_targets_parser(sub) -> None:
    """Register ``omnimodel targets backtest`` on the subcommand parsers ``sub``."""
    p = sub.add_parser(
        "targets",
        help="baseline revenue forecasts and their backtest",
        description="Backtest the per-series baseline forecasts (statsmodels ETS chosen on rolling origins) "
        "against seasonal naive, on a workspace, your own long CSV of series, or the Australian tourism series.",
        epilog="examples:\n  omnimodel targets backtest --workspace data/demo.duckdb\n"
        "  omnimodel targets backtest --csv sales.csv --levels channel --value revenue --freq W\n"
        "  omnimodel targets backtest --series au-visitor-nights --folder tourism/ --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser(
        "backtest",
        help="MASE of the chosen model and of seasonal naive per series",
        epilog="example: omnimodel targets backtest --workspace data/demo.duckdb --levels channel,region",
    )
    src = q.add_mutually_exclusive_group(required=True)
    src.add_argument("--workspace", help="workspace file: revenue per period and --levels")
    src.add_argument(
        "--csv",
        metavar="FILE",
        help="your own series: a long CSV with a period column, the --levels columns and a --value column",
    )
    src.add_argument(
        "--series",
        choices=["au-visitor-nights", "au-accommodation"],
        help="a bundled real series set instead",
    )
    q.add_argument("--folder", help="folder of the --series files (required with --series)")
    q.add_argument(
        "--levels", default="channel,region", help="hierarchy levels, top first (default channel,region)"
    )
    q.add_argument(
        "--freq",
        choices=["D", "W", "M", "Q"],
        default="M",
        help="period length: days, weeks (season 52), months or quarters (default M); a --csv's daily rows "
        "are summed into it",
    )
    q.add_argument("--period-column", default="period", help="the --csv's period column (default period)")
    q.add_argument("--value", default="value", help="the --csv's value column (default value)")
    q.add_argument(
        "--min-share", type=float, default=0.0, help="fold series below this revenue share into 'other'"
    )
    q.add_argument("--horizon", type=int, help="periods ahead per origin (default: one season)")
    q.add_argument("--choose", type=int, default=4, help="origins that choose the model (default 4)")
    q.add_argument("--score", type=int, default=8, help="later origins that score it (default 8)")
    q.add_argument(
        "--choose-by",
        choices=["series", "level"],
        default="series",
        help="choose a model per series, or one per hierarchy level (for short series; default series)",
    )
    q.add_argument("--json", action="store_true", help="machine-readable output")
    q.set_defaults(func=backtest_command)
