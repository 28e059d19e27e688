"""`omnimodel targets backtest`: per series MASE of the chosen baseline model and of seasonal naive, on the
same origins."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnimodel.app.plan import ChannelPlan


def _plan(args: argparse.Namespace) -> ChannelPlan:
    """The channel plan of the command's series: a workspace's revenue, a client's CSV or a bundled set."""
    from omnimodel.app.plan import ChannelPlan  # noqa: F811 (at run time: --help stays light)
    from omnimodel.forecasting import series

    settings: dict[str, Any] = {
        "goals": None,  # the baseline only
        "horizon": args.horizon,
        "choose_origins": args.choose,
        "score_origins": args.score,
        "choose_by": args.choose_by,
        "progress": sys.stderr.isatty(),  # a terminal watches it; logs and pipes stay clean
    }
    if args.workspace:
        return ChannelPlan(
            args.workspace, levels=args.levels, freq=args.freq, min_share=args.min_share, **settings
        )
    if args.csv:
        from omnimodel.ingest.readers import read_table_file

        frame = read_table_file(args.csv, "series")
        hierarchy = series.Hierarchy.from_frame(
            frame, args.period_column, args.levels.split(","), args.value, args.freq, name=args.value,
            dayfirst=args.dayfirst,
        )  # fmt: skip
        return ChannelPlan(hierarchy=hierarchy, **settings)
    if not args.folder:
        from omnimodel.exceptions import ParameterError

        raise ParameterError(
            f"--series {args.series} needs --folder", fix="pass the folder holding the series files"
        )
    return ChannelPlan(series_set=args.series, series_folder=args.folder, **settings)


def backtest_command(args: argparse.Namespace) -> int:
    """``omnimodel targets backtest``: MASE of the chosen baseline models against seasonal naive."""
    report = _plan(args).backtest_report(args.workspace or args.csv or args.series)
    print(report.to_json() if args.json else report.as_text())
    return 0


def add_targets_parser(sub: Any) -> None:
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
    order = q.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                       help="the --csv's dates are day first (05/02/10 = 5 February); needed only where no "
                       "day above 12 shows it")  # fmt: skip
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="the --csv's dates are month first (05/02/10 = 2 May)")  # fmt: skip
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
