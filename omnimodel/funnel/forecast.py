"""Monte Carlo bookings forecast for a period, from the posterior of a fitted :class:`PipelineModel`.

For every forecast path (at least 4,000, cycling through the posterior draws): each open deal books with its
drawn win probability (lower for stale deals) times its exact chance of closing inside the period once won (the
time the advances took, given the days already spent, timed by the month-of-quarter win calendar); new deals
arrive as a Poisson process with the drawn rate, take the mix and value of a deal created in the last year, and
must pass every stage; since arrivals are Poisson, the ones that book are Poisson too (thinned by P(win) x
P(close inside)), and only those are drawn. A per-path period shock carries the error seen in recent hindcasts.
Everything is vectorised over paths and deals.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from omnimodel.data.periods import parse_period
from omnimodel.funnel.snapshot import TEAM, PipelineSnapshot

if TYPE_CHECKING:
    from omnimodel.funnel.model import PipelineModel

#: the groups a forecast is split by unless told otherwise (plus owner, manager and team where known)
GROUPS = ("source_channel", "region", "segment")
#: forecast categories from each open deal's probability of booking in the period
COMMIT_AT = 0.7
BEST_CASE_AT = 0.3
CHUNK = 200  # draws per chunk: bounds memory at CHUNK x deals
#: forecast paths by default; with fewer posterior draws the paths cycle through them, so that P10 and P90 are
#: not moved by Monte Carlo noise (about 1 % of the spread at 4,000 paths, against 2 % at 1,000)
FORECAST_PATHS = 4000


@dataclass
class BookingsForecast:
    """Forecast draws of bookings in a period, in total and by group, plus the open-deal list. When the period
    has started, what was booked in it by the as-of date is part of every draw (``booked``)."""

    period: pd.Period
    as_of: pd.Timestamp
    total: np.ndarray  # (draws,)
    by_group: dict[str, pd.DataFrame]  # group -> draws (rows) x levels (columns; a MultiIndex for "a+b")
    deals: pd.DataFrame  # open deals with win probability, P(book in period), category
    new_deals_share: float  # share of the expected bookings coming from deals not yet created
    booked: float = 0.0  # booked in the period by the as-of date (won deals), included in the draws
    booked_by: dict[str, pd.Series] = field(default_factory=dict)  # the same per level of each group

    def quantiles(self, draws: np.ndarray | None = None) -> dict[str, float]:
        """P10, P50, P90 and mean of the total (or of ``draws``)."""
        x = self.total if draws is None else draws
        return {
            "p10": float(np.quantile(x, 0.1)),
            "p50": float(np.quantile(x, 0.5)),
            "p90": float(np.quantile(x, 0.9)),
            "mean": float(x.mean()),
        }

    def p_hit(self, target: float) -> float:
        """Probability that bookings reach the target."""
        return float((self.total >= target).mean())

    def to_frame(self, by: str | None = None, targets: dict | pd.Series | None = None) -> pd.DataFrame:
        """P10, P50, P90 and mean of bookings, in total or by a group column; with ``targets`` (level ->
        target, e.g. :func:`omnimodel.funnel.measures.level_targets`), each level's target and its chance to
        reach it."""
        if by is None:
            return pd.DataFrame([{"period": str(self.period), **self.quantiles()}]).round(0)
        draws = self.by_group[by]
        parts = by.split("+")
        targets = dict(targets) if targets is not None else None
        rows = []
        for level in draws.columns:
            row = {
                **dict(zip(parts, level if len(parts) > 1 else (level,), strict=True)),
                **self.quantiles(draws[level].to_numpy()),
            }
            if targets is not None:
                goal = targets.get(level)
                row["target"] = goal
                row["p_hit"] = float((draws[level].to_numpy() >= goal).mean()) if goal else None
            rows.append(row)
        out = pd.DataFrame(rows).sort_values("p50", ascending=False, ignore_index=True)
        money = [c for c in ("p10", "p50", "p90", "mean", "target") if c in out]
        return out.round({c: 0 for c in money})

    def _repr_html_(self) -> str:
        q = self.quantiles()
        booked = f", {self.booked:,.0f} of it booked already" if self.booked else ""
        return (
            f"<p>Bookings in <b>{html.escape(str(self.period))}</b> (as of {self.as_of.date()}): "
            f"P10 {q['p10']:,.0f}, <b>P50 {q['p50']:,.0f}</b>, P90 {q['p90']:,.0f}{booked}; "
            f"{self.new_deals_share:.0%} of the expected value from deals not created yet.</p>"
            + self.to_frame()
            .rename(columns=lambda c: c.upper() if c.startswith("p") and c[1:].isdigit() else c.capitalize())
            .to_html(index=False, float_format=lambda v: f"{v:,.0f}")
        )


def forecast_bookings(
    model: PipelineModel,
    snapshot: PipelineSnapshot,
    period: str,
    by: tuple[str, ...] | None = None,
    random_seed: int = 0,
    include_new_deals: bool = True,
    n_draws: int | None = None,
    period_noise: bool = True,
    where: dict[str, str | None] | None = None,
) -> BookingsForecast:
    """Forecast bookings in ``period`` (``2026Q1``, ``2026-01`` or ``2026``) from the snapshot's open deals.

    ``n_draws`` forecast paths cycle through the posterior draws (default: at least :data:`FORECAST_PATHS`,
    each posterior draw equally often). ``where`` keeps only deals with these attribute values (e.g.
    ``{"region": "North"}``; None values are ignored); the model itself stays fitted on all deals, so small
    slices still borrow strength. ``by`` names
    group columns of the deals (default: :data:`GROUPS`, and owner, manager and team where the deals have them); ``"source_channel+region"`` groups by both, ``"stage+..."`` by the stage the
    deal is in now (``"new"`` for deals not created yet).

    Examples
    --------
    >>> fc = forecast_bookings(model, snapshot, "2026Q1")  # doctest: +SKIP
    >>> fc.quantiles()  # doctest: +SKIP
    {'p10': ..., 'p50': ..., 'p90': ..., 'mean': ...}
    """
    rng = np.random.default_rng(random_seed)
    if by is None:  # the usual groups, and the owners, managers and teams where the deals have them
        by = (*GROUPS, *(c for c in TEAM if c in snapshot.deals))
    p, start, end = days_of(period, snapshot.as_of)
    where = {k: v for k, v in (where or {}).items() if v is not None}
    deals = _keep(snapshot.open_deals, where).reset_index(drop=True)
    passes = -(-FORECAST_PATHS // model.n_draws())  # whole passes over the posterior draws
    n_draws = n_draws or model.n_draws() * passes
    of = np.arange(n_draws) % model.n_draws()  # the posterior draw behind each path
    amounts = model.deal_value(deals)
    win, closes_inside = booking_chances(model, snapshot.as_of, deals, start, end)
    groups = {g: pd.Categorical(_group_labels(deals, g)) for g in by}
    # Value booked per draw in total and per group level, as one matrix product per chunk of draws.
    sizes = [len(groups[g].categories) for g in by]
    offsets = 1 + np.cumsum([0, *sizes])[:-1]  # column of each group's first level; column 0 is the total
    value_to = np.zeros((len(deals), 1 + sum(sizes)))
    value_to[:, 0] = amounts
    for g, offset in zip(by, offsets, strict=True):
        value_to[np.arange(len(deals)), offset + groups[g].codes] = amounts
    sums = np.zeros((n_draws, value_to.shape[1]))
    for lo in range(0, n_draws, CHUNK):
        hi = min(n_draws, lo + CHUNK)
        books = rng.random((hi - lo, len(deals)), dtype=np.float32) < win[of[lo:hi]] * closes_inside
        sums[lo:hi] = books.astype(np.float64) @ value_to
    total = sums[:, 0]
    by_group = {
        g: pd.DataFrame(sums[:, offset : offset + k], columns=_columns(g, list(groups[g].categories)))
        for g, offset, k in zip(by, offsets, sizes, strict=True)
    }

    new_total: np.ndarray = np.zeros(n_draws)
    templates = _keep(model.arrivals_.templates, where)
    if include_new_deals and len(templates) and end > 0:
        # Arrivals are Poisson with independent marks (template, creation time, win, close date), so the ones
        # that book are Poisson per draw and cell of factor levels, thinned by P(win) x P(close inside): only
        # those are sampled.
        cell_of, cells = _cells(model, templates)
        cell_sizes = np.bincount(cell_of, minlength=len(cells))
        members = np.argsort(cell_of, kind="stable")  # templates grouped by cell, starting at cell_start
        cell_start = np.concatenate([[0], np.cumsum(cell_sizes)[:-1]])
        inside = model.timing_.new_deal_close_probability(snapshot.as_of, start, end)
        lam = model.arrivals_.rates(rng, n_draws) * end
        booked = rng.poisson(
            # a cell's share of all new deals: a slice (``where``) gets its share of the arrivals, not all
            lam[:, None]
            * (cell_sizes / len(model.arrivals_.templates))
            * model.advance_.win_from_start(cells)[of]
            * inside
        )
        draw_of = np.repeat(np.repeat(np.arange(n_draws), len(cells)), booked.ravel())
        cell = np.repeat(np.tile(np.arange(len(cells)), n_draws), booked.ravel())
        pick = members[cell_start[cell] + (rng.random(len(cell)) * cell_sizes[cell]).astype(np.int64)]
        value = model.deal_value(templates)[pick]
        new_total = np.bincount(draw_of, weights=value, minlength=n_draws)
        for g in by:
            cats = list(by_group[g].columns)
            labels = _group_labels(templates, g)
            for level in sorted(set(labels) - set(cats)):
                by_group[g][level] = 0.0
                cats.append(level)
            group = pd.Categorical(labels, categories=cats).codes[pick]
            flat = np.bincount(draw_of * len(cats) + group, weights=value, minlength=n_draws * len(cats))
            by_group[g] = by_group[g][cats] + flat.reshape(n_draws, len(cats))
        total = total + new_total

    # Period-level chance the deals do not carry (big-deal timing, execution): one factor per draw.
    shock = model.period_noise_.shocks(rng, n_draws) if period_noise else np.ones(n_draws)
    total = total * shock
    by_group = {g: frame.mul(shock, axis=0) for g, frame in by_group.items()}
    new_total = new_total * shock
    # What the period booked by the as-of date is certain: added to every draw, in total and per level.
    won = _keep(snapshot.deals, where)
    closed = pd.to_datetime(won["closed_date"])
    won = won[(won["outcome"] == "won") & (closed >= p.start_time) & (closed <= p.end_time)]
    booked_value = model.deal_value(won)
    total = total + booked_value.sum()
    booked_by = {}
    for g in by:
        per_level = booked_by[g] = pd.Series(booked_value).groupby(_group_labels(won, g)).sum()
        for level, value in per_level.items():
            frame = by_group[g]
            frame[level] = (frame[level] if level in frame.columns else 0.0) + value

    p_book = win.mean(axis=0) * closes_inside
    columns = dict.fromkeys(c for g in by for c in g.split("+") if c != "stage")
    out = deals[
        ["opportunity_id", "stage", "amount", "expected_close_date", "days_in_stage", *columns]
    ].copy()
    out["win_probability"] = win.mean(axis=0)
    out["p_book_in_period"] = p_book
    out["expected_value"] = p_book * amounts
    out["category"] = np.select(
        [p_book >= COMMIT_AT, p_book >= BEST_CASE_AT], ["commit", "best case"], "pipeline"
    )
    expected = total.mean()
    return BookingsForecast(
        p,
        snapshot.as_of,
        total,
        by_group,
        out.sort_values("expected_value", ascending=False, ignore_index=True),
        float(new_total.mean() / expected) if expected > 0 else 0.0,
        float(booked_value.sum()),
        booked_by,
    )


def days_of(period: str | pd.Period, as_of: pd.Timestamp) -> tuple[pd.Period, int, int]:
    """The period, and its first day and the day after its last as days after ``as_of`` (the start at least 0:
    a forecast covers what is still to come)."""
    p = parse_period(str(period))
    start = max(0, (p.start_time.normalize() - as_of).days)
    return p, start, (p.end_time.normalize() - as_of).days + 1


def booking_chances(
    model: PipelineModel, as_of: pd.Timestamp, deals: pd.DataFrame, start: int, end: int
) -> tuple[np.ndarray, np.ndarray]:
    """Open deals' posterior draws of P(win) (draws, deals) and each one's P(close from ``start`` to before
    ``end`` days after ``as_of`` | won). Given the parameters the two are independent, so a deal books with
    their product: the latter exact over the stage timing and the closing calendar."""
    win = model.win_probability(deals)
    inside = model.timing_.close_probability(
        as_of, deals["reached"].to_numpy(), deals["days_in_stage"].to_numpy(float), start, max(end, start)
    )
    return win, inside


def expected_new_deals(
    model: PipelineModel, as_of: pd.Timestamp, start: int, end: int, where: dict | None = None
) -> float:
    """The expected value booked in the window by deals not created yet: what :func:`forecast_bookings`
    draws, in closed form (mean arrival rate x days x each cell's share, mean P(win) and mean value x
    P(close inside)); the period shock has mean 1."""
    templates = _keep(model.arrivals_.templates, {k: v for k, v in (where or {}).items() if v is not None})
    if not len(templates) or end <= 0:
        return 0.0
    cell_of, cells = _cells(model, templates)
    value = np.bincount(cell_of, weights=model.deal_value(templates), minlength=len(cells))
    rate = model.arrivals_.mean_rate()
    inside = model.timing_.new_deal_close_probability(as_of, start, end)
    win = model.advance_.win_from_start(cells).mean(axis=0)
    return float(rate * end * inside * (win * value).sum() / len(model.arrivals_.templates))


def _labels(values: pd.Series) -> np.ndarray:
    """Group labels as plain Python strings (pandas' string arrays are slow to categorise row by row)."""
    return values.astype("string").fillna("unknown").to_numpy(dtype=object)


def _group_labels(deals: pd.DataFrame, group: str) -> np.ndarray:
    """Labels of a group column, or of columns joined by ``+`` (``source_channel+region`` gives tuples such as
    ``("webshop", "North")``). Deals not created yet have no stage: theirs is ``"new"``."""
    parts = []
    for column in group.split("+"):
        if column == "stage" and column not in deals.columns:
            parts.append(np.full(len(deals), "new", dtype=object))
        elif column not in deals.columns:  # new-deal templates of a fit saved before owners were kept
            parts.append(np.full(len(deals), "unknown", dtype=object))
        else:
            parts.append(_labels(deals[column]))
    if len(parts) == 1:
        return parts[0]
    out = np.empty(len(deals), dtype=object)
    out[:] = list(zip(*parts, strict=True))
    return out


def _columns(group: str, levels: list) -> pd.Index:
    """Column index of a group's draws: its levels, or for ``a+b`` a MultiIndex named a, b."""
    if "+" not in group:
        return pd.Index(levels)
    names = group.split("+")
    if not levels:
        return pd.MultiIndex.from_arrays([[] for _ in names], names=names)
    return pd.MultiIndex.from_tuples(levels, names=names)


def _keep(deals: pd.DataFrame, where: dict) -> pd.DataFrame:
    for column, value in where.items():
        deals = deals[deals[column].astype("string") == str(value)]
    return deals


def booked_in(
    snapshot: PipelineSnapshot, period: str, measure: str = "amount", where: dict | None = None
) -> float:
    """What was booked (won) in a past period, as far as the snapshot knows (by the deals of ``where`` only)."""
    p = parse_period(period)
    d = _keep(snapshot.deals, {k: v for k, v in (where or {}).items() if v is not None})
    won = d[(d["outcome"] == "won") & (d["closed_date"] >= p.start_time) & (d["closed_date"] <= p.end_time)]
    return float(len(won)) if measure == "deals" else float(won["amount"].fillna(0).sum())


def year_earlier(period: str) -> pd.Period:
    """The same period one year before ``period`` (a quarter, month or year)."""
    p = parse_period(period)
    return p - {"Q": 4, "M": 12}.get(p.freqstr[0], 1)


def same_period_last_year(snapshot: PipelineSnapshot, period: str, measure: str = "amount") -> float:
    """Bookings in the period one year before ``period`` (0 when outside the data); see
    :func:`omnimodel.funnel.measures.default_target` for the target that checks it is comparable."""
    return booked_in(snapshot, str(year_earlier(period)), measure)


def _cells(model: PipelineModel, templates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each template's cell (its combination of factor level codes) and the distinct cells' codes."""
    advance = model.advance_
    if not advance.used_factors:
        return np.zeros(len(templates), dtype=np.int64), np.zeros((1, 0), dtype=np.int64)
    codes = np.stack([advance.level_codes(templates, f) for f in advance.used_factors], axis=1)
    cells, cell_of = np.unique(codes, axis=0, return_inverse=True)
    return cell_of.ravel(), cells
