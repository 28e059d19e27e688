"""Benchmark: the full customer profile on the large demo, three ways, with the same columns.

1. omnimodel: ``omnimodel.profile.features.customer_profile`` (Ibis expressions executed by DuckDB);
2. hand-written DuckDB SQL: one query with a CTE per profile block, on the same file;
3. pandas: the same blocks with merges and group-bys on the tables loaded into memory (load time counted).

All three end with the same per-customer ratios (``derived_columns``, on one row per customer). Each way runs in
its own fresh process, so its peak memory is its own; the script checks that the three agree column by column.
Usage::

    .venv/bin/python benchmarks/customer_profile.py [--size large] [--seed 42] [--keep]

Prints a Markdown section for benchmarks/RESULTS.md; the workspace is built in benchmarks/.data/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_groupby import _peak_memory_mb, benchmark_args, run_children  # noqa: E402

#: columns whose totals must agree between the three ways
CHECKED = [
    "orders",
    "revenue",
    "avg_order_value",
    "discount_share",
    "units",
    "channels_used",
    "channel_switches",
    "hopping_affinity",
    "categories_bought",
    "avg_unit_price_index",
    "brands_bought",
    "top_brand_share",
    "returned_units",
    "complaints",
    "open_complaints",
    "shipments_in_transit",
    "shipments_lost",
    "invoices",
    "open_invoices",
    "late_payments",
    "max_dunning_level",
    "social_posts",
    "events",
    "countries_seen",
    "wishlist_items",
    "orders_per_year",
    "recency_days",
]
PRIOR_MOVES = 4.0  # as in omnimodel.profile.channels.hopping_affinity

SQL = f"""
WITH s AS (
    SELECT l.*, o.customer_id, o.order_date, o.channel,
           l.quantity * l.unit_price * (1 - coalesce(l.discount, 0)) AS revenue
    FROM order_lines l JOIN orders o USING (order_id) WHERE o.customer_id IS NOT NULL),
o AS (SELECT * FROM orders
      WHERE customer_id IS NOT NULL AND order_id IN (SELECT order_id FROM order_lines)),
ord AS (SELECT customer_id, count(*) AS orders, min(order_date) AS first_order, max(order_date) AS last_order
        FROM o GROUP BY customer_id),
lin AS (SELECT customer_id, sum(revenue) AS revenue,
               avg(CASE WHEN coalesce(discount, 0) > 0 THEN 1.0 ELSE 0.0 END) AS discount_share,
               sum(quantity) AS units FROM s GROUP BY customer_id),
ch AS (SELECT customer_id, channel, count(*) AS n FROM o GROUP BY ALL),
pref AS (SELECT customer_id, channel AS preferred_channel FROM ch
         QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, channel) = 1),
ev AS (SELECT customer_id, channel,
              lag(channel) OVER (PARTITION BY customer_id ORDER BY order_date, channel) AS prev
       FROM orders WHERE customer_id IS NOT NULL),
hop0 AS (SELECT customer_id, count(DISTINCT channel) AS channels_used, count(prev) AS moves,
                count(*) FILTER (WHERE prev <> channel) AS switches FROM ev GROUP BY customer_id),
base AS (SELECT sum(switches)::DOUBLE / greatest(sum(moves), 1) AS b FROM hop0),
hop AS (SELECT customer_id, channels_used, switches AS channel_switches,
               (switches + {PRIOR_MOVES} * b) / (moves + {PRIOR_MOVES}) AS hopping_affinity FROM hop0, base),
sp0 AS (SELECT s.customer_id, s.unit_price, p.category, p.brand FROM s JOIN products p USING (product_id)),
sp AS (SELECT * FROM sp0 JOIN (SELECT category, avg(unit_price) AS cat_price FROM sp0 GROUP BY category)
       USING (category)),
cat AS (SELECT customer_id, count(DISTINCT category) AS categories_bought,
               avg(unit_price / cat_price) AS avg_unit_price_index, count(DISTINCT brand) AS brands_bought
        FROM sp GROUP BY customer_id),
br0 AS (SELECT customer_id, brand, count(*) AS n FROM sp GROUP BY ALL),
br AS (SELECT customer_id, max(n) / sum(n) AS top_brand_share FROM br0 GROUP BY customer_id),
ret AS (SELECT o.customer_id, sum(r.quantity) AS returned_units
        FROM returns r JOIN orders o USING (order_id) GROUP BY o.customer_id),
com AS (SELECT customer_id, count(*) AS complaints,
               count(*) FILTER (WHERE NOT coalesce(resolved, false)) AS open_complaints
        FROM complaints GROUP BY customer_id),
shp AS (SELECT o.customer_id, count(*) FILTER (WHERE status = 'in_transit') AS shipments_in_transit,
               count(*) FILTER (WHERE status = 'lost') AS shipments_lost
        FROM shipments JOIN orders o USING (order_id) GROUP BY o.customer_id),
