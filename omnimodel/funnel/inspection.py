"""Deal inspection: the open deals at risk, each with why, and what raises or lowers its win probability.

A deal is at risk when it has stalled (in its stage longer than 90 % of the deals that advanced from it took,
and the history gives such deals a lower chance to advance),
its expected close date has passed, its close date was pushed again and again, or its amount was cut. Pushes
and cuts need the deal's history, which an export does not keep: they come from the deal states the forecast
ledger recorded at earlier runs (:mod:`omnimodel.funnel.ledger`). What moves a deal's win probability is read
from the fitted model, as the CRMs' deal scores show it: the posterior mean effect (log-odds) of the deal's
segment, region, source channel and product, and for a stalled deal how much its time in the stage lowers its
chance to advance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.funnel.model import PipelineModel
from omnimodel.funnel.snapshot import PipelineSnapshot

#: a deal past 90 % of its stage's advance times is stalled when the history gives it less than this share of
#: a fresh deal's chance to advance (in some pipelines old deals win as often: time alone is no risk there)
STALE_BELOW = 0.9


def deal_factors(model: PipelineModel, deals: pd.DataFrame) -> pd.DataFrame:
    """Per deal (rows as ``deals``) and model term (each factor, then each interaction "a_x_b"): the posterior
    mean effect of the deal's level (or combination) on the log-odds of advancing (0 for a level the model never
    saw, and for factors it left out)."""
    advance = model.advance_
    post = model.idata_.posterior.stack(sample=("chain", "draw"))
    codes = {f: advance.level_codes(deals, f) for f in advance.used_factors}
    out = pd.DataFrame(index=deals.index)
    for name, factors in advance.terms():
        out[name] = advance.effect_draws(post, name, factors).mean(axis=0)[advance.term_index(codes, factors)]
    return out


def _pushes(recorded: pd.DataFrame) -> pd.DataFrame:
    """Per deal, from its recorded states over runs: how often its close date moved later, the first recorded
    close date, and the largest recorded amount."""
    r = recorded.dropna(subset=["opportunity_id"]).copy()
    r["as_of"] = pd.to_datetime(r["as_of"])
    r["expected_close_date"] = pd.to_datetime(r["expected_close_date"])
    r = r.sort_values(["opportunity_id", "as_of"]).drop_duplicates(["opportunity_id", "as_of"], keep="last")
    later = r.groupby("opportunity_id")["expected_close_date"].diff() > pd.Timedelta(0)
    return (
        r.assign(pushed=later)
        .groupby("opportunity_id")
        .agg(
            pushes=("pushed", "sum"),
            first_close=("expected_close_date", "first"),
            top_amount=("amount", "max"),
        )
    )


def deals_at_risk(
    model: PipelineModel,
    snapshot: PipelineSnapshot,
    forecast_deals: pd.DataFrame,
    recorded: pd.DataFrame | None = None,
    pushes_at_least: int = 2,
) -> pd.DataFrame:
    """The open deals of a forecast (``BookingsForecast.deals``) that are at risk, the value at stake first:
    ``reasons`` (why at risk), ``at_stake`` (value x win probability: deals when the forecast counts deals),
    ``raises`` and ``lowers`` (the factors that move its win probability most), with
    stage, amount, win probability and chance to book. ``recorded``: the ledger's deal rows of earlier runs
    (for pushes and cuts)."""
    chances = forecast_deals[["opportunity_id", "win_probability", "p_book_in_period"]]
    deals = snapshot.open_deals.merge(chances, on="opportunity_id").reset_index(drop=True)
    history = _pushes(recorded) if recorded is not None and len(recorded) else None
    effects = deal_factors(model, deals)
    value = model.deal_value(deals)  # the amount, or 1 per deal when the forecast counts deals
    rows = []
    for i, d in deals.iterrows():
        reasons = []
        timing = model.timing_.stages[int(d["reached"])]
        stale = (
            float(timing.still_advancing(np.array([d["days_in_stage"]], float))[0])
            if pd.notna(d["days_in_stage"])
            else 1.0
        )
        if timing.cut > 0 and d["days_in_stage"] > timing.cut and stale < STALE_BELOW:
            share = f"{stale:.0%}".replace("%", " %")
            reasons.append(
                f"in {d['stage']} for {d['days_in_stage']:.0f} days, longer than 90 % of the deals that advanced "
                f"from it ({timing.cut:.0f}); its chance to advance is {share} of a fresh deal's"
            )
        close = pd.to_datetime(d.get("expected_close_date"))
        if pd.notna(close) and close < snapshot.as_of:
            reasons.append(f"expected close date {close.date()} has passed")
        if history is not None and d["opportunity_id"] in history.index:
            h = history.loc[d["opportunity_id"]]
            if h["pushes"] >= pushes_at_least:
                reasons.append(
                    f"close date pushed {int(h['pushes'])} times (from {h['first_close'].date()} to "
                    f"{close.date() if pd.notna(close) else 'none'})"
                )
            if pd.notna(h["top_amount"]) and pd.notna(d["amount"]) and d["amount"] < h["top_amount"]:
                reasons.append(f"amount cut from {h['top_amount']:,.0f} to {d['amount']:,.0f}")
        if not reasons:
            continue
        e = effects.loc[i]
        rows.append(
            {
                **d[["opportunity_id", "stage", "amount", "win_probability", "p_book_in_period"]].to_dict(),
                "at_stake": float(value[i]) * float(d["win_probability"]),
                "reasons": "; ".join(reasons),
                "raises": _say(e[e > 0].nlargest(2), deals.loc[i]),
                "lowers": _say(e[e < 0].nsmallest(2), deals.loc[i]),
            }
        )
    columns = ["opportunity_id", "stage", "amount", "win_probability", "p_book_in_period", "at_stake"]
    out = pd.DataFrame(rows, columns=[*columns, "reasons", "raises", "lowers"])
    return out.sort_values("at_stake", ascending=False, ignore_index=True)


def _say(effects: pd.Series, deal: pd.Series) -> str:
    """Effects as words: "segment public_sector (+0.42 log-odds)", "segment small_business x source channel
    webshop (+0.30 log-odds)" for an interaction."""
    said = []
    for term, v in effects.items():
        if abs(v) >= 0.01:
            levels = " x ".join(f"{f.replace('_', ' ')} {deal[f]}" for f in str(term).split("_x_"))
            said.append(f"{levels} ({v:+.2f} log-odds)")
    return ", ".join(said)


