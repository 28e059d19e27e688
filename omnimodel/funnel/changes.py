"""Why the forecast changed: the change in a period's expected bookings between two as-of dates, split into
parts that add up exactly, with the deals behind each part.

The forecast at a date is what is booked in the period so far plus the expected value of what is still to
come (:mod:`omnimodel.funnel.forecast`, in closed form here, so nothing is Monte Carlo noise). The change from
the earlier date to the later one is taken in steps, each measured with everything before it already applied,
so the parts add up to the change by construction:

1. **model update**: the earlier pipeline valued by the later fit instead of the earlier one (rates refitted on
   what happened in between);
2. per deal, with the later fit: **new deals** (created in between), **deals won** (booked in the period),
   **won outside the period** (closed before it starts, so out of it), **deals lost**, and for
   deals open at both dates, **amount changes** (the change in value at the earlier chance to book), then the
   rest of the deal's change by what happened to it: **stage moves**, **slipped out** (its expected close date
   moved past the period's end), **pulled in** (moved into the period), else **time passed** (a deal
   that does not advance loses chance, and the period's days run out);
3. **deals not created yet**: the change in the expected value of deals still to be created (fewer days left,
   a later arrival window).

Deals won before the earlier date stay booked and change nothing. An export holds each deal's latest amount and
expected close date only; where the forecast ledger recorded the earlier date's values (:func:`as_recorded`),
amount changes and slips since then are seen, otherwise those parts are zero.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnimodel.exceptions import ParameterError
from omnimodel.funnel.forecast import _keep, booking_chances, days_of, expected_new_deals
from omnimodel.funnel.model import PipelineModel
from omnimodel.funnel.snapshot import PipelineSnapshot

#: the parts, in the order they are measured and shown
PARTS = (
    "model update",
    "new deals",
    "deals won",
    "won outside the period",
    "deals lost",
    "amount changes",
    "stage moves",
    "slipped out",
    "pulled in",
    "time passed",
    "deals removed",
    "deals not created yet",
)


@dataclass
class ForecastChange:
    """The change of one period's expected bookings from ``before`` (as of ``from_date``) to ``after``."""

    period: pd.Period
    from_date: pd.Timestamp
    to_date: pd.Timestamp
    before: float
    after: float
    parts: pd.DataFrame  # part, change, deals (how many deals behind it)
    deals: pd.DataFrame  # one row per deal whose expected value moved: part, before, after, change, ...

    @property
    def change(self) -> float:
        """After minus before: the sum of the parts."""
        return self.after - self.before

    def _repr_html_(self) -> str:
        moved = self.parts[self.parts["change"].round(0) != 0].rename(
            columns={"part": "Part", "change": "Change", "deals": "Deals"}
        )
        return (
            f"<p>Expected bookings in <b>{self.period}</b>: {self.before:,.0f} as of {self.from_date.date()}, "
            f"<b>{self.after:,.0f}</b> as of {self.to_date.date()} ({self.change:+,.0f}).</p>"
            + moved.to_html(index=False, formatters={"Change": "{:+,.0f}".format, "Deals": "{:,}".format})
        )

    def to_dict(self) -> dict:
        """Plain types, for JSON."""
        return {
            "period": str(self.period),
            "from": str(self.from_date.date()),
            "to": str(self.to_date.date()),
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "parts": self.parts.to_dict(orient="records"),
            "deals": _plain(self.deals).to_dict(orient="records"),
        }


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO text and missing values as None (valid JSON: no NaN, no NaT)."""
    out = frame.copy()
    for column in out.select_dtypes("datetime").columns:
        out[column] = out[column].dt.strftime("%Y-%m-%d")
    return out.astype(object).where(out.notna(), None)


def deal_values(
    model: PipelineModel, snapshot: PipelineSnapshot, period: str | pd.Period, where: dict | None = None
) -> tuple[pd.DataFrame, float]:
    """Each deal's expected contribution to the period's bookings as of the snapshot (its value when won inside
    the period, P(book in the period) x value while open, else 0), and the expected value of deals not created
    yet."""
    p, start, end = days_of(period, snapshot.as_of)
    deals = _keep(snapshot.deals, {k: v for k, v in (where or {}).items() if v is not None})
    deals = deals.reset_index(drop=True)
    value = model.deal_value(deals)
    chance = np.zeros(len(deals))
    is_open = (deals["outcome"] == "open").to_numpy()
    if is_open.any():
        win, inside = booking_chances(model, snapshot.as_of, deals[is_open], start, end)
        chance[is_open] = win.mean(axis=0) * inside
    closed = pd.to_datetime(deals["closed_date"])
    booked = (deals["outcome"] == "won") & (closed >= p.start_time) & (closed <= p.end_time)
    chance[booked.to_numpy()] = 1.0
    out = deals[["opportunity_id", "outcome", "stage", "reached", "expected_close_date"]].copy()
    out["value"] = value
    out["chance"] = chance
    out["expected"] = chance * value
    return out, expected_new_deals(model, snapshot.as_of, start, end, where)


def forecast_change(
    before: tuple[PipelineModel, PipelineSnapshot],
    after: tuple[PipelineModel, PipelineSnapshot],
    period: str | pd.Period,
    where: dict | None = None,
) -> ForecastChange:
    """Split the change of ``period``'s expected bookings from the earlier (model, snapshot) to the later one.

    Examples
    --------
    >>> change = forecast_change((model_may, snap_may), (model_june, snap_june), "2017Q3")  # doctest: +SKIP
    >>> change.parts  # doctest: +SKIP
    """
    (m1, s1), (m2, s2) = before, after
    if s2.as_of < s1.as_of:
        raise ParameterError(
            f"the later snapshot ({s2.as_of.date()}) is before the earlier ({s1.as_of.date()})",
            fix="give the earlier date first",
        )
    p = days_of(period, s2.as_of)[0]
    d1, new1 = deal_values(m1, s1, p, where)
    d1m, new1m = deal_values(m2, s1, p, where)  # the earlier pipeline, valued by the later fit
    d2, new2 = deal_values(m2, s2, p, where)
    start_total = d1["expected"].sum() + new1
    refit_total = d1m["expected"].sum() + new1m

    both = d1m.merge(d2, on="opportunity_id", how="outer", suffixes=("_before", "_after"), indicator=True)
    both["expected_before"] = both["expected_before"].fillna(0.0)
    both["expected_after"] = both["expected_after"].fillna(0.0)
    was, now = both["outcome_before"], both["outcome_after"]
    was_open = (was == "open") & (both["_merge"] == "both")
    inside = _inside(both["expected_close_date_before"], p), _inside(both["expected_close_date_after"], p)
    part = np.select(
        [
            both["_merge"] == "right_only",
            was_open & (now == "won") & (both["chance_after"] > 0),
            was_open & (now == "won"),
            was_open & (now == "lost"),
            was_open & (both["reached_before"] != both["reached_after"]),
            was_open & inside[0] & ~inside[1],
            was_open & ~inside[0] & inside[1],
            was_open,
            both["_merge"] == "left_only",
        ],
        [
            "new deals",
            "deals won",
            "won outside the period",
            "deals lost",
            "stage moves",
            "slipped out",
            "pulled in",
            "time passed",
            "deals removed",
        ],
        "closed before",
    )
    # For deals open at both dates, the value change first, at the earlier chance to book; the rest by part. A
    # deal closed before the earlier date can only change by its value (a won deal's amount corrected later).
    change = both["expected_after"] - both["expected_before"]
    amount = np.where(
        was_open & (now == "open"),
        (both["value_after"] - both["value_before"]).fillna(0.0) * both["chance_before"].fillna(0.0),
        np.where(part == "closed before", change, 0.0),
    )
    pieces = pd.DataFrame({"part": part, "change": (change - amount).to_numpy()})
    pieces = pd.concat(
        [pieces, pd.DataFrame({"part": "amount changes", "change": amount})], ignore_index=True
    )
    moved = pieces[(pieces["change"] != 0) & (pieces["part"] != "closed before")]
    totals = moved.groupby("part")["change"].agg(change="sum", deals="size")
    parts = pd.DataFrame({"part": list(PARTS)}).set_index("part")
    parts["change"], parts["deals"] = totals["change"], totals["deals"]
    parts.loc["model update", "change"] = refit_total - start_total
    parts.loc["deals not created yet", "change"] = new2 - new1m
    parts = parts.fillna({"change": 0.0, "deals": 0}).astype({"deals": int}).reset_index()

    part = np.where(part == "closed before", "amount changes", part)
    deals = both.assign(part=part, change=change, stage_before=both["stage_before"].fillna("not created"))
    deals = deals[deals["change"] != 0]
    deals = deals[
        [
            "opportunity_id",
            "part",
            "stage_before",
            "stage_after",
            "value_before",
            "value_after",
            "expected_close_date_before",
            "expected_close_date_after",
            "expected_before",
            "expected_after",
            "change",
        ]
    ]
    deals = deals.reindex(deals["change"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    end_total = d2["expected"].sum() + new2
    return ForecastChange(p, s1.as_of, s2.as_of, float(start_total), float(end_total), parts, deals)


def as_recorded(snapshot: PipelineSnapshot, recorded: pd.DataFrame) -> PipelineSnapshot:
    """The snapshot with its deals' amount and expected close date as a ledger run recorded them on that date
    (``opportunity_id``, ``amount``, ``expected_close_date``): an export keeps only the latest values, the ledger
    what the forecast saw, so amount cuts and close-date pushes since then can be told apart."""
    if recorded is None or recorded.empty:
        return snapshot
    known = recorded.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")
    deals = snapshot.deals.copy()
    ids = deals["opportunity_id"].astype(str)
    seen = ids.isin(known.index).to_numpy()
    deals.loc[seen, "amount"] = ids[seen].map(known["amount"]).astype(float).to_numpy()
    deals.loc[seen, "expected_close_date"] = pd.to_datetime(
        ids[seen].map(known["expected_close_date"])
    ).to_numpy()
    return dataclasses.replace(snapshot, deals=deals)


def _inside(dates: pd.Series, period: pd.Period) -> pd.Series:
    """Whether an expected close date falls on or before the period's end (unknown dates count as inside: no
    slip can be seen)."""
    d = pd.to_datetime(dates)
    return (d <= period.end_time) | d.isna()