inv AS (SELECT customer_id, count(*) AS invoices, count(*) FILTER (WHERE paid_date IS NULL) AS open_invoices,
               count(*) FILTER (WHERE (paid_date IS NULL AND due_date < (SELECT max(invoice_date) FROM invoices))
                                OR paid_date > due_date) AS late_payments
        FROM invoices GROUP BY customer_id),
dun AS (SELECT customer_id, max(level) AS max_dunning_level FROM dunning_notices GROUP BY customer_id),
tp AS (SELECT customer_id, count(*) FILTER (WHERE kind = 'social_post') AS social_posts,
              count(*) FILTER (WHERE kind = 'event') AS events,
              count(*) FILTER (WHERE kind = 'newsletter_click') AS newsletter_clicks,
              count(DISTINCT country) AS countries_seen
       FROM touchpoints GROUP BY customer_id),
wl AS (SELECT customer_id, count(*) AS wishlist_items FROM wishlist GROUP BY customer_id)
SELECT * FROM customers
    LEFT JOIN ord USING (customer_id) LEFT JOIN lin USING (customer_id) LEFT JOIN pref USING (customer_id)
    LEFT JOIN hop USING (customer_id) LEFT JOIN cat USING (customer_id) LEFT JOIN br USING (customer_id)
    LEFT JOIN ret USING (customer_id) LEFT JOIN com USING (customer_id) LEFT JOIN shp USING (customer_id)
    LEFT JOIN inv USING (customer_id) LEFT JOIN dun USING (customer_id) LEFT JOIN tp USING (customer_id)
    LEFT JOIN wl USING (customer_id)
