"""The pipeline as the CRM showed it on a given day, with nothing from after that day.

:func:`pipeline_snapshot` reads opportunities and stage events from a workspace and returns, as of a date:
one row per deal (current stage, outcome so far, how long in the current stage) and the stage transitions and
stage stays that the models are fitted on. Every deal enters the first stage when it is created, so deals
without stage events (e.g. Maven's prospecting deals) still count. Skipped stages count as passed.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.funnel.definition import FUNNEL_DEFINITIONS, FunnelDefinition, load_funnel, parse_funnel
from omnimodel.notice import ReportStopped

FACTORS = ("segment", "region", "source_channel", "product")
#: who a deal belongs to: its owner, and from the optional sales_team table the owner's manager and team
TEAM = ("owner", "manager", "team")
UNKNOWN = "unknown"


@dataclass
class PipelineSnapshot:
    """Deals and stage history as of one date."""

    as_of: pd.Timestamp
    funnel: FunnelDefinition
    deals: pd.DataFrame  # one row per deal created on or before as_of
    transitions: pd.DataFrame  # one row per (deal, stage entered): advanced / lost / open (censored)
    stays: pd.DataFrame  # one row per stay in a stage: days, exited (False = still there at as_of)
    raw_deals: pd.DataFrame  # the opportunities and stage events the snapshot was built from
    raw_events: pd.DataFrame

    @property
    def open_deals(self) -> pd.DataFrame:
        """Deals still open at the as-of date."""
        return self.deals[self.deals["outcome"] == "open"]

    def rewind(self, as_of: str | pd.Timestamp) -> PipelineSnapshot:
        """The snapshot as of an earlier date, from this one's data (no engine round trip)."""
        as_of = pd.Timestamp(as_of).normalize()
        if as_of > self.as_of:
            raise OmnimodelError(f"cannot rewind forward: {as_of.date()} is after {self.as_of.date()}")
        return _build(
            self.raw_deals[self.raw_deals["created_date"] <= as_of],
            self.raw_events[self.raw_events["entered_at"] <= as_of],
            self.funnel,
            as_of,
        )


def pipeline_snapshot(
    ws: Workspace, funnel: FunnelDefinition, as_of: str | pd.Timestamp | None = None
) -> PipelineSnapshot:
    """Build the snapshot; ``as_of`` defaults to the last date in the stage history.

    Examples
    --------
    >>> snap = pipeline_snapshot(Workspace("data/demo.duckdb"), load_funnel("demo"), "2025-06-30")  # doctest: +SKIP
    >>> snap.open_deals["stage"].value_counts()  # doctest: +SKIP
    """
    opp, ev = ws.table("opportunities"), ws.table("stage_events")
    when: pd.Timestamp = pd.Timestamp(ev.entered_at.max().execute() if as_of is None else as_of).normalize()
    day = ibis.date(when.date())
    # Row-level filtering and the join run in the engine; the frames handed to pandas are as-of slices.
    cols = [
        "opportunity_id",
        "created_date",
        "amount",
        "expected_close_date",
        "closed_date",
        "outcome",
        *[f for f in FACTORS if f in opp.columns],
        *[c for c in ("owner",) if c in opp.columns],  # per-owner measurement points ("prospects per agent")
    ]
    # ordered, so every engine hands over the same rows in the same order (the forecast's draws follow it)
    deals = opp.filter(opp.created_date <= day).select(*cols).order_by("opportunity_id").execute()
    events = ev.filter(ev.entered_at <= day).select("opportunity_id", "stage", "entered_at")
    events = events.order_by(["opportunity_id", "entered_at", "stage"]).execute()
    if deals.empty:
        raise OmnimodelError(
            f"no opportunities created on or before {when.date()}",
            table="opportunities",
            fix="choose a later as-of date",
        )
    if "owner" in deals and ws.has("sales_team"):  # the roll-up by manager and team
        team = ws.table("sales_team").execute()
        deals = deals.merge(team[[c for c in TEAM if c in team]], on="owner", how="left")
    for f in FACTORS:
        deals[f] = deals[f].astype("string").fillna(UNKNOWN) if f in deals else UNKNOWN
    for c in TEAM:
        if c in deals:
            deals[c] = deals[c].astype("string").fillna(UNKNOWN)
    deals = deals.rename(columns={"outcome": "final_outcome", "closed_date": "final_closed_date"})
    for c in ("created_date", "expected_close_date", "final_closed_date"):
        deals[c] = pd.to_datetime(deals[c])
    events["entered_at"] = pd.to_datetime(events["entered_at"])
    unknown = set(events["stage"]) - set(funnel.stage_names) - {funnel.won, funnel.lost}
    if unknown:
        raise OmnimodelError(
            f"stages {sorted(unknown)} are not in the funnel definition {funnel.name!r}",
            table="stage_events",
            column="stage",
            fix="add them to the funnel definition (funnel.yaml), or map them to your stages under `values:` "
            "in a mapping.yaml",
        )
    return _build(deals, events, funnel, when)


