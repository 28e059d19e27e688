"""Measured phases: each measurement point of the funnel definition computed from the data, and the activities.

A funnel definition names its measurement points in words ("lead-to-qualified rate", "proposal age"). Each is
read as one of :data:`METRICS` (its words say which; a stage's ``metrics:`` mapping says it where they do not)
and computed per phase: its value over the last 12 months (flows) or at the as-of date (stocks), its trend by
quarter, and the target the definition sets (``targets:``). One the data cannot compute is listed with the
reason, so nothing is silently left out.

With the optional ``activities`` table (deal, type, date, owner), each phase's activities are counted, and for
each activity type the share of deals that advanced out of the phase is compared between deals that had it in
the phase and deals that did not, with an interval of the difference (all pairs' intervals hold together
with 95 %). That is an association, not an
effect: a rep may book a demo because the deal already looks good.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.exceptions import ConfigError
from omnimodel.funnel.snapshot import PipelineSnapshot

if TYPE_CHECKING:
    from omnimodel.data.workspace import Workspace
    from omnimodel.notice import Skipped

#: metric -> (what it measures, unit, kind): flows over the last 12 months, stocks at the as-of date
METRICS = {
    "rate": ("share of the deals that left the phase which advanced to the next", "share", "flow"),
    "win_rate": ("share of the closed deals that reached the phase which were won", "share", "flow"),
    "time_in_phase": ("median days in the phase, of deals that left it", "days", "flow"),
    "days_to_close": ("median days from entering the phase to closing, of deals that closed", "days", "flow"),
    "response_time": ("median days from a deal's creation to its first activity", "days", "flow"),
    "count": ("deals that entered the phase", "deals", "flow"),
    "age": ("median days open deals have been in the phase", "days", "stock"),
    "value": ("value of the open deals in the phase", "money", "stock"),
    "slippage": (
        "share of the open deals in the phase whose expected close date has passed",
        "share",
        "stock",
    ),
    "discount": ("average discount granted on the phase's deals", "share", "flow"),
}
#: words -> metric, first match wins
WORDS = (
    (r"response time|first (call|touch|contact)", "response_time"),
    (r"discount", "discount"),
    (r"slippage|slipped|close dates? (moved|pushed)", "slippage"),
    (r"win rate|win ratio", "win_rate"),
    (r"\brate\b|conversion", "rate"),
    (r"days to close|time to close|cycle", "days_to_close"),
    (r"time in (phase|stage)|days in (phase|stage)|duration", "time_in_phase"),
    (r"\bage\b|aging|ageing", "age"),
    (r"value|amount|pipeline", "value"),
    (r"\bper\b|number of|count", "count"),
)
#: words naming a split -> column of the deals
SPLITS = (
    (r"source|channel", "source_channel"),
    (r"agent|owner|rep\b|seller", "owner"),
    (r"product", "product"),
    (r"office|region", "region"),
    (r"segment", "segment"),
)
QUARTERS = 6  # trend length


def metric_of(name: str, given: str | None = None) -> str | None:
    """The metric a measurement point's words name (``given`` wins), None when they name none."""
    if given:
        return given if given in METRICS else None
    text = name.lower()
    return next((m for pattern, m in WORDS if re.search(pattern, text)), None)


def split_of(name: str) -> str | None:
    """The deal column a measurement point splits by ("win rate by product", "prospects per agent")."""
    text = name.lower()
    if not re.search(r"\bby\b|\bper\b", text):
        return None
    after = re.split(r"\bby\b|\bper\b", text, maxsplit=1)[1]
    return next((col for pattern, col in SPLITS if re.search(pattern, after)), None)


def _left(snapshot: PipelineSnapshot) -> pd.DataFrame:
    """Stays that ended, with when they ended and whether the deal advanced."""
    s = snapshot.stays[snapshot.stays["exited"]].copy()
    s["left_at"] = s["entered_at"] + pd.to_timedelta(s["days"], "D")
    t = snapshot.transitions[["opportunity_id", "stage", "result"]]
    return s.merge(t, on=["opportunity_id", "stage"], how="left")


