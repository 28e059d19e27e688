"""Notebook 01's sections, one call each: what the customer review (:class:`~omnimodel.app.customers.CustomerReview`)
shows of the customer profile, with the one line a section says when its data is missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from omnimodel import charts
from omnimodel.app.show import Markdown, Shown

if TYPE_CHECKING:
    from omnimodel.app.customers import CustomerReview

#: the lifetime-value model's method, for the appendix (the body speaks of customers and value)
CLV_METHOD = (
    "Method: purchases and drop-out by the MBG/NBD model, order value by Gamma-Gamma, returns by a Beta-Binomial "
    "mixture, one parameter set per segment; a Laplace fit checked by importance weights (NUTS where the check "
    "fails)."
)


def data_used(review: CustomerReview) -> Shown:
    """The workspace's inventory: tables, rows, columns, dates and what each serves."""
    from omnimodel.data import overview

    return Shown(overview.workspace_summary(review.workspace))


def coverage(review: CustomerReview) -> Shown:
    """Which checklist items the data answers."""
    return Shown(review.profile.checklist())


def tables_lacking(review: CustomerReview) -> Shown:
    """The tables the profile reads that the workspace lacks."""
    skipped = review.profile.skipped
    if skipped:
        return Shown("Tables the workspace lacks: " + ", ".join(skipped))
    return Shown("Every table the profile reads is present.")


def top_customers(review: CustomerReview, show_personal_data: bool = False, n: int = 10) -> Shown:
    """The customers with the most revenue (personal data only when allowed)."""
    return Shown(review.profile.top(n, allow_personal=show_personal_data))


def customer_card(review: CustomerReview, show_personal_data: bool = False) -> Shown:
    """One customer's card: what the company knows beside what the customer sees, with their value."""
    from omnimodel.profile.card import card_customer, customer_card

    ws, frame = review.workspace, review.profile.frame
    customer = review.customer_id or card_customer(frame, ws)
    return Shown(customer_card(ws, customer, frame, review.values, allow_personal=show_personal_data))


def accounts(review: CustomerReview, n: int = 15) -> Shown:
    """The accounts with their deals and activities (where the CRM links deals to customers)."""
    from omnimodel.profile.accounts import accounts_with_deals

    frame = accounts_with_deals(review.workspace, n)
    if frame is None:
        return Shown()
    total = review.workspace.table("opportunities").account_id.nunique().execute()
    return Shown(
        Markdown("### Accounts and their deals"),
        f"The {min(n, len(frame))} accounts with the most won value, of {total:,} with deals.",
        frame,
    )


def clv_diagnostics(review: CustomerReview) -> Shown:
    """Where the lifetime-value fit comes from, and its convergence card."""
    if review.clv is None:
        return Shown("No lifetime-value model: the workspace has no orders.")
    return Shown(review.clv.as_text(), CLV_METHOD, review.clv.model.diagnostics_)


def require_orders(review: CustomerReview) -> None:
    """Without orders the report ends here and says so in one line."""
    from omnimodel.profile.features import require_orders

    require_orders(review.workspace)


def channel_mix(review: CustomerReview) -> Shown:
    """Orders by segment and channel."""
    from omnimodel.profile import channels

    mix = channels.channel_mix(review.workspace, by="segment")
    shown = mix if review.segment is None else mix[mix["segment"] == review.segment]
    return Shown(
        charts.bars(shown, "segment", "orders", "Orders by segment and channel", "orders", stack="channel")
    )


def purchase_moves(review: CustomerReview) -> Shown:
    """The next purchase's channel after each channel (a one-channel shop has no moves: one line)."""
    from omnimodel.profile import channels

    moves = channels.transitions_to_show(review.workspace)
    if isinstance(moves, pd.DataFrame):
        title = "Next purchase channel after each channel"
        return Shown(charts.heatmap(moves, title, xlabel="next channel", ylabel="channel"))
    return Shown(str(moves))


def touchpoint_moves(review: CustomerReview) -> Shown:
    """The next touchpoint's channel after each channel, where the workspace has touchpoints."""
    from omnimodel.profile import channels

    if not review.workspace.has("touchpoints"):
        return Shown("No touchpoints in this workspace: skipped.")
    moves = channels.transitions_to_show(review.workspace, source="touchpoints")
    if isinstance(moves, pd.DataFrame):
        title = "Next touchpoint channel after each channel"
        return Shown(charts.heatmap(moves, title, xlabel="next channel", ylabel="channel"))
    return Shown(moves)


def hopping_by_segment(review: CustomerReview) -> Shown:
    """Each segment's channel hopping, channels used, orders a year, discount share and return rate."""
    frame = review.profile.frame
    columns = ["hopping_affinity", "channels_used", "orders_per_year", "discount_share", "return_rate"]
    return Shown(
        frame.groupby("segment")[[c for c in columns if c in frame]].mean().round(3)
    )  # returns: optional


def cross_sell(review: CustomerReview) -> Shown:
    """Cross-sell recommendations per segment (of the segment shown), from what sells together."""
    from omnimodel.profile import baskets

    rules = review.segment_rules
    rules = rules if review.segment is None else rules[rules["segment"] == review.segment]
    return Shown(baskets.cross_sell_recommendations(rules, by="segment").round(3))


def basket_rules(review: CustomerReview, n: int = 12) -> Shown:
    """The strongest association rules over every basket."""
    return Shown(review.rules.head(n).round(3))


def revenue_by_channel(review: CustomerReview) -> Shown:
    """Net revenue by channel and month over the window, complete months only (no partial month as a dip)."""
    from omnimodel.data import overview

    start, end = review.revenue_window
    sales = overview.sales_by_month(review.workspace, by="channel", start=start, end=end, complete_only=True)
    title = f"Net revenue by channel and month, {start} to {end}"
    return Shown(charts.interactive.lines_by_group(sales, "month", "revenue", "channel", title, "revenue"))