def what_moves_the_chance(model: PipelineModel, interval: float = 0.9) -> pd.DataFrame:
    """The segments, regions, channels, products and combinations (interactions) whose effect on the log-odds
    of advancing at every stage is clearly not zero: its ``interval`` credible interval excludes 0. Columns:
    ``what`` (the factor or combination in words), ``level``, ``effect`` (posterior mean log-odds), ``low``,
    ``high`` and ``odds_factor`` (exp of the mean: how much it multiplies the odds of advancing), largest first.
    """
    post = model.idata_.posterior.stack(sample=("chain", "draw"))
    tail = (1 - interval) / 2
    rows = []
    advance = model.advance_
    for name, factors in advance.terms():
        draws = advance.effect_draws(post, name, factors)[:, :-1]  # without the unseen-level column
        levels = pd.MultiIndex.from_product([advance.levels[f] for f in factors]).map(
            lambda v: " x ".join(map(str, v if isinstance(v, tuple) else (v,)))
        )
        low, high = np.quantile(draws, [tail, 1 - tail], axis=0)
        for i, level in enumerate(levels):
            if low[i] > 0 or high[i] < 0:
                what = " x ".join(f.replace("_", " ") for f in factors)
                rows.append((what, level, draws[:, i].mean(), low[i], high[i]))
    out = pd.DataFrame(rows, columns=["what", "level", "effect", "low", "high"])
    out["odds_factor"] = np.exp(out["effect"])
    return out.reindex(out["effect"].abs().sort_values(ascending=False).index).reset_index(drop=True)