def _ended(snapshot: PipelineSnapshot, memo: dict) -> pd.DataFrame:
    """:func:`_left` once per call of :func:`measured_phases`."""
    if "left" not in memo:
        memo["left"] = _left(snapshot)
    return memo["left"]


def _flow(frame: pd.DataFrame, when: str, as_of: pd.Timestamp, fn) -> tuple[float, list[tuple[str, float]]]:
    """A flow metric over the last 12 months and per quarter (the last :data:`QUARTERS` complete ones)."""
    recent = frame[(frame[when] > as_of - pd.DateOffset(years=1)) & (frame[when] <= as_of)]
    value = fn(recent) if len(recent) else np.nan
    q = frame[when].dt.to_period("Q")
    last = (as_of + pd.Timedelta(days=1)).to_period("Q") - 1  # the last complete quarter
    trend = [
        (str(p), fn(frame[q == p]) if (q == p).any() else np.nan)
        for p in pd.period_range(last - QUARTERS + 1, last)
    ]
    return value, trend


def _stock(snapshot: PipelineSnapshot, fn, memo: dict) -> tuple[float, list[tuple[str, float]]]:
    """A stock metric at the as-of date and at the last :data:`QUARTERS` quarter ends (each quarter end's
    snapshot rebuilt once per call of :func:`measured_phases`, whatever the number of stock metrics)."""
    as_of = snapshot.as_of
    last = (as_of + pd.Timedelta(days=1)).to_period("Q") - 1
    start = snapshot.raw_deals["created_date"].min()
    trend = []
    for p in pd.period_range(last - QUARTERS + 1, last):
        end = p.end_time.normalize()
        if end >= start and end not in memo:
            memo[end] = snapshot.rewind(end)
        trend.append((str(p), fn(memo[end]) if end >= start else np.nan))
    return fn(snapshot), trend


def _compute(
    metric: str, stage: str, snapshot: PipelineSnapshot, activities: pd.DataFrame | None, memo: dict
):
    """(value, trend) of one metric for one phase, or the reason it cannot be computed; ``memo`` keeps what
    every measurement point shares (the stays that ended, the rewound snapshots)."""
    as_of = snapshot.as_of
    if metric == "rate":
        left = _ended(snapshot, memo)
        left = left[left["stage"] == stage]
        return _flow(left, "left_at", as_of, lambda f: (f["result"] == "advanced").mean())
    if metric in ("win_rate", "days_to_close"):
        d = snapshot.deals
        rank = snapshot.funnel.rank(stage)
        closed = d[(d["outcome"] != "open") & (d["reached"] >= rank)].copy()
        if metric == "win_rate":
            return _flow(closed, "closed_date", as_of, lambda f: (f["outcome"] == "won").mean())
        entered = (
            snapshot.stays[snapshot.stays["stage"] == stage].groupby("opportunity_id")["entered_at"].min()
        )
        closed["days"] = (closed["closed_date"] - closed["opportunity_id"].map(entered)).dt.days
        closed = closed.dropna(subset=["days"])
        return _flow(closed, "closed_date", as_of, lambda f: float(f["days"].median()))
    if metric == "time_in_phase":
        left = _ended(snapshot, memo)
        return _flow(left[left["stage"] == stage], "left_at", as_of, lambda f: float(f["days"].median()))
    if metric == "count":
        entered = snapshot.stays[snapshot.stays["stage"] == stage]
        return _flow(entered, "entered_at", as_of, lambda f: float(f["opportunity_id"].nunique()))
    if metric == "response_time":
        if activities is None or activities.empty:
            return "needs the activities table (the first activity after a deal is created)"
        first = activities.groupby("opportunity_id")["activity_date"].min()
        d = snapshot.deals.assign(first=lambda f: f["opportunity_id"].map(first)).dropna(subset=["first"])
        d["days"] = (d["first"] - d["created_date"]).dt.days.clip(lower=0)
        return _flow(d, "created_date", as_of, lambda f: float(f["days"].median()))
    if metric == "discount":
        if "discount" not in snapshot.deals:
            return "the opportunities table has no discount column (add the discount granted per deal to measure it)"
        d = snapshot.deals[snapshot.deals["reached"] >= snapshot.funnel.rank(stage)]
        return _flow(
            d.dropna(subset=["closed_date"]), "closed_date", as_of, lambda f: float(f["discount"].mean())
        )

    def in_phase(s: PipelineSnapshot) -> pd.DataFrame:
        return s.open_deals[s.open_deals["stage"] == stage]

    if metric == "age":
        now = in_phase(snapshot)
        if len(now) and (now["days_in_stage"] == 0).all():
            return "every open deal in the phase entered it on the as-of date: the source has no entry dates for it"
        return _stock(snapshot, lambda s: float(in_phase(s)["days_in_stage"].median()), memo)
    if metric == "value":
        if "amount" not in snapshot.deals or snapshot.deals["amount"].isna().all():
            return "the opportunities have no amounts"
        return _stock(snapshot, lambda s: float(in_phase(s)["amount"].sum()), memo)
    if metric == "slippage":
        if "expected_close_date" not in snapshot.deals or snapshot.deals["expected_close_date"].isna().all():
            return "the opportunities have no expected close dates"

        def slipped(s: PipelineSnapshot) -> float:
            o = in_phase(s)
            return float((pd.to_datetime(o["expected_close_date"]) < s.as_of).mean()) if len(o) else np.nan

        return _stock(snapshot, slipped, memo)
    raise ConfigError(f"unknown metric {metric!r}", fix=f"use one of {', '.join(METRICS)}")


