"""Behaviours planted on top of the demo company, each from its own random stream (so every other demo
table stays as it was): serial returners, the sales activities of the B2B pipeline, the sales team with its
quotas, the reps' forecast calls and the deals' history of close dates and amounts.

- **Serial returners** (``truth["serial_returners"]``): a few consumers with three or more orders send back
  most of what they buy. After refunds, cost of goods and cost to serve they cost the company money, which a
  profit-based lifetime value must show as negative.
- **Activities** (``truth["activities"]``): every lead gets a first call a few days after it was created
  (response time); in each phase, the phase's activities from the funnel definition happen on some deals. One
  is planted to go with advancing ("site visit or demo" in *qualified*); the others happen as often on deals
  that advance as on deals that do not. Planted as association, which is all an analysis of CRM records can
  show.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEAR_DAYS = 365.25
SERIAL_RETURNERS = {"share_of_repeat_consumers": 0.03, "return_share": 0.9}
#: phase -> activities (as the demo funnel definition lists them); the helpful one and its chances
PHASE_ACTIVITIES = {
    "lead": ["needs questionnaire"],
    "qualified": ["site visit or demo", "requirements workshop"],
    "proposal": ["proposal follow-up call", "references shared"],
    "negotiation": ["pricing approval", "contract review"],
}
HELPFUL: dict = {"stage": "qualified", "type": "site visit or demo", "if_advanced": 0.7, "otherwise": 0.25}
NEUTRAL_CHANCE = 0.45
FIRST_CALL_MEAN_DAYS = 2.0


def serial_returners(
    seed: int,
    customers: pd.DataFrame,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    returns: pd.DataFrame,
    end: pd.Timestamp,
) -> tuple[pd.DataFrame, dict]:
    """``returns`` with the serial returners' returns added, and the truth: who they are and their share."""
    rng = np.random.default_rng([seed, 21])
    consumers = set(customers.loc[~customers["is_business"].astype(bool), "customer_id"])
    counts = orders.loc[orders["customer_id"].isin(consumers), "customer_id"].value_counts()
    repeat = np.sort(counts.index[counts >= 3].to_numpy())
    n = int(round(SERIAL_RETURNERS["share_of_repeat_consumers"] * len(repeat)))
    chosen = rng.choice(repeat, size=n, replace=False) if n else np.array([], dtype=object)
    theirs = orders.loc[orders["customer_id"].isin(chosen), ["order_id", "order_date"]]
    cand = lines.merge(theirs, on="order_id")
    cand = cand.merge(
        returns[["order_id", "line_no"]], on=["order_id", "line_no"], how="left", indicator=True
    )
    cand = cand[cand["_merge"] == "left_only"]
    when = (cand["order_date"] + pd.to_timedelta(rng.integers(5, 25, len(cand)), "D")).dt.normalize()
    take = (rng.random(len(cand)) < SERIAL_RETURNERS["return_share"]) & (when <= end).to_numpy()
    cand, when = cand[take], when[take]
    added = pd.DataFrame(
        {
            "return_id": np.char.add("RS", np.char.zfill(np.arange(1, len(cand) + 1).astype(str), 7)),
            "order_id": cand["order_id"].to_numpy(),
            "line_no": cand["line_no"].to_numpy(),
            "quantity": cand["quantity"].to_numpy(),
            "return_date": when.to_numpy(),
            "reason": np.array(["size", "changed_mind"])[rng.integers(0, 2, len(cand))],
        }
    )
    truth = {**SERIAL_RETURNERS, "customers": sorted(map(str, chosen))}
    return pd.concat([returns, added], ignore_index=True), truth