def _build(
    raw_deals: pd.DataFrame, raw_events: pd.DataFrame, funnel: FunnelDefinition, as_of: pd.Timestamp
) -> PipelineSnapshot:
    """Deals, transitions and stays as of ``as_of`` from opportunities and events known by then."""
    deals, events = raw_deals.copy(), raw_events.copy()
    names = funnel.stage_names
    rank = {s: i for i, s in enumerate(names)}
    last = len(names) - 1
    events = events[events["opportunity_id"].isin(deals["opportunity_id"])]
    if (
        funnel.lost_after_days is not None
    ):  # the source's rule, as it stood that day: a later win was not known
        wait = pd.Timedelta(days=funnel.lost_after_days)
        ended = events.loc[events["stage"].isin([funnel.won, funnel.lost]), "opportunity_id"]
        overdue = deals[~deals["opportunity_id"].isin(ended) & (deals["created_date"] + wait <= as_of)]
        lost = overdue[["opportunity_id"]].assign(
            stage=funnel.lost, entered_at=overdue["created_date"] + wait
        )
        if len(lost):
            events = pd.concat([events, lost], ignore_index=True)
    # Every deal enters the first stage when created (unless the history says so already).
    first = deals[["opportunity_id", "created_date"]].rename(columns={"created_date": "entered_at"})
    first = first[~first["opportunity_id"].isin(events.loc[events["stage"] == names[0], "opportunity_id"])]
    events = pd.concat([events, first.assign(stage=names[0])], ignore_index=True)
    events["rank"] = events["stage"].map(rank).astype("float")
    events = events.sort_values(["opportunity_id", "entered_at", "rank"], na_position="last", kind="stable")

    g = events.groupby("opportunity_id", sort=False)
    reached = g["rank"].max().astype(int)
    won_at = events[events["stage"] == funnel.won].groupby("opportunity_id")["entered_at"].min()
    lost_at = events[events["stage"] == funnel.lost].groupby("opportunity_id")["entered_at"].min()
    open_events = events[events["rank"].notna()]
    current_since = open_events.groupby("opportunity_id")["entered_at"].max()

    d = deals.set_index("opportunity_id")
    d["reached"] = reached.reindex(d.index).fillna(0).astype(int)
    d["outcome"] = "open"
    d.loc[d.index.isin(lost_at.index), "outcome"] = "lost"
    d.loc[d.index.isin(won_at.index), "outcome"] = "won"
    d["closed_date"] = won_at.reindex(d.index).fillna(lost_at.reindex(d.index))
    d["stage"] = np.where(d["outcome"] == "open", np.array(names)[d["reached"]], d["outcome"])
    d["stage_since"] = current_since.reindex(d.index)
    d["days_in_stage"] = (as_of - d["stage_since"]).dt.days.where(d["outcome"] == "open")
    deals = d.reset_index()

    # Transitions: a deal that reached stage r passed every stage before it; at r it advanced (won from the last
    # stage), was lost, or is still there (censored).
    k = deals["reached"].to_numpy() + 1
    idx = np.repeat(np.arange(len(deals)), k)
    stage_pos = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    at_top = stage_pos == deals["reached"].to_numpy()[idx]
    outcome = deals["outcome"].to_numpy()[idx]
    result = np.where(
        ~at_top,
        "advanced",
        np.where(outcome == "won", "advanced", np.where(outcome == "lost", "lost", "open")),
    )
    # a won deal whose history stops before the last stage passed the remaining stages too
    transitions = pd.DataFrame(
        {
            "opportunity_id": deals["opportunity_id"].to_numpy()[idx],
            "stage": np.array(names)[stage_pos],
            "stage_rank": stage_pos,
            "result": result,
        }
    )
    won_short = deals[(deals["outcome"] == "won") & (deals["reached"] < last)]
    if len(won_short):
        extra = [
            (o, names[s], s, "advanced")
            for o, r in zip(won_short["opportunity_id"], won_short["reached"], strict=True)
            for s in range(r + 1, last + 1)
        ]
        transitions = pd.concat(
            [transitions, pd.DataFrame(extra, columns=transitions.columns)], ignore_index=True
        )
    transitions = transitions.merge(deals[["opportunity_id", *FACTORS]], on="opportunity_id")

    # Stays: time from entering a stage to the next event (any), or to as_of when the deal is still there.
    seq = events.copy()
    seq["next_at"] = seq.groupby("opportunity_id")["entered_at"].shift(-1)
    seq = seq[seq["rank"].notna()]
    seq["exited"] = seq["next_at"].notna()
    seq["days"] = ((seq["next_at"].fillna(as_of)) - seq["entered_at"]).dt.days.clip(lower=0)
    stays = seq[["opportunity_id", "stage", "rank", "entered_at", "days", "exited"]].rename(
        columns={"rank": "stage_rank"}
    )
    stays["stage_rank"] = stays["stage_rank"].astype(int)
    return PipelineSnapshot(as_of, funnel, deals, transitions, stays, raw_deals, raw_events)


def funnel_for(ws: Workspace, name: str | None = None) -> FunnelDefinition:
    """The funnel definition to use for a workspace: the one named, else the one its adapter implies."""
    if name:
        return load_funnel(name)
    meta = ws.meta()
    if meta.get("funnel"):  # the funnel.yaml given at ingest
        return parse_funnel(meta["funnel"], f"the funnel stored in {ws.name}")
    adapter = meta.get("adapter", "")
    if (FUNNEL_DEFINITIONS / f"{adapter}.yaml").exists():
        return load_funnel(adapter)
    raise ConfigError(
        f"no funnel definition known for this workspace (adapter {adapter or 'unknown'})",
        fix="put a funnel.yaml (stages in order) beside the exports and ingest again, or name a funnel definition "
        "(notebook parameter `funnel`, or --funnel); see omnimodel/funnel/definitions/demo.yaml",
    )


def require_pipeline(ws: Workspace) -> None:
    """Stop a pipeline report with one line when the workspace has no pipeline data (a shop without CRM data)."""
    missing = [t for t in ("opportunities", "stage_events") if not ws.has(t)]
    if missing or ws.table("opportunities").count().execute() == 0:
        raise ReportStopped(
            f"No pipeline data in this workspace ({', '.join(missing) or 'no opportunities'}): there is no "
            "sales pipeline to forecast",
            fix="export the CRM's opportunities and their stage history and ingest them",
        )