def _split(metric: str, stage: str, column: str, snapshot: PipelineSnapshot) -> str:
    """The metric split by a deal column over the last 12 months, as words: the top three and the bottom."""
    d = snapshot.deals
    if column not in d or d[column].isna().all():
        return f"no {column.replace('_', ' ')} in the data"
    if metric == "count":
        s = snapshot.stays[snapshot.stays["stage"] == stage]
        s = s[s["entered_at"] > snapshot.as_of - pd.DateOffset(years=1)].merge(d[["opportunity_id", column]])
        shares = s[column].value_counts(normalize=True)
        return ", ".join(f"{k} {v:.0%}" for k, v in shares.head(3).items()).replace("%", " %")
    if metric == "win_rate":
        closed = d[(d["outcome"] != "open") & (d["reached"] >= snapshot.funnel.rank(stage))]
        closed = closed[closed["closed_date"] > snapshot.as_of - pd.DateOffset(years=1)]
        g = closed.groupby(column)["outcome"].agg(lambda o: (o == "won").mean()).sort_values(ascending=False)
        g = g[closed.groupby(column).size() >= 10]
        if len(g) < 2:
            return ""
        return f"highest {g.index[0]} {g.iloc[0]:.0%}, lowest {g.index[-1]} {g.iloc[-1]:.0%}".replace(
            "%", " %"
        )
    return ""


def _format(value: float, unit: str, currency: str | None) -> str:
    if value is None or pd.isna(value):
        return "no data"
    if unit == "share":
        return f"{value:.0%}".replace("%", " %")
    if unit == "days":
        return "1 day" if round(value) == 1 else f"{value:,.0f} days"
    if unit == "money":
        from omnimodel.charts.style import format_money

        return f"{format_money(value)} {currency or ''}".strip()
    return f"{value:,.0f}"


