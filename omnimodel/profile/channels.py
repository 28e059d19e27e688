"""Media use: channel mix, how customers move between channels, and each customer's affinity to channel hopping.

All counting happens in the engine (window functions over orders or touchpoints); pandas only sees the small
results (a channel x channel matrix, one row per customer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pandas as pd

from omnimodel.data.queries import customer_columns
from omnimodel.data.schema import CHANNELS
from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ParameterError

if TYPE_CHECKING:
    from omnimodel.notice import Skipped

SOURCES = {"orders": ("orders", "order_date"), "touchpoints": ("touchpoints", "touched_at")}


def _events(ws: Workspace, source: str, by: str | None):
    if source not in SOURCES:
        raise ParameterError(
            f"source {source!r} is not one of {', '.join(SOURCES)}", fix="use orders or touchpoints"
        )
    table, when = SOURCES[source]
    t = ws.table(table).filter(lambda t: t.customer_id.notnull())
    cols = ["customer_id", "channel", when]
    if by:
        customers = ws.table("customers").select("customer_id", by)
        t = t.join(customers, "customer_id")
        cols.append(by)
    t = t.select(*cols)
    w = ibis.window(group_by="customer_id", order_by=[t[when], t.channel])
    return t.mutate(previous=t.channel.lag().over(w))


def transition_counts(ws: Workspace, source: str = "orders", by: str | None = None) -> pd.DataFrame:
    """How often a customer's next purchase (or touchpoint) came through each channel after each channel.

    Returns one row per (from, to[, by]) with ``moves``.
    """
    t = _events(ws, source, by)
    t = t.filter(t.previous.notnull())
    keys = ["previous", "channel"] + ([by] if by else [])
    out = (
        t.group_by(keys).aggregate(moves=t.count()).order_by(keys).execute()
    )  # the same order on every engine
    return out.rename(columns={"previous": "from_channel", "channel": "to_channel"})


def channel_transition_matrix(
    ws: Workspace, source: str = "orders", by: str | None = None, value: Any = None
) -> pd.DataFrame:
    """Row-normalised matrix: P(next channel = column | this channel = row).

    With ``by`` (e.g. ``"is_business"``) and ``value``, only customers with that value are counted.

    Examples
    --------
    >>> channel_transition_matrix(Workspace("data/demo.duckdb")).round(2)  # doctest: +SKIP
    """
    counts = transition_counts(ws, source, by)
    if by is not None and value is not None:
        counts = counts[counts[by] == value]
    m = counts.pivot_table(
        index="from_channel", columns="to_channel", values="moves", aggfunc="sum", fill_value=0
    )
    seen = set(m.index) | set(m.columns)
    order = [c for c in CHANNELS if c in seen] + sorted(
        seen - set(CHANNELS)
    )  # the demo's order, then any others
    m = m.reindex(index=order, columns=order, fill_value=0)
    return m.div(m.sum(axis=1).replace(0, np.nan), axis=0)


def transitions_to_show(ws: Workspace, source: str = "orders") -> pd.DataFrame | Skipped:
    """The channel transition matrix, or a :class:`~omnimodel.notice.Skipped` line when it cannot tell
    anything: fewer than two channels (every move stays in the one channel) or no repeat activity."""
    from omnimodel.notice import Skipped

    what = "purchase" if source == "orders" else "touchpoint"
    m = channel_transition_matrix(ws, source)
    if len(m) < 2:
        return Skipped(
            f"next {what} channel",
            f"the data has {len(m)} channel{'s' if len(m) != 1 else ''} with repeat activity, so there is no "
            "move between channels to show",
        )
    return m


def channel_mix(ws: Workspace, by: str | None = None) -> pd.DataFrame:
    """Share of orders and revenue per channel (optionally within each value of a customers column)."""
    from omnimodel.data.queries import sales_lines

    t = sales_lines(ws)
    if by:
        t = t.join(customer_columns(ws, by), "customer_id")
    keys = ([by] if by else []) + ["channel"]
    out = t.group_by(keys).aggregate(orders=t.order_id.nunique(), revenue=t.revenue.sum()).execute()
    group = out.groupby(by) if by else out.assign(_all=1).groupby("_all")
    out["order_share"] = out["orders"] / group["orders"].transform("sum")
    out["revenue_share"] = out["revenue"] / group["revenue"].transform("sum")
    return out.sort_values(keys, ignore_index=True)


def hopping_affinity(ws: Workspace, source: str = "orders", prior_moves: float = 4.0) -> ibis.Table:
    """Per customer: channels used, moves, channel switches and a hopping affinity score in [0, 1].

    The score is the share of moves that switched channel, shrunk towards the population's share with
    ``prior_moves`` pseudo-moves, so a customer with two orders is not called a hopper on one switch.
    """
    t = _events(ws, source, None)
    t = t.mutate(
        moved=t.previous.notnull().cast("int64"),
        switched=(t.previous.notnull() & (t.previous != t.channel)).cast("int64"),
    )
    per = t.group_by("customer_id").aggregate(
        channels_used=t.channel.nunique(), moves=t.moved.sum(), switches=t.switched.sum()
    )
    totals = per.aggregate(s=per.switches.sum(), m=per.moves.sum())
    joined = per.cross_join(totals)
    base = joined.s.cast("float64") / ibis.greatest(joined.m, 1)
    score = (joined.switches + prior_moves * base) / (joined.moves + prior_moves)
    return joined.select("customer_id", "channels_used", "moves", "switches", hopping_affinity=score)