def activities(
    seed: int, opportunities: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp
) -> tuple[pd.DataFrame, dict]:
    """Sales activities on the deals, dated within the phase they belong to, up to ``end``."""
    rng = np.random.default_rng([seed, 22])
    ev = events.sort_values(["opportunity_id", "entered_at"], kind="stable").reset_index(drop=True)
    nxt = ev.groupby("opportunity_id")["entered_at"].shift(-1)
    nxt_stage = ev.groupby("opportunity_id")["stage"].shift(-1)
    stays = ev[ev["stage"].isin(list(PHASE_ACTIVITIES))].assign(left=nxt, next_stage=nxt_stage)
    advanced = stays["next_stage"].notna() & (stays["next_stage"] != "lost")
    start, stop = stays["entered_at"], stays["left"].fillna(end)
    span = (stop - start).dt.days.clip(lower=0).to_numpy()
    owner = stays["opportunity_id"].map(opportunities.set_index("opportunity_id")["owner"])
    rows = []
    for stage, types in PHASE_ACTIVITIES.items():
        here = (stays["stage"] == stage).to_numpy()
        for kind in types:
            if (stage, kind) == (HELPFUL["stage"], HELPFUL["type"]):
                chance = np.where(advanced, float(HELPFUL["if_advanced"]), float(HELPFUL["otherwise"]))
            else:
                chance = np.full(len(stays), NEUTRAL_CHANCE)
            # Dated inside the stay, before the deal left the phase: a deal still in it has it so far.
            day = np.floor(rng.random(len(stays)) * span)
            pick = here & (rng.random(len(stays)) < chance) & (span > 0)
            rows.append(
                pd.DataFrame(
                    {
                        "opportunity_id": stays["opportunity_id"].to_numpy()[pick],
                        "type": kind,
                        "activity_date": (start + pd.to_timedelta(day, "D")).to_numpy()[pick],
                        "owner": owner.to_numpy()[pick],
                    }
                )
            )
    opps = opportunities[["opportunity_id", "created_date", "owner"]]
    call = opps["created_date"] + pd.to_timedelta(
        np.round(rng.exponential(FIRST_CALL_MEAN_DAYS, len(opps))), "D"
    )
    rows.append(
        pd.DataFrame(
            {
                "opportunity_id": opps["opportunity_id"].to_numpy(),
                "type": "first call",
                "activity_date": call.to_numpy(),
                "owner": opps["owner"].to_numpy(),
            }
        )
    )
    out = pd.concat(rows, ignore_index=True)
    out = out[out["activity_date"] <= end].sort_values(
        ["activity_date", "opportunity_id", "type"], kind="stable"
    )
    out.insert(0, "activity_id", np.char.add("A", np.char.zfill(np.arange(1, len(out) + 1).astype(str), 7)))
    truth = {
        "helpful": HELPFUL,
        "neutral": [[s, k] for s, ks in PHASE_ACTIVITIES.items() for k in ks if k != HELPFUL["type"]],
        "neutral_chance": NEUTRAL_CHANCE,
        "first_call_mean_days": FIRST_CALL_MEAN_DAYS,
    }
    return out.reset_index(drop=True), truth


#: the demo's sales organisation: manager -> (team, the reps who report to them)
SALES_TEAM = {
    "Mara Brandt": ("DACH", range(1, 5)),
    "Sven Olsen": ("DACH", range(5, 9)),
    "Lea Moreau": ("International", range(9, 13)),
}


def sales_team(opportunities: pd.DataFrame) -> pd.DataFrame:
    """Who reports to whom: the twelve reps who own the demo's deals, their three managers and two teams."""
    rows = [(f"Rep {i:02d}", manager, team) for manager, (team, reps) in SALES_TEAM.items() for i in reps]
    team = pd.DataFrame(rows, columns=["owner", "manager", "team"])
    return team[team["owner"].isin(opportunities["owner"])].reset_index(drop=True)


#: quota growth over the same quarter a year earlier, as a sales operations team would set it
QUOTA_GROWTH = 0.10


