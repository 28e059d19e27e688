"""Notebook 02's sections, one call each: what the customer review (:class:`~omnimodel.app.customers.CustomerReview`)
shows of segments, lifetime value, countries and the assortment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnimodel import charts
from omnimodel.app.profile_sections import CLV_METHOD
from omnimodel.app.show import Markdown, Shown
from omnimodel.reporting.evidence import value_word

if TYPE_CHECKING:
    from omnimodel.app.customers import CustomerReview


def deals_by_segment(review: CustomerReview) -> Shown:
    """A CRM without orders: the accounts' deals by segment, region and country (nothing where there are orders:
    the sections below measure them)."""
    from omnimodel.strategy.deals import deals_by_account_level

    if review.has_orders:
        return Shown()
    parts: list = []
    for level, frame in deals_by_account_level(review.workspace).items():
        parts += [Markdown(f"### Deals by the accounts' {level}"), frame.round({"win_rate": 3})]
    if parts:
        parts.insert(0, "No orders in this workspace: the segments and regions below are those of the CRM's "
                     "accounts, measured on their deals (the win rate is of the closed deals).")  # fmt: skip
    return Shown(*parts)


def require_orders(review: CustomerReview) -> None:
    """Without orders the report ends here and says so in one line: every section below is measured on them."""
    from omnimodel.profile.features import require_orders

    require_orders(review.workspace, "segments, regions, lifetime value and the assortment are measured on")


def revenue_by_country(review: CustomerReview) -> Shown:
    """Net revenue by country between the dates given (of the region shown)."""
    from omnimodel.data import overview

    ws = review.workspace
    by_country = overview.sales_by_month(
        ws, by="country", start=review.period_start, end=review.period_end, region=review.region
    )
    return Shown(charts.bars(by_country, "country", "revenue", "Net revenue by country", "revenue"))


def rfm(review: CustomerReview) -> Shown:
    """Customers by RFM label and value tier."""
    from omnimodel.strategy import segments

    scores = segments.rfm(review.profile.frame)
    table = scores.groupby(["rfm_label", "value_tier"]).size().unstack(fill_value=0)
    return Shown(table.rename(columns={"none": "no orders"}))  # the tier of customers who bought nothing


def behaviour_clusters(review: CustomerReview, k: int = 4) -> Shown:
    """Behaviour clusters of the customers, described by their averages."""
    from omnimodel.strategy import segments

    _, summary = segments.behaviour_segments(review.profile.frame, k=k, seed=review.seed)
    return Shown(summary.round(2))


def channel_shares(review: CustomerReview) -> Shown:
    """Each channel's share of a segment's revenue."""
    matrix = review.matrix
    wide = matrix.pivot_table(
        index="segment", columns="channel", values="revenue", aggfunc="sum", fill_value=0
    )
    shares = wide.div(wide.sum(axis=1), axis=0)
    return Shown(charts.heatmap(shares, "Revenue share of each channel within a segment"))


def segment_matrix(review: CustomerReview, n: int = 20) -> Shown:
    """The segment x region x channel x category matrix (of the segment shown), largest first."""
    matrix = review.matrix
    shown = matrix if review.segment is None else matrix[matrix["segment"] == review.segment]
    return Shown(shown.head(n).round(3))


def clv_diagnostics(review: CustomerReview) -> Shown:
    """Where the lifetime-value fit comes from, and its convergence card."""
    assert review.clv is not None
    return Shown(review.clv.as_text(), CLV_METHOD, review.clv.model.diagnostics_)


def holdout(review: CustomerReview) -> Shown:
    """Predicted against actual holdout purchases per customer, by past repeat purchases."""
    check = review.holdout_check
    long = check.by_frequency.melt(id_vars=["x", "customers"], var_name="series", value_name="purchases")
    title = (
        f"Holdout purchases per customer by past repeat purchases (total error {check.relative_error:+.0%})"
    )
    chart = charts.lines_by_group(long, "x", "purchases", "series", title, "purchases per customer")
    return Shown(Markdown(check.coverage_note()), chart)


def value_by_segment(review: CustomerReview) -> Shown:
    """What the value counts, and today's customers' expected profit over the next 12 months by segment."""
    from omnimodel.profile.clv import tables as clv_tables

    assert review.clv is not None and review.values is not None
    title = f"Expected {value_word(review.has_costs)} from today's customers, next 12 months"
    basis = Markdown(clv_tables.value_basis(review.clv.current))
    return Shown(basis, charts.bars(review.values, "segment", "value", title, "value"))


def value_spread(review: CustomerReview) -> Shown:
    """The median and the middle 80 % of customers per segment, leaving out columns without spread (they say
    nothing) with a line each."""
    from omnimodel.profile.clv import tables as clv_tables

    assert review.values is not None
    shown, flat = clv_tables.informative(
        review.values, ["p_alive", "expected_purchases", "return_share", "value"]
    )
    return Shown(*flat, clv_tables.spread_by_group(review.values, shown))


def value_distribution(review: CustomerReview) -> Shown:
    """The distribution of expected 12-month profit per customer, by segment."""
    assert review.values is not None
    title = f"Distribution of expected 12-month {value_word(review.has_costs)} per customer"
    return Shown(charts.distribution(review.values, "value", "segment", title, "value (log scale)"))


def loss_makers(review: CustomerReview) -> Shown:
    """The customers expected to cost money, and how much."""
    from omnimodel.profile.clv import tables as clv_tables

    assert review.values is not None
    losers = clv_tables.loss_makers(review.values)
    said = "No customer is expected to cost money."
    if losers.attrs["customers"]:
        said = (
            f"{losers.attrs['customers']:,} customers are expected to cost money ({losers.attrs['sure']:,} surely), "
            f"{losers.attrs['total']:,.0f} {review.currency or ''} in total."
        )
    return Shown(said, losers)


def country_ranking(review: CustomerReview, n: int = 25) -> Shown:
    """The countries' attractiveness: the weights, what was left out, the scores with their intervals and why."""
    import pandas as pd

    from omnimodel.strategy import countries

    pd.set_option("display.max_colwidth", None)  # the reasons are sentences
    ranking = review.ranking
    weights = ", ".join(f"{countries.CRITERIA[k][0]} {v:.0%}" for k, v in ranking.attrs["weights"].items())
    chart = charts.ranking(
        ranking.head(n),
        "country_name",
        "score",
        "score_p05",
        "score_p95",
        "Country attractiveness (score with 90 % interval)",
        "score",
    )
    columns = [
        "rank",
        "country_name",
        "region",
        "customers",
        "score",
        "rank_p05",
        "rank_p95",
        "p_top3",
        "reasons",
    ]
    left_out = "; ".join(
        f"{countries.CRITERIA[k][0]} ({why})" for k, why in ranking.attrs["left_out"].items()
    )
    return Shown(
        f"Weights: {weights}",
        f"Left out: {left_out or 'nothing'}",
        chart,
        ranking[columns].head(n).round(2),
    )


def new_countries(review: CustomerReview) -> Shown:
    """New-country candidates, ranked by market alone."""
    return Shown(review.candidates)


def addressing(review: CustomerReview) -> Shown:
    """How to address each segment (of the segment shown)."""
    table = review.addressing
    return Shown(table if review.segment is None else table[table["segment"] == review.segment])


def assortment_depth(review: CustomerReview) -> Shown:
    """The share of each category's products each channel sells."""
    from omnimodel.strategy import assortment

    depth = assortment.breadth_and_depth(review.workspace, by="channel")
    share = depth.pivot_table(index="channel", columns="category", values="depth_share")
    return Shown(charts.heatmap(share, "Share of the category's products sold, by channel"))


def online_offline(review: CustomerReview) -> Shown:
    """The assortment online against offline."""
    from omnimodel.strategy import assortment

    return Shown(assortment.online_offline(review.workspace))
