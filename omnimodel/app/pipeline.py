"""The pipeline review: one object behind notebook 03 and ``omnimodel pipeline``.

snapshot -> measure -> fit -> forecast -> targets -> roll-up -> deals at risk -> what changed since the last
recorded forecast -> owners' calls -> accuracy of the recorded forecasts -> backtest. Each step is computed once,
when first asked for, from the analyses of :mod:`omnimodel.funnel`; the CLI and the notebook ask the same object,
so they show the same figures. What the CLI prints is a :class:`~omnimodel.app.results.Result`
(:mod:`omnimodel.app.pipeline_results`); what the notebook shows, section by section, is in
:mod:`omnimodel.app.pipeline_sections`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from omnimodel.data.workspace import Workspace

if TYPE_CHECKING:
    from omnimodel.funnel.backtest import BacktestResult
    from omnimodel.funnel.changes import ForecastChange
    from omnimodel.funnel.forecast import BookingsForecast
    from omnimodel.funnel.ledger import Entry
    from omnimodel.funnel.measures import Target
    from omnimodel.funnel.model import PipelineModel
    from omnimodel.funnel.snapshot import PipelineSnapshot
    from omnimodel.reporting.summary import Summary


class PipelineReview:
    """Everything a pipeline review shows, each step computed once when first asked for.

    Parameters
    ----------
    workspace : Workspace, str or dict
        The workspace (a DuckDB file, an engine URL or a ``workspace:`` block).
    funnel : str, optional
        Funnel definition name or YAML path; None: the one for the workspace's source.
    as_of, period : str, optional
        Snapshot date (None: the last date in the data) and forecast period (a quarter, month or year; None: the
        quarter after the as-of date).
    region, channel : str, optional
        Only the deals of this region or source channel (checked against the data); ``where`` names any other
        deal column (``{"segment": "enterprise"}``).
    target, measure : optional
        Bookings target (None: from the history, :func:`omnimodel.funnel.measures.default_target`) and what
        bookings are ("amount", "deals"; None: amount when the won deals' amounts can carry it).
    draws, seed, refit :
        Posterior draws and tuning steps per chain, the seed, and whether to fit again instead of loading a fit
        of the same snapshot and settings.
    ledger : str or Path, optional
        The forecast ledger with earlier forecasts (None: no ledger).

    Examples
    --------
    >>> review = PipelineReview("data/demo.duckdb", period="2026Q1")  # doctest: +SKIP
    >>> review.forecast.quantiles()  # doctest: +SKIP
    >>> print(review.result().as_text())  # doctest: +SKIP
    """

    def __init__(
        self,
        workspace: Workspace | str | dict,
        *,
        funnel: str | None = None,
        as_of: str | None = None,
        period: str | None = None,
        region: str | None = None,
        channel: str | None = None,
        where: dict[str, str] | None = None,
        target: float | None = None,
        measure: str | None = None,
        draws: int = 1000,
        seed: int = 42,
        ledger: str | Path | None = None,
        refit: bool = False,
    ):
        from omnimodel.funnel.snapshot import funnel_for, require_pipeline

        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        ws = self.workspace
        ws.require_value("region", region, "opportunities.region")  # a filter that matches nothing stops here
        ws.require_value("channel", channel, "opportunities.source_channel")
        require_pipeline(ws)  # without opportunities and stage events: one line saying so
        self.definition = funnel_for(ws, funnel)
        self.where: dict[str, str | None] = {
            k: v for k, v in {**(where or {}), "region": region, "source_channel": channel}.items() if v
        }
        self.as_of_given, self.period_given, self.target_given = as_of, period, target
        self.measure_given = measure
        self.sampler_config = {"draws": draws, "tune": draws}
        self.seed, self.refit = seed, refit
        self.ledger = None if ledger in (None, "none") else ledger

    # --- the steps ------------------------------------------------------------------------------------------

    @cached_property
    def snapshot(self) -> PipelineSnapshot:
        """The pipeline as it stood on the as-of date."""
        from omnimodel.funnel.snapshot import pipeline_snapshot

        return pipeline_snapshot(self.workspace, self.definition, self.as_of_given)

    @property
    def as_of(self) -> pd.Timestamp:
        """The snapshot's date."""
        return self.snapshot.as_of

    @cached_property
    def period(self) -> str:
        """The forecast period: the one given, else the quarter after the as-of date."""
        from omnimodel.data.periods import next_quarter

        return str(self.period_given or next_quarter(self.as_of))

    @cached_property
    def _measure(self) -> tuple[str, str]:
        from omnimodel.funnel.measures import choose_measure

        return choose_measure(self.snapshot.deals, self.measure_given)

    @property
    def measure(self) -> str:
        """What bookings are: "amount" (deal value) or "deals" (won deals counted)."""
        return self._measure[0]

    @property
    def measure_note(self) -> str:
        """Why the measure was chosen, in one sentence."""
        return self._measure[1]

    @property
    def unit(self) -> str | None:
        """The forecast's unit: the workspace's currency for amounts, "deals" for counts."""
        return self.workspace.currency() if self.measure == "amount" else "deals"

    def fit(self, snapshot: PipelineSnapshot) -> PipelineModel:
        """The pipeline model of ``snapshot`` with the review's settings (loaded when fitted before)."""
        from omnimodel.funnel.fits import fitted_model

        return fitted_model(
            snapshot,
            measure=self.measure,
            sampler_config=self.sampler_config,
            random_seed=self.seed,
            refit=self.refit and snapshot is self.snapshot,
        )

    @cached_property
    def model(self) -> PipelineModel:
        """The pipeline model fitted on the snapshot."""
        return self.fit(self.snapshot)

    @cached_property
    def forecast(self) -> BookingsForecast:
        """Bookings in the period (of the deals of ``where``; the model is fitted on all of them)."""
        from omnimodel.funnel.forecast import forecast_bookings

        return forecast_bookings(
            self.model, self.snapshot, self.period, random_seed=self.seed, where=self.where
        )

    @cached_property
    def stage_history(self) -> bool:
        """Whether the stage events name open stages: without (an opportunity list), the model sees one open
        phase and the CRM's stages are only today's (:mod:`omnimodel.ingest.stage_history`)."""
        from omnimodel.ingest.stage_history import has_stage_history

        ev = self.workspace.table("stage_events")
        return has_stage_history(ev.select("stage").distinct().execute()["stage"])

    @cached_property
    def stages_today(self) -> pd.Series:
        """Each open deal's stage in the CRM today (opportunity id -> stage)."""
        opp = self.workspace.table("opportunities")
        open_ = opp.filter(opp.outcome == "open").select("opportunity_id", "stage").execute()
        return open_.set_index("opportunity_id")["stage"].astype(str)

    @cached_property
    def dimensions(self) -> list[str]:
        """The deal attributes the data knows for some deals (segment, region, source channel, product)."""
        from omnimodel.funnel import metrics

        return metrics.dimensions(self.snapshot)

    @cached_property
    def activities(self) -> pd.DataFrame | None:
        """The workspace's activities up to the as-of date (an optional table: None without it)."""
        from omnimodel.funnel import phases

        return phases.load_activities(self.workspace, self.as_of)

    @cached_property
    def goal(self) -> Target:
        """The target the forecast is held against, and where it comes from."""
        from omnimodel.funnel.measures import default_target

        return default_target(
            self.snapshot, self.period, self.measure, given=self.target_given, where=self.where
        )

    def by(self, group: str) -> pd.DataFrame:
        """The forecast by a deal column (source channel, region, segment), each level against its own target
        (its bookings a year earlier, or its usual period), not the company's."""
        from omnimodel.funnel.measures import level_targets

        targets = level_targets(self.snapshot, self.period, self.measure, group, self.where)
        return self.forecast.to_frame(group, targets=targets)

    @cached_property
    def owner_targets(self) -> pd.DataFrame | None:
        """Each owner's target (their quota, else their share of the goal) with manager and team; None without
        deal owners."""
        from omnimodel.funnel import rollup

        if "owner" not in self.forecast.by_group:
            return None
        quotas = rollup.quotas_of(self.workspace)
        return rollup.owner_targets(
            self.snapshot, self.period, self.measure, self.goal.value, quotas, self.where
        )

    @cached_property
    def rollup(self) -> pd.DataFrame | None:
        """The forecast by team, manager and owner against their targets; None without deal owners."""
        from omnimodel.funnel import rollup

        if self.owner_targets is None:
            return None
        return rollup.rollup(self.forecast, self.owner_targets)

    @cached_property
    def recorded(self) -> pd.DataFrame:
        """Every recorded state of the deals up to the as-of date: the workspace's opportunity history and the
        deal states the ledger recorded at earlier forecasts of this workspace."""
        from omnimodel.funnel import ledger
        from omnimodel.funnel.history import recorded_states

        deals = ledger.read(self.ledger, "deals")
        earlier = deals[deals["run_id"].isin(ledger.runs(self.ledger, self.workspace.name)["run_id"])]
        return recorded_states(self.workspace, self.as_of, earlier)

    @cached_property
    def at_risk(self) -> pd.DataFrame:
        """Open deals at risk (stalled, past their close date, pushed, cut), the value at stake first."""
        from omnimodel.funnel.inspection import deals_at_risk

        return deals_at_risk(self.model, self.snapshot, self.forecast.deals, self.recorded)

    @cached_property
    def what_moves(self) -> pd.DataFrame:
        """The factors and combinations whose effect on the chance to win is clearly not zero."""
        from omnimodel.funnel.inspection import what_moves_the_chance

        return what_moves_the_chance(self.model)

    @cached_property
    def calls(self) -> OwnerCalls | None:
        """The owners' forecast calls calibrated by their record; None without calls or deal owners."""
        from omnimodel.funnel import calls

        called = calls.forecast_calls(self.workspace)
        if called is None or "owner" not in self.forecast.by_group:
            return None
        record = calls.track_record(called, self.snapshot, self.measure)
        calibration = calls.calibration(record)
        corrected = calls.calibrated_calls(called, calibration, self.period, self.as_of)
        corrected["model_p50"] = corrected["owner"].map(self.forecast.by_group["owner"].median())
        return OwnerCalls(record, calibration, corrected)

    @cached_property
    def change(self) -> ForecastChange | None:
        """Why the forecast of the period changed since the last forecast of it recorded in the ledger before the
        as-of date; None without one."""
        from omnimodel.funnel import ledger

        last = ledger.last_before(self.ledger, self.workspace.name, self.period, self.as_of, self.where)
        if last is None:
            return None
        run, seen = last
        return self.change_from(pd.Timestamp(run["as_of"]), self.period, seen)[0]

    def change_from(
        self, from_date: pd.Timestamp, period: str, recorded: pd.DataFrame | None = None
    ) -> tuple[ForecastChange, int]:
        """Why the forecast of ``period`` changed from ``from_date`` to the as-of date, with the deals as the CRM
        showed them on that date (its opportunity history and ``recorded``, the ledger's deals of that day), and
        how many deals' recorded states that is."""
        from omnimodel.funnel.changes import as_recorded, forecast_change
        from omnimodel.funnel.history import recorded_states, states_on

        seen = states_on(recorded_states(self.workspace, from_date, recorded), from_date)
        earlier = self.snapshot.rewind(from_date)
        before = (self.fit(earlier), as_recorded(earlier, seen))
        return forecast_change(before, (self.model, self.snapshot), period, where=self.where), len(seen)

    def changes(self, from_date: str | None = None) -> ChangeReport:
        """Why the forecast changed between ``from_date`` and the as-of date, as ``omnimodel pipeline changes``
        reports it: ``from_date`` defaults to the last forecast recorded before the as-of date (of the period
        given), else a week before; the period to the one given, else the one recorded that day, else the
        quarter after the as-of date."""
        from omnimodel.app.pipeline_results import ChangeReport
        from omnimodel.data.periods import next_quarter
        from omnimodel.exceptions import ParameterError
        from omnimodel.funnel import ledger

        recorded = ledger.runs(self.ledger, self.workspace.name, self.where)
        recorded = recorded[pd.to_datetime(recorded["as_of"]) < self.as_of]
        if self.period_given:
            recorded = recorded[recorded["period"] == self.period_given]
        if from_date:
            start = pd.Timestamp(from_date)
        elif len(recorded):
            start = pd.Timestamp(recorded["as_of"].max())  # the last recorded forecast before
        else:
            start = self.as_of - pd.Timedelta(days=7)  # the weekly call
        if start >= self.as_of:
            raise ParameterError(
                f"--from ({start.date()}) must be before --to ({self.as_of.date()})",
                fix="give an earlier --from",
            )
        on_date = recorded[pd.to_datetime(recorded["as_of"]) == start]
        period = self.period_given or (
            on_date["period"].iloc[-1] if len(on_date) else next_quarter(self.as_of)
        )
        found = ledger.last_before(
            self.ledger, self.workspace.name, period, start + pd.Timedelta(days=1), self.where
        )
        on_start = found[1] if found is not None and pd.Timestamp(found[0]["as_of"]) == start else None
        change, seen = self.change_from(start, str(period), on_start)
        return ChangeReport(self.definition.name, self.measure, self.where, seen, change)

    @cached_property
    def accuracy(self) -> pd.DataFrame:
        """Every recorded forecast of a closed period scored against what it booked."""
        from omnimodel.funnel.accuracy import scores

        return scores(self.ledger, self.snapshot, self.workspace.name, self.where)

    def backtest(self, freq: str = "Q", n_snapshots: int = 4, echo: Any = None) -> BacktestResult:
        """The forecast scored on rolling past snapshots against the CRM's stage weights."""
        from omnimodel.funnel.backtest import backtest

        return backtest(
            self.workspace,
            self.definition,
            freq=freq,
            n_snapshots=n_snapshots,
            sampler_config=self.sampler_config,
            random_seed=self.seed,
            measure=self.measure,
            echo=echo,
        )

    # --- what it says --------------------------------------------------------------------------------------

    def ledger_entry(self, source: str) -> Entry:
        """The forecast's rows for the forecast ledger; ``source`` says what made it ("report", "cli")."""
        from omnimodel.funnel import ledger

        return ledger.entry(self.forecast, self.snapshot, self.model, self.workspace.name, source, self.where)

    def record(self, source: str) -> str | None:
        """Record the forecast in the ledger now (the CLI; a report run records after the whole run succeeds);
        returns the run id, or None without a ledger."""
        from omnimodel.funnel import ledger

        if self.ledger is None:
            return None
        return ledger.record(self.ledger, [self.ledger_entry(source)])

    def result(self) -> PipelineForecast:
        """The forecast with its targets, roll-up, deals at risk and fit: what ``omnimodel pipeline forecast``
        prints, and what the report's forecast section carries as data."""
        from omnimodel.app.pipeline_results import PipelineForecast, forecast_data
        from omnimodel.funnel.fits import note
        from omnimodel.funnel.snapshot import TEAM

        team = self.rollup
        if team is not None:
            assert self.owner_targets is not None
            team = team.assign(target_source=self.owner_targets["source"].iloc[0])
        data = forecast_data(
            as_of=self.as_of,
            funnel=self.definition.name,
            measure=self.measure,
            measure_note=self.measure_note,
            forecast=self.forecast,
            goal=self.goal,
            # owners, managers and teams: in the roll-up, against their targets there
            levels={g: self.by(g) for g in self.forecast.by_group if g not in TEAM},
            rollup=team,
            at_risk=self.at_risk,
            period_noise_sd=self.model.period_noise_.sd,
            diagnostics=self.model.diagnostics_,
            fit_reused=self.model.reused_,
        )
        return PipelineForecast(
            data, self.forecast, self.goal, self.model.diagnostics_, note(self.model), self.summary()
        )

    def accuracy_report(self) -> AccuracyReport:
        """The recorded forecasts of closed periods scored, by days ahead (``omnimodel pipeline accuracy``)."""
        from omnimodel.app.pipeline_results import AccuracyReport
        from omnimodel.funnel.accuracy import trend

        ledger = str(self.ledger) if self.ledger else "none"
        return AccuracyReport(self.workspace.name, ledger, self.accuracy, trend(self.accuracy))

    def backtest_report(self, freq: str = "M", n_snapshots: int = 6, echo: Any = None) -> BacktestReport:
        """The backtest as ``omnimodel pipeline backtest`` reports it."""
        from omnimodel.app.pipeline_results import BacktestReport

        result = self.backtest(freq, n_snapshots, echo)
        return BacktestReport(self.definition.name, self.measure, freq, result)

    def summary(self, n_actions: int = 3) -> Summary:
        """The report's answer first: headline cards, findings and next actions."""
        from omnimodel.reporting.headlines import pipeline_summary

        return pipeline_summary(
            self.forecast,
            self.goal,
            self.measure,
            self.workspace.currency(),
            n_actions,
            diagnostics=self.model.diagnostics_,
            change=self.change,
        )


class OwnerCalls:
    """The owners' calls: each past call against what they booked (``record``), each owner's calibration, and
    this period's calls corrected by it beside the model's P50 (``corrected``)."""

    def __init__(self, record: pd.DataFrame, calibration: pd.DataFrame, corrected: pd.DataFrame):
        self.record, self.calibration, self.corrected = record, calibration, corrected


if TYPE_CHECKING:
    from omnimodel.app.pipeline_results import AccuracyReport, BacktestReport, ChangeReport, PipelineForecast