def quotas(opportunities: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Each rep's quarterly quota from the second year of data up to a year after ``end``: the rep's bookings in
    the same quarter a year earlier plus :data:`QUOTA_GROWTH`, rounded to thousands."""
    won = opportunities[opportunities["outcome"] == "won"]
    quarter = pd.to_datetime(won["closed_date"]).dt.to_period("Q")
    booked = won.groupby([won["owner"], quarter])["amount"].sum()
    first = quarter.min() + 4
    periods = pd.period_range(first, pd.Timestamp(end).to_period("Q") + 4, freq="Q")
    rows = [
        (owner, str(p), float(round(booked.get((owner, p - 4), 0.0) * (1 + QUOTA_GROWTH), -3)))
        for owner in sorted(won["owner"].unique())
        for p in periods
    ]
    out = pd.DataFrame(rows, columns=["owner", "period", "quota"])
    return out[out["quota"] > 0].reset_index(drop=True)  # no bookings a year earlier: no quota set


#: how far each planted rep's commit calls sit from what they then book (commit = booked x factor); the others 1
CALL_FACTORS = {"Rep 03": 1.4, "Rep 07": 0.7}  # an optimist and a sandbagger
CALL_NOISE = 0.15  # sd of log(commit / booked x factor), call to call


def forecast_calls(seed: int, opportunities: pd.DataFrame, end: pd.Timestamp) -> tuple[pd.DataFrame, dict]:
    """Every rep's monthly commit call, made a week into each month they booked in, and for the three months
    after ``end`` (made a week before it): what they then booked (the same month a year earlier for the coming
    ones) times their planted
    factor and a call-to-call noise; best case 30 % above commit. Returns the calls and the truth."""
    rng = np.random.default_rng([seed, 31])
    won = opportunities[opportunities["outcome"] == "won"]
    month = pd.to_datetime(won["closed_date"]).dt.to_period("M")
    booked = won.groupby([won["owner"], month])["amount"].sum()
    last = pd.Timestamp(end).to_period("M")
    if pd.Timestamp(end).normalize() < last.end_time.normalize():
        last -= 1  # the last complete month
    rows = []
    for owner in sorted(won["owner"].unique()):
        factor = CALL_FACTORS.get(owner, 1.0)
        for m in [*pd.period_range(month.min() + 1, last, freq="M"), last + 1, last + 2, last + 3]:
            basis = booked.get((owner, m), 0.0) if m <= last else booked.get((owner, m - 12), 0.0)
            if basis <= 0:
                continue
            commit = float(round(basis * factor * np.exp(rng.normal(0.0, CALL_NOISE)), -2))
            # a week into the month; the coming three months' calls a week before the data end
            made = (
                (m.start_time + pd.Timedelta(days=7))
                if m <= last
                else pd.Timestamp(end) - pd.Timedelta(days=7)
            )
            rows.append((owner, str(m), made.normalize(), commit, round(commit * 1.3, -2)))
    calls = pd.DataFrame(rows, columns=["owner", "period", "submitted_at", "commit", "best_case"])
    return calls, {"call_factors": CALL_FACTORS, "call_noise": CALL_NOISE, "period": "month"}


#: share of the deals open at the data's end whose close date was pushed again and again (2 to 4 times, 3 to 8
#: weeks each), and share whose amount was cut once (to 50-80 % of what it was)
PUSHED_SHARE, CUT_SHARE = 0.08, 0.05


def opportunity_history(
    seed: int, opportunities: pd.DataFrame, end: pd.Timestamp
) -> tuple[pd.DataFrame, dict]:
    """The deals' history of expected close dates and amounts, as a CRM's opportunity history exports it: every
    deal's values when created; for a planted share of the deals still open at ``end`` the close-date pushes
    and amount cuts that led to today's values (recorded on dates between creation and ``end``). The
    opportunities table is unchanged: its values are the last ones recorded. Returns the history and the truth
    (which deals were pushed how often, which were cut)."""
    rng = np.random.default_rng([seed, 37])
    opp = opportunities.reset_index(drop=True)
    created = pd.to_datetime(opp["created_date"])
    close = pd.to_datetime(opp["expected_close_date"])
    end = pd.Timestamp(end).normalize()
    open_ = np.flatnonzero((opp["outcome"] == "open").to_numpy() & (created < end - pd.Timedelta(days=14)))
    pushed = rng.choice(open_, int(round(PUSHED_SHARE * len(open_))), replace=False)
    cut = rng.choice(np.setdiff1d(open_, pushed), int(round(CUT_SHARE * len(open_))), replace=False)
    pushes = dict(zip(pushed, rng.integers(2, 5, len(pushed)), strict=True))
    first_close, first_amount = close.copy(), opp["amount"].astype(float).copy()
    rows = []
    for i, times in pushes.items():
        steps = np.asarray(rng.integers(21, 57, int(times)))  # days each push moved the close date
        first_close.iloc[i] = close.iloc[i] - pd.Timedelta(days=int(steps.sum()))
        days = np.sort(rng.choice(np.arange(1, (end - created.iloc[i]).days + 1), times, replace=False))
        for k in range(times):  # each push recorded on a day of its own, the close date moved by that step
            moved = first_close.iloc[i] + pd.Timedelta(days=int(steps[: k + 1].sum()))
            rows.append((i, created.iloc[i] + pd.Timedelta(days=int(days[k])), moved, first_amount.iloc[i]))
    for i in cut:
        first_amount.iloc[i] = float(round(opp["amount"].iloc[i] / rng.uniform(0.5, 0.8), -1))
        when = created.iloc[i] + pd.Timedelta(days=int(rng.integers(1, (end - created.iloc[i]).days + 1)))
        rows.append((i, when, close.iloc[i], float(opp["amount"].iloc[i])))
    start = pd.DataFrame(
        {"i": np.arange(len(opp)), "at": created, "close": first_close, "amount": first_amount}
    )
    later = pd.DataFrame(rows, columns=["i", "at", "close", "amount"])
    history = pd.concat([start, later], ignore_index=True).sort_values(["i", "at"], kind="stable")
    history = history.drop_duplicates(["i", "at"], keep="last")
    out = pd.DataFrame(
        {
            "opportunity_id": opp["opportunity_id"].to_numpy()[history["i"]],
            "recorded_at": history["at"].dt.normalize().to_numpy(),
            "expected_close_date": history["close"].to_numpy(),
            "amount": history["amount"].to_numpy(),
        }
    )
    ids = opp["opportunity_id"].to_numpy()
    truth = {
        "pushed": {str(ids[i]): int(t) for i, t in pushes.items()},
        "cut": [str(ids[i]) for i in cut],
        "pushed_share": PUSHED_SHARE,
        "cut_share": CUT_SHARE,
    }
    return out.reset_index(drop=True), truth