def measured_phases(
    snapshot: PipelineSnapshot, activities: pd.DataFrame | None = None, currency: str | None = None
) -> pd.DataFrame:
    """Every measurement point of every phase: its metric and definition, value, trend by quarter, target and
    whether it is met; or why the data cannot compute it. Numbers are in words for people; the raw value is in
    ``value``."""
    rows: list[dict] = []
    memo: dict = {}  # what every measurement point shares
    for stage in snapshot.funnel.stages:
        for name in stage.measurements:
            metric = metric_of(name, stage.metrics.get(name))
            row = {"phase": stage.name, "measurement": name, "metric": metric or ""}
            if metric is None:
                known = ", ".join(METRICS)
                rows.append({**row, "status": f"not computable: its words name no metric (set one of {known} "
                                              "in the stage's `metrics:`)"})  # fmt: skip
                continue
            meaning, unit, _ = METRICS[metric]
            got = _compute(metric, stage.name, snapshot, activities, memo)
            if isinstance(got, str):
                rows.append({**row, "definition": meaning, "status": f"not computable: {got}"})
                continue
            value, trend = got
            by = split_of(name)
            target = stage.targets.get(name)
            met = "" if target is None or pd.isna(value) else _verdict(metric, value, target)
            rows.append({
                **row,
                "definition": meaning + (f", split by {by.replace('_', ' ')}" if by else ""),
                "value": value,
                "last 12 months / now": _format(value, unit, currency),
                "by quarter": " → ".join(_format(v, unit, None) for _, v in trend if not pd.isna(v)),
                "split": _split(metric, stage.name, by, snapshot) if by else "",
                "target": "" if target is None else _format(target, unit, currency),
                "status": met or "computed",
            })  # fmt: skip
    columns = ["phase", "measurement", "metric", "definition", "value", "last 12 months / now", "by quarter",
               "split", "target", "status"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def phases_table(
    snapshot: PipelineSnapshot, activities: pd.DataFrame | None = None, currency: str | None = None
) -> pd.DataFrame | Skipped:
    """:func:`measured_phases` for people (no metric keys or raw values), or one line when the funnel
    definition lists no measurement points (a definition drafted by ``omnimodel init`` starts without)."""
    from omnimodel.notice import Skipped

    out = measured_phases(snapshot, activities, currency)
    if out.empty:
        return Skipped("measured phases", "the funnel definition lists no measurement points",
                       "add `measurements:` to its stages, e.g. [lead-to-qualified rate, time in phase]")  # fmt: skip
    return out.drop(columns=["metric", "value"])


def _verdict(metric: str, value: float, target: float) -> str:
    lower_is_better = metric in (
        "time_in_phase",
        "days_to_close",
        "response_time",
        "age",
        "slippage",
        "discount",
    )
    ok = value <= target if lower_is_better else value >= target
    return "target met" if ok else "target missed"


def _stays_with_activities(snapshot: PipelineSnapshot, activities: pd.DataFrame) -> pd.DataFrame:
    """Each (stay, activity) where the activity fell within the stay: from the day the deal entered the phase to
    the day before it left (that day belongs to the next phase), or to the as-of date while it is still there."""
    s = snapshot.stays.copy()
    s["until"] = s["entered_at"] + pd.to_timedelta(s["days"], "D")
    a = activities[["opportunity_id", "type", "activity_date"]].merge(s, on="opportunity_id")
    before_end = (a["activity_date"] < a["until"]) | (~a["exited"] & (a["activity_date"] <= a["until"]))
    return a[(a["activity_date"] >= a["entered_at"]) & before_end]


def activity_counts(snapshot: PipelineSnapshot, activities: pd.DataFrame) -> pd.DataFrame:
    """Per phase and activity type: activities, deals with one, share of the phase's deals, and whether the
    funnel definition lists it for the phase."""
    hits = _stays_with_activities(snapshot, activities)
    stays = snapshot.stays.groupby("stage")["opportunity_id"].nunique()
    out = hits.groupby(["stage", "type"]).agg(
        activities=("activity_date", "size"), deals=("opportunity_id", "nunique")
    )
    out = out.reset_index()
    out["share_of_deals"] = out["deals"] / out["stage"].map(stays)
    listed = {s.name: [a.lower() for a in s.activities] for s in snapshot.funnel.stages}

    def in_definition(stage: str, kind: str) -> bool:  # "first call" is "first call within 2 working days"
        k = kind.lower()
        return any(k in a or a in k for a in listed.get(stage, []))

    out["in_definition"] = [in_definition(st, t) for st, t in zip(out["stage"], out["type"], strict=True)]
    order = {s: i for i, s in enumerate(snapshot.funnel.stage_names)}
    return out.sort_values(["stage", "deals"], key=lambda c: c.map(order) if c.name == "stage" else -c,
                           ignore_index=True).rename(columns={"stage": "phase"})  # fmt: skip


def activity_association(
    snapshot: PipelineSnapshot,
    activities: pd.DataFrame,
    draws: int = 20000,
    seed: int = 0,
    min_deals: int = 20,
) -> pd.DataFrame:
    """Per phase and activity type: the share of deals that advanced out of the phase with the activity and
    without it, the difference with its interval and the chance it is above zero (uniform Beta priors on both
    shares). An association, not an effect (see the module's description). Only deals that left the phase
    count; a pair with fewer than ``min_deals`` deals on either side is left out.

    Many pairs are compared at once, so the intervals hold *together* with 95 %: each is a 1 - 5 %/pairs
    interval (Bonferroni). Separate 95 % intervals would flag one pair in twenty where nothing goes on."""
    rng = np.random.default_rng(seed)
    left = _left(snapshot)
    hits = _stays_with_activities(snapshot, activities)[["opportunity_id", "stage", "type"]].drop_duplicates()
    rows, diffs = [], []
    for (stage, kind), part in hits.groupby(["stage", "type"]):
        phase = left[left["stage"] == stage]
        has = phase["opportunity_id"].isin(part["opportunity_id"])
        adv = (phase["result"] == "advanced").to_numpy()
        n1, k1, n0, k0 = int(has.sum()), int(adv[has].sum()), int((~has).sum()), int(adv[~has].sum())
        if min(n1, n0) < min_deals:
            continue
        diffs.append(rng.beta(1 + k1, 1 + n1 - k1, draws) - rng.beta(1 + k0, 1 + n0 - k0, draws))
        rows.append({"phase": stage, "activity": kind, "deals_with": n1, "advanced_share_with": k1 / n1,
                     "deals_without": n0, "advanced_share_without": k0 / n0})  # fmt: skip
    if not rows:
        return pd.DataFrame()
    alpha = 0.05 / len(rows)
    for row, diff in zip(rows, diffs, strict=True):
        lo, hi = np.quantile(diff, [alpha / 2, 1 - alpha / 2])
        verdict = (
            "goes with advancing" if lo > 0 else ("goes with losing" if hi < 0 else "no clear association")
        )
        row.update(difference_in_share=float(diff.mean()), difference_share_low=lo, difference_share_high=hi,
                   p_above_zero=float((diff > 0).mean()), association=verdict)  # fmt: skip
    out = pd.DataFrame(rows)
    out.attrs["interval"] = f"simultaneous 95 % ({1 - alpha:.2%} each, {len(rows)} pairs)"
    order = {s: i for i, s in enumerate(snapshot.funnel.stage_names)}
    return out.sort_values(["phase", "difference_in_share"], key=lambda c: c.map(order) if c.name == "phase" else -c,
                           ignore_index=True)  # fmt: skip


def load_activities(ws: Workspace, as_of: pd.Timestamp | None = None) -> pd.DataFrame | None:
    """The workspace's ``activities`` up to ``as_of`` (dates as timestamps), None when it has none."""
    if not ws.has("activities"):
        return None
    t = ws.table("activities")
    if as_of is not None:
        import ibis

        t = t.filter(t.activity_date <= ibis.date(pd.Timestamp(as_of).date()))
    frame = t.execute()
    frame["activity_date"] = pd.to_datetime(frame["activity_date"])
    return frame
