"""The channel plan: one object behind notebooks 04 (targets) and 05 (what-if) and ``omnimodel targets``.

Revenue per period by channel x region (or any series: a bundled series set, a client's CSV) -> the baseline
backtest that chooses each series' model against seasonal naive -> forecasts -> and, with strategy goals on the
workspace's monthly channel x region revenue, the plan: targets top-down against the forecast bottom-up, bridges,
the split of each channel's target over categories and segments, and scenarios. Without goals (or on other
series) it is a baseline forecast only, and says so once. Each step is computed once, when first asked for; the
backtest and the plan's draws come from one shared plan per data and settings, so 04 and 05 show the same numbers.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import pandas as pd

from omnimodel.data.workspace import Workspace

if TYPE_CHECKING:
    from omnimodel.forecasting.baseline import BaselineBacktest, HierarchyForecast
    from omnimodel.forecasting.series import Hierarchy
    from omnimodel.reporting.summary import Summary
    from omnimodel.targets.goals import StrategyGoals
    from omnimodel.targets.scenario import Outcome, PlanInputs, Scenario
    from omnimodel.targets.shared import SharedPlan
    from omnimodel.targets.split import TargetSplit
    from omnimodel.whatif.widgets import WhatIfPanel


class ChannelPlan:
    """Revenue forecasts per channel and region and, with strategy goals, the targets that follow.

    Parameters
    ----------
    workspace : Workspace, str or dict, optional
        The workspace; None with ``series_set`` or ``hierarchy``.
    goals : str, optional
        Strategy goals (YAML, relative to the project root); None: baseline forecasts only.
    year : int, optional
        Target year (overrides the goals'); None: the year after the latest complete year of orders.
    levels, freq, min_share :
        Hierarchy levels, top first (targets need ``channel,region``), period length (targets need ``M``), and
        the revenue share under which series are folded into "other".
    series_set, series_folder :
        A bundled series set (``au-visitor-nights``, ``au-accommodation``) read from a folder, instead of the
        workspace; ``hierarchy`` gives any series directly.
    horizon, choose_origins, score_origins, choose_by :
        The backtest: periods ahead per origin (None: one season), the origins that choose each series' model
        and the later ones that score it against seasonal naive, per series or per hierarchy level.
    draws, seed : forecast draws per series, and the seed.
    region, channel : str, optional
        The region or channel the views show (checked against the data); None for all.

    Examples
    --------
    >>> plan = ChannelPlan("data/demo.duckdb", goals="goals.yaml")  # doctest: +SKIP
    >>> plan.outcome.level("channel")  # doctest: +SKIP
    """

    def __init__(
        self,
        workspace: Workspace | str | dict | None = None,
        *,
        goals: str | None = "goals.yaml",
        year: int | None = None,
        levels: str = "channel,region",
        freq: str = "M",
        min_share: float = 0.0,
        series_set: str | None = None,
        series_folder: str | None = None,
        hierarchy: Hierarchy | None = None,
        horizon: int | None = 3,
        choose_origins: int = 4,
        score_origins: int = 6,
        choose_by: str = "series",
        draws: int = 1000,
        seed: int = 42,
        region: str | None = None,
        channel: str | None = None,
        progress: bool = False,
    ):
        import dataclasses

        from omnimodel.data import periods
        from omnimodel.environment import resolve_path
        from omnimodel.notice import ReportStopped
        from omnimodel.targets import plan
        from omnimodel.targets.goals import load_strategy_goals

        ws = None
        if workspace is not None and series_set is None and hierarchy is None:
            ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
            if not ws.has("orders"):  # a CRM export alone (Maven, Olist): no revenue series to forecast
                raise ReportStopped(
                    "No orders in this workspace: revenue forecasts and targets per channel and region are "
                    "built on an order export",
                    fix="ingest the shop's or ERP's orders and order lines",
                )
            ws.require_value("region", region, "customers.region", "orders.region")  # no match stops here
            ws.require_value("channel", channel, "orders.channel")
        self.workspace = ws
        read = load_strategy_goals(resolve_path(goals)) if goals else None
        self.year = year or (read.year if read else None)  # given, else the goals', else from the data
        #: why there are no targets, a clause for the report (empty when they apply or were not asked for)
        self.no_targets = ""
        if ws is not None and read is not None and not self.year:
            if periods.latest_complete_year(ws) is None:  # nothing to grow: the baseline forecasts still hold
                first, through = periods.data_span(ws)
                self.no_targets = (
                    f"targets grow last year's revenue, but the orders ({first:%d %b %Y} to {through:%d %b %Y}) "
                    "hold no complete calendar year"
                )
            else:
                self.year = periods.default_target_year(ws)
        self.goals: StrategyGoals | None = None
        if read is not None and self.year:
            self.goals = dataclasses.replace(read, year=self.year)
        # targets need the workspace's monthly channel x region revenue and strategy goals
        self.targets_apply = False
        if ws is not None and self.goals is not None and levels == "channel,region" and freq == "M":
            plan.target_year(ws, self.goals)  # before any fitting: the year before must be complete
            self.targets_apply = True
        self.levels, self.freq, self.min_share = tuple(levels.split(",")), freq, min_share
        self.series_set, self.series_folder, self._given = series_set, series_folder, hierarchy
        self.horizon, self.choose_origins, self.score_origins = horizon, choose_origins, score_origins
        self.choose_by, self.draws, self.seed, self.progress = choose_by, draws, seed, progress
        self.region, self.channel = region, channel

    @property
    def currency(self) -> str | None:
        """The workspace's currency (None for other series)."""
        return self.workspace.currency() if self.workspace is not None else None

    @cached_property
    def hierarchy(self) -> Hierarchy:
        """The series: revenue per period and node (up to the year before the target year when planning)."""
        from omnimodel.forecasting import series

        if self._given is not None:
            return self._given
        if self.workspace is None:
            return series.series_set(str(self.series_set), str(self.series_folder))
        out = series.workspace_revenue(self.workspace, self.levels, freq=self.freq, min_share=self.min_share)
        return out.until(f"{self.year - 1}-12") if self.targets_apply and self.year else out

    @cached_property
    def origins(self) -> tuple[int, int]:
        """The backtest's (choosing, scoring) origins: as asked, or as many as the history holds, in the same
        proportion (a backtest needs four periods before its first origin and the horizon after its last; 18
        months of orders hold 6 origins of horizon 3, not the 10 asked by default)."""
        h = self.hierarchy
        horizon = self.horizon or (
            3 if self.targets_apply else h.season_length
        )  # as shared_plan / backtest take it
        room = len(h.bottom) - horizon - 3
        asked = self.choose_origins + self.score_origins
        if asked <= room or room < 2:  # room < 2: the backtest says what is missing
            return self.choose_origins, self.score_origins
        score = min(room - 1, max(1, round(room * self.score_origins / asked)))
        return room - score, score

    @property
    def history(self) -> tuple[int, int]:
        """(periods, season length) of the history the forecasts rest on."""
        return len(self.hierarchy.bottom), self.hierarchy.season_length

    @property
    def origins_note(self) -> str | None:
        """A sentence when the history held fewer backtest origins than asked."""
        choose, score = self.origins
        if (choose, score) == (self.choose_origins, self.score_origins):
            return None
        return (
            f"The history holds {len(self.hierarchy.bottom)} periods: the backtest chooses each model on {choose} "
            f"origins and scores it on {score} (asked: {self.choose_origins} and {self.score_origins})."
        )

    @cached_property
    def shared(self) -> SharedPlan | None:
        """The backtest and the plan's draws, computed once per data and settings for 04 and 05 (None: no plan)."""
        from omnimodel.targets.shared import shared_plan

        if not self.targets_apply:
            return None
        assert self.workspace is not None and self.goals is not None
        return shared_plan(
            self.workspace,
            self.goals,
            horizon=self.horizon or 3,
            choose_origins=self.origins[0],
            score_origins=self.origins[1],
            choose_by=self.choose_by,
            draws=self.draws,
            seed=self.seed,
        )

    @cached_property
    def backtest(self) -> BaselineBacktest:
        """Each series' model chosen on the first origins and scored against seasonal naive on the later ones."""
        from omnimodel.forecasting import baseline

        if self.shared is not None:
            return self.shared.backtest
        return baseline.backtest(
            self.hierarchy,
            h=self.horizon,
            n_select=self.origins[0],
            n_score=self.origins[1],
            choose_by=self.choose_by,
            progress=self.progress,
        )

    @cached_property
    def forecast(self) -> HierarchyForecast:
        """Forecast draws per series with the chosen models: to the target year's end, else one season."""
        from omnimodel.forecasting import baseline

        h = self.hierarchy
        ahead = h.periods_until(f"{self.year}-12") if self.targets_apply else max(h.season_length, 1)
        return baseline.forecast_hierarchy(h, ahead, self.backtest.models, n_draws=self.draws, seed=self.seed)

    @property
    def inputs(self) -> PlanInputs:
        """The plan's draws per channel x region cell (what the targets, the scenarios and the panel use)."""
        if self.shared is None:
            from omnimodel.exceptions import ConfigError

            raise ConfigError(
                "targets need a workspace, strategy goals, levels channel,region and monthly periods",
                fix="give goals (goals.yaml) and keep levels and freq at their defaults",
            )
        return self.shared.inputs

    @cached_property
    def start(self) -> Scenario:
        """The scenario the goals set."""
        from omnimodel.targets.scenario import Scenario

        assert self.goals is not None, "a scenario starts from strategy goals"
        return Scenario.from_goals(self.goals)

    @cached_property
    def outcome(self) -> Outcome:
        """Targets top-down from the goals against the forecast bottom-up, per cell, channel, region and total."""
        from omnimodel.targets.plan import plan_targets

        assert self.goals is not None
        return plan_targets(self.inputs, self.goals)

    def bridge(self) -> pd.DataFrame:
        """Revenue and profit from last year to the target, step by step (of the region or channel shown)."""
        from omnimodel.targets.scenario import bridge

        return bridge(self.inputs, self.start, channel=self.channel, region=self.region)

    @cached_property
    def split(self) -> TargetSplit:
        """Each channel's target split over category x segment, proportional and optimised for profit."""
        from omnimodel.targets.split import split_targets

        assert self.workspace is not None and self.goals is not None
        return split_targets(self.workspace, self.inputs, self.goals)

    @cached_property
    def panel(self) -> WhatIfPanel:
        """The live what-if panel (JupyterLab, Voila) on the plan's draws, starting at the goals."""
        from omnimodel.whatif.widgets import WhatIfPanel

        return WhatIfPanel(self.inputs, self.start)

    @cached_property
    def scenarios(self) -> pd.DataFrame:
        """The levers a manager tries first, each moved alone from the goals, side by side."""
        from omnimodel.whatif import compare_scenarios, standard_scenarios

        return compare_scenarios(self.inputs, standard_scenarios(self.inputs, self.start))

    @cached_property
    def under_goals(self) -> Outcome:
        """The plan under the goals as set (the scenarios' first)."""
        from omnimodel.targets.scenario import evaluate

        return evaluate(self.inputs, self.start)

    # --- what it says --------------------------------------------------------------------------------------

    def summary(self) -> Summary:
        """Report 04's answer: the targets against the forecast, or (without a plan) the baseline's accuracy."""
        from omnimodel.reporting import headlines

        if self.targets_apply and self.goals is not None:
            year, diagnostics = self.inputs.year, self.inputs.diagnostics
            return headlines.targets_summary(
                self.outcome, year, self.currency, diagnostics=diagnostics, history=self.history
            )
        return headlines.baseline_summary(self.backtest, self.forecast, self.hierarchy, self.no_targets)

    def whatif_summary(self) -> Summary:
        """Report 05's answer: the plan under the goals, and which lever moves the chance most."""
        from omnimodel.reporting import headlines

        assert self.goals is not None  # self.inputs says so when there is no plan
        total = self.under_goals.level("total").iloc[0]
        year, diagnostics = self.inputs.year, self.inputs.diagnostics
        return headlines.whatif_summary(total, self.scenarios, year, self.currency, diagnostics, self.history)

    def backtest_report(self, source: str) -> BaselineBacktestReport:
        """The backtest as ``omnimodel targets backtest`` reports it; ``source`` names the series."""
        from omnimodel.app.plan_results import BaselineBacktestReport

        h = self.hierarchy
        return BaselineBacktestReport(
            source,
            (str(h.bottom.index[0]), str(h.bottom.index[-1])),
            h.season_length,
            self.horizon or h.season_length,
            {"choose": self.origins[0], "score": self.origins[1]},
            self.choose_by,
            self.backtest,
        )


if TYPE_CHECKING:
    from omnimodel.app.plan_results import BaselineBacktestReport