"""


def run_engine(path: str):
    from omnimodel import Workspace
    from omnimodel.profile.features import customer_profile

    with Workspace(path) as ws:
        return customer_profile(ws).frame


def run_sql(path: str):
    import duckdb

    from omnimodel.profile.features import derived_columns

    con = duckdb.connect(path, read_only=True)
    return derived_columns(con.sql(SQL).df())


def load_tables(path: str) -> dict:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    names = [
        "customers",
        "orders",
        "order_lines",
        "products",
        "returns",
        "complaints",
        "shipments",
        "invoices",
        "dunning_notices",
        "touchpoints",
        "wishlist",
    ]
    return {n: con.table(n).df() for n in names}


def pandas_profile(t: dict):
    """The profile in plain pandas, block by block as in customer_profile."""

    from omnimodel.profile.features import derived_columns

    orders = t["orders"][t["orders"]["customer_id"].notna()]
    s = t["order_lines"].merge(orders[["order_id", "customer_id", "order_date", "channel"]], on="order_id")
    s["revenue"] = s["quantity"] * s["unit_price"] * (1 - s["discount"].fillna(0))
    blocks = []
    o = orders[orders["order_id"].isin(t["order_lines"]["order_id"])]
    blocks.append(
        o.groupby("customer_id").agg(
            orders=("order_id", "size"), first_order=("order_date", "min"), last_order=("order_date", "max")
        )
    )
    s["disc"] = (s["discount"].fillna(0) > 0).astype(float)
    blocks.append(
        s.groupby("customer_id").agg(
            revenue=("revenue", "sum"), discount_share=("disc", "mean"), units=("quantity", "sum")
        )
    )
    ch = o.groupby(["customer_id", "channel"], as_index=False).size()
    ch = ch.sort_values(["customer_id", "size", "channel"], ascending=[True, False, True])
    blocks.append(
        ch.drop_duplicates("customer_id")
        .set_index("customer_id")[["channel"]]
        .rename(columns={"channel": "preferred_channel"})
    )
    ev = orders.sort_values(["customer_id", "order_date", "channel"])[["customer_id", "channel"]]
    prev = ev.groupby("customer_id")["channel"].shift()
    ev = ev.assign(
        moved=prev.notna().astype(int), switched=(prev.notna() & (prev != ev["channel"])).astype(int)
    )
    hop = ev.groupby("customer_id").agg(
        channels_used=("channel", "nunique"), moves=("moved", "sum"), channel_switches=("switched", "sum")
    )
    b = hop["channel_switches"].sum() / max(hop["moves"].sum(), 1)
    hop["hopping_affinity"] = (hop["channel_switches"] + PRIOR_MOVES * b) / (hop["moves"] + PRIOR_MOVES)
    blocks.append(hop.drop(columns="moves"))
    sp = s[["customer_id", "product_id", "unit_price"]].merge(
        t["products"][["product_id", "category", "brand"]], on="product_id"
    )
    cat_price = sp.groupby("category")["unit_price"].mean().rename("cat_price")
    sp = sp.join(cat_price, on="category")
    sp["index"] = sp["unit_price"] / sp["cat_price"]
    blocks.append(
        sp.groupby("customer_id").agg(
            categories_bought=("category", "nunique"),
            avg_unit_price_index=("index", "mean"),
            brands_bought=("brand", "nunique"),
        )
    )
    br = sp.groupby(["customer_id", "brand"]).size().groupby("customer_id")
    blocks.append((br.max() / br.sum()).rename("top_brand_share").to_frame())
    o = t["orders"][["order_id", "customer_id"]]
    r = t["returns"].merge(o, on="order_id")
    blocks.append(r.groupby("customer_id")["quantity"].sum().rename("returned_units").to_frame())
    c = t["complaints"].assign(open=~t["complaints"]["resolved"].fillna(False).astype(bool))
    blocks.append(c.groupby("customer_id").agg(complaints=("open", "size"), open_complaints=("open", "sum")))
    sh = t["shipments"].merge(o, on="order_id")
    sh = sh.assign(in_transit=sh["status"] == "in_transit", lost=sh["status"] == "lost")
    blocks.append(
        sh.groupby("customer_id").agg(
            shipments_in_transit=("in_transit", "sum"), shipments_lost=("lost", "sum")
        )
    )
    inv = t["invoices"]
    late = (inv["paid_date"].isna() & (inv["due_date"] < inv["invoice_date"].max())) | (
        inv["paid_date"] > inv["due_date"]
    )
    inv = inv.assign(late=late, open=inv["paid_date"].isna())
    blocks.append(
        inv.groupby("customer_id").agg(
            invoices=("late", "size"), open_invoices=("open", "sum"), late_payments=("late", "sum")
        )
    )
    blocks.append(
        t["dunning_notices"].groupby("customer_id")["level"].max().rename("max_dunning_level").to_frame()
    )
    tp = t["touchpoints"]
    tp = tp.assign(
        social=tp["kind"] == "social_post",
        event=tp["kind"] == "event",
        click=tp["kind"] == "newsletter_click",
    )
    blocks.append(
        tp.groupby("customer_id").agg(
            social_posts=("social", "sum"),
            events=("event", "sum"),
            newsletter_clicks=("click", "sum"),
            countries_seen=("country", "nunique"),
        )
    )
    blocks.append(t["wishlist"].groupby("customer_id").size().rename("wishlist_items").to_frame())
    frame = t["customers"].set_index("customer_id").join(blocks, how="left").reset_index()
    return derived_columns(frame)


def _child(way: str, path: str) -> None:
    import duckdb  # noqa: F401  (imports are not part of the timing)
    import pandas  # noqa: F401

    import omnimodel.profile.features  # noqa: F401

    out = {}
    start, cpu = time.perf_counter(), time.process_time()
    if way == "pandas":
        tables = load_tables(path)
        out["load"] = time.perf_counter() - start
        frame = pandas_profile(tables)
    else:
        frame = {"engine": run_engine, "sql": run_sql}[way](path)
    out["seconds"] = time.perf_counter() - start
    out["cpu"] = time.process_time() - cpu  # every thread of the process (DuckDB runs two)
    out["rows"] = len(frame)
    out["checks"] = {c: float(frame[c].astype(float).sum()) for c in CHECKED}
    out["peak_rss_mb"] = _peak_memory_mb()
    print(json.dumps(out))


def compare(results: dict) -> list[str]:
    """Columns whose totals differ between the ways (relative tolerance 1e-6)."""
    bad = []
    for c in CHECKED:
        vals = [results[w]["checks"][c] for w in results]
        if max(vals) - min(vals) > 1e-6 * max(1.0, max(abs(v) for v in vals)):
            bad.append(f"{c}: {vals}")
    return bad


def main() -> None:
    args = benchmark_args(__doc__)
    if args.child:
        _child(*args.child)
        return
    from omnimodel.data import demo

    path = HERE / ".data" / f"demo-{args.size}-{args.seed}.duckdb"
    if not (args.keep and path.exists()):
        demo.build(path, size=args.size, seed=args.seed)
    results = run_children(__file__, ("engine", "sql", "pandas"), path)
    bad = compare(results)
    if bad:
        sys.exit("The three profiles disagree:\n" + "\n".join(bad))
    e, s, p = (results[w]["seconds"] for w in ("engine", "sql", "pandas"))
    load = results["pandas"]["load"]
    print(
        f"\n## Full customer profile: {args.size} demo ({results['engine']['rows']:,} customers), "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores\n"
    )
    print("| way | wall s | CPU s | peak memory MB | vs omnimodel (wall) | vs omnimodel (CPU) |")
    print("|---|---|---|---|---|---|")
    ce = results["engine"]["cpu"]
    for name, w, secs in (
        ("omnimodel (Ibis on DuckDB)", "engine", e),
        ("hand-written DuckDB SQL", "sql", s),
        (f"pandas (incl. {load:.1f} s loading the tables)", "pandas", p),
    ):
        c = results[w]["cpu"]
        print(
            f"| {name} | {secs:.2f} | {c:.2f} | {results[w]['peak_rss_mb']:,.0f} | {secs / e:.2f}x | {c / ce:.2f}x |"
        )
    print(
        f"\nAll {len(CHECKED)} checked columns agree between the three ways (column totals, rel. tol. 1e-6)."
    )


if __name__ == "__main__":
    main()
