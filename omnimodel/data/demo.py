"""The demo company: a seeded omnichannel seller with planted, known truth.

*Nordwind Supply* sells consumer and business goods in eight countries of three regions through six channels.
Every behaviour is drawn from parameters that are saved beside the data (:func:`generate` returns them as
``truth``), so model tests can check that the analyses recover them:

- purchases and churn follow BG/NBD per segment (``truth["purchase"]``: r, alpha per year, a, b);
- the channel of each order follows a Markov chain from the previous order's channel
  (``truth["channel_transitions"]``, one matrix for consumers and one for business accounts);
- baskets have a primary category plus cross-sold categories (``truth["cross_sell"]``);
- order timing has a monthly seasonal profile and customer acquisition grows by a yearly rate
  (``truth["seasonality"]``, ``truth["trend"]``);
- B2B opportunities move through stages with logit-linear advance probabilities by segment, region,
  source channel and product, plus one segment x channel interaction (``truth["funnel"]``), with exponential
  stage durations;
- serial returners and the pipeline's sales activities (``truth["serial_returners"]``, ``truth["activities"]``,
  see :mod:`omnimodel.data.demo_planted`).

Everything is vectorised numpy: the ``large`` size (over 10 million order lines) builds in a few minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from omnimodel.data import demo_planted as planted
from omnimodel.data.schema import CHANNELS
from omnimodel.exceptions import ConfigError

START = pd.Timestamp("2023-01-01")
END = pd.Timestamp("2025-12-31")  # the as-of date: the open pipeline and forecasts start after it
YEAR_DAYS = 365.25

REGIONS = {"Central": ["DE", "AT", "CH"], "West": ["FR", "NL", "BE"], "North": ["SE", "DK"]}
COUNTRY_WEIGHTS = {
    "DE": 0.30,
    "AT": 0.07,
    "CH": 0.08,
    "FR": 0.17,
    "NL": 0.11,
    "BE": 0.06,
    "SE": 0.12,
    "DK": 0.09,
}
SEGMENTS = ["digital_natives", "families", "premium", "business"]
SEGMENT_SHARES = [0.36, 0.30, 0.20, 0.14]
CATEGORIES = ["apparel", "shoes", "accessories", "home", "electronics", "beauty", "sports", "office"]
OPP_SEGMENTS = ["enterprise", "mid_market", "small_business", "public_sector"]
#: what kind each of the demo's channels is (its channels table)
CHANNEL_KIND = {
    "webshop": "online",
    "app": "online",
    "marketplace": "online",
    "stores": "offline",
    "call_centre": "assisted",
    "field_sales": "assisted",
}
OPP_CHANNELS = ["field_sales", "call_centre", "webshop"]
OPP_PRODUCTS = ["office", "it_hardware", "workwear", "facility"]
STAGES = ["lead", "qualified", "proposal", "negotiation"]  # then "won"; "lost" from any stage


@dataclass(frozen=True)
class DemoSize:
    """How big a demo company to build: customers, products per category, deals and touchpoints per year."""

    customers: int
    products_per_category: int
    opportunities: int
    touchpoints_per_year: float


SIZES = {
    "small": DemoSize(customers=1_500, products_per_category=12, opportunities=600, touchpoints_per_year=6.0),
    "default": DemoSize(
        customers=20_000, products_per_category=40, opportunities=5_000, touchpoints_per_year=6.0
    ),
    "large": DemoSize(
        customers=1_100_000, products_per_category=250, opportunities=100_000, touchpoints_per_year=3.0
    ),
}

# --- planted truth -------------------------------------------------------------------------------------

PURCHASE = {  # BG/NBD per segment; time unit = years
    "digital_natives": {"r": 1.2, "alpha": 0.25, "a": 1.0, "b": 6.0},
    "families": {"r": 1.5, "alpha": 0.40, "a": 0.8, "b": 6.5},
    "premium": {"r": 1.0, "alpha": 0.40, "a": 0.6, "b": 7.0},
    "business": {"r": 2.0, "alpha": 0.25, "a": 0.5, "b": 8.0},
}
#: rows: from channel, columns: to channel, in CHANNELS order
CONSUMER_TRANSITIONS = [
    [0.60, 0.15, 0.12, 0.10, 0.03, 0.00],
    [0.15, 0.65, 0.08, 0.10, 0.02, 0.00],
    [0.15, 0.07, 0.70, 0.05, 0.03, 0.00],
    [0.20, 0.10, 0.05, 0.63, 0.02, 0.00],
    [0.30, 0.05, 0.25, 0.05, 0.35, 0.00],
    [0.25, 0.25, 0.25, 0.25, 0.00, 0.00],  # unreachable for consumers
]
BUSINESS_TRANSITIONS = [
    [0.55, 0.00, 0.00, 0.00, 0.15, 0.30],
    [0.40, 0.20, 0.00, 0.00, 0.20, 0.20],  # unreachable
    [0.40, 0.00, 0.20, 0.00, 0.20, 0.20],  # unreachable
    [0.40, 0.00, 0.00, 0.20, 0.20, 0.20],  # unreachable
    [0.20, 0.00, 0.00, 0.00, 0.50, 0.30],
    [0.15, 0.00, 0.00, 0.00, 0.15, 0.70],
]
ACQUISITION_CHANNELS = {  # first order's channel, per segment
    "digital_natives": [0.40, 0.35, 0.10, 0.15, 0.00, 0.00],
    "families": [0.35, 0.15, 0.35, 0.12, 0.03, 0.00],
    "premium": [0.35, 0.15, 0.40, 0.05, 0.05, 0.00],
    "business": [0.35, 0.00, 0.00, 0.00, 0.25, 0.40],
}
CATEGORY_PREFERENCE = {  # primary category of a basket, per segment
    "digital_natives": [0.25, 0.15, 0.10, 0.05, 0.25, 0.10, 0.10, 0.00],
    "families": [0.20, 0.15, 0.05, 0.30, 0.05, 0.10, 0.15, 0.00],
    "premium": [0.25, 0.20, 0.20, 0.15, 0.05, 0.15, 0.00, 0.00],
    "business": [0.05, 0.00, 0.00, 0.10, 0.30, 0.00, 0.00, 0.55],
}
BASE_CROSS_SELL = 0.03
PLANTED_CROSS_SELL = {  # P(category j also in basket | primary category i)
    ("shoes", "accessories"): 0.35,
    ("apparel", "accessories"): 0.30,
    ("apparel", "shoes"): 0.20,
    ("electronics", "accessories"): 0.25,
    ("sports", "apparel"): 0.25,
    ("home", "beauty"): 0.15,
    ("office", "electronics"): 0.30,
}
DISCOUNT_SHARE = {"digital_natives": 0.30, "families": 0.35, "premium": 0.10, "business": 0.20}
PRICE_AFFINITY = {"digital_natives": 0.0, "families": -0.6, "premium": 1.0, "business": 0.0}
RETURN_RATE = {
    "apparel": 0.25,
    "shoes": 0.20,
    "accessories": 0.06,
    "home": 0.05,
    "electronics": 0.07,
    "beauty": 0.03,
    "sports": 0.08,
    "office": 0.02,
}
RETURN_CHANNEL_FACTOR = [1.0, 1.0, 0.3, 1.2, 0.8, 0.2]
CONSUMER_SEASON = [0.80, 0.80, 0.95, 0.95, 1.00, 0.95, 0.90, 0.90, 1.00, 1.05, 1.30, 1.50]
BUSINESS_SEASON = [0.85, 0.90, 1.30, 0.85, 0.90, 1.30, 0.70, 0.85, 1.30, 0.90, 0.95, 1.30]
ACQUISITION_GROWTH = 0.15  # new customers per year grow by this share
PRICE_INFLATION = 0.03  # list prices rise by this share per year

FUNNEL: dict[str, Any] = {
    "stages": STAGES,
    "base_advance_logit": [0.2, 0.4, 0.6, 0.85],  # lead->qualified, ..., negotiation->won
    "segment_effect": {"enterprise": -0.3, "mid_market": 0.1, "small_business": 0.35, "public_sector": -0.15},
    "region_effect": {"Central": 0.2, "West": -0.05, "North": -0.15},
    "channel_effect": {"field_sales": 0.3, "call_centre": 0.0, "webshop": -0.3},
    "product_effect": {"office": 0.25, "it_hardware": -0.2, "workwear": 0.05, "facility": -0.1},
    # segment x source channel beyond the two main effects (cells not named: 0), sum-to-zero along both so the
    # main effects above stay the model's: small businesses buy through the webshop, enterprises through field sales
    "segment_channel_interaction": {
        "small_business": {"webshop": 0.35, "field_sales": -0.35},
        "enterprise": {"webshop": -0.35, "field_sales": 0.35},
    },
    "mean_days_in_stage": [12.0, 20.0, 25.0, 15.0],
    "amount_log_mean": {"enterprise": 10.8, "mid_market": 9.6, "small_business": 8.3, "public_sector": 10.1},
    "amount_log_sd": 0.6,
    "opportunities_growth": 0.10,
}


def _interaction(cells: dict, rows: list[str], columns: list[str]) -> np.ndarray:
    """A planted interaction {row: {column: effect}} as a matrix (rows x columns), 0 where not named."""
    return np.array([[cells.get(r, {}).get(c, 0.0) for c in columns] for r in rows])


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """Vectorised categorical draws from one probability vector."""
    p = np.asarray(probs, dtype=float)
    return np.minimum(np.searchsorted(np.cumsum(p / p.sum()), rng.random(size)), len(p) - 1)


def _choice_rows(rng: np.random.Generator, prob_rows: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a probability matrix."""
    cum = np.cumsum(prob_rows / prob_rows.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((len(prob_rows), 1))
    return np.minimum((u > cum).sum(axis=1), prob_rows.shape[1] - 1)


def _seasonal_warp(t_years: np.ndarray, season: list[float]) -> np.ndarray:
    """Map uniform time within each calendar year onto a monthly intensity profile (order kept)."""
    s = np.asarray(season, dtype=float)
    cdf = np.concatenate([[0.0], np.cumsum(s / s.sum())])
    grid = np.linspace(0.0, 1.0, 13)
    whole = np.floor(t_years)
    return whole + np.interp(t_years - whole, cdf, grid)


def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _to_dates(years_since_start: np.ndarray) -> pd.DatetimeIndex:
    return START + pd.to_timedelta(np.round(years_since_start * YEAR_DAYS * 86400), unit="s")


def generate(
    size: str = "small", seed: int = 42, seasonality: bool = True
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Build every canonical table of the demo company and the truth it was drawn from.

    Parameters
    ----------
    size : {"small", "default", "large"}
        ``small`` (about 1,500 customers) builds in seconds for tests; ``large`` has over 10 million order lines.
    seed : int
        Same seed, same data.
    seasonality : bool
        False draws order times without the seasonal profile, so purchases follow BG/NBD exactly (for tests
        of estimators that assume a constant purchase rate).

    Returns
    -------
    tables : dict of DataFrame, keyed by canonical table name
    truth : dict, JSON-serialisable planted parameters

    Examples
    --------
    >>> tables, truth = generate("small", seed=1)
    >>> sorted(truth["purchase"])[:2]
    ['business', 'digital_natives']
    """
    if size not in SIZES:
        raise ConfigError(f"unknown demo size {size!r}", fix=f"use one of {', '.join(SIZES)}")
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    horizon = (END - START).days / YEAR_DAYS  # about 3 years of recorded history

    products = _products(rng, spec)
    customers, cust = _customers(rng, spec, horizon)
    orders, lines, order_idx = _orders(rng, cust, products, horizon, seasonality)
    tables = {"customers": customers, "products": products, "orders": orders, "order_lines": lines}
    tables.update(_after_sales(rng, cust, orders, lines, order_idx, products))
    tables["touchpoints"] = _touchpoints(rng, cust, spec, horizon)
    tables["wishlist"] = _wishlist(rng, cust, products)
    tables["opportunities"], tables["stage_events"] = _opportunities(rng, spec, cust, horizon)
    # Planted on top from their own random streams: every table above stays as it was without them.
    tables["returns"], serial = planted.serial_returners(
        seed, customers, orders, lines, tables["returns"], END
    )
    tables["activities"], activity_truth = planted.activities(
        seed, tables["opportunities"], tables["stage_events"], END
    )
    tables["channels"] = pd.DataFrame(
        {"channel": list(CHANNELS), "kind": [CHANNEL_KIND[c] for c in CHANNELS]}
    )
    tables["sales_team"] = planted.sales_team(tables["opportunities"])
    tables["quotas"] = planted.quotas(tables["opportunities"], END)
    tables["forecast_calls"], calls_truth = planted.forecast_calls(seed, tables["opportunities"], END)
    tables["opportunity_history"], history_truth = planted.opportunity_history(
        seed, tables["opportunities"], END
    )

    truth = {
        "company": "Nordwind Supply (demo)",
        "size": size,
        "seed": seed,
        "start": str(START.date()),
        "as_of": str(END.date()),
        "channels": list(CHANNELS),
        "regions": REGIONS,
        "segments": SEGMENTS,
        "categories": CATEGORIES,
        "purchase": PURCHASE,
        "channel_transitions": {"consumer": CONSUMER_TRANSITIONS, "business": BUSINESS_TRANSITIONS},
        "acquisition_channels": ACQUISITION_CHANNELS,
        "cross_sell": {
            "base": BASE_CROSS_SELL,
            "planted": [{"from": a, "to": b, "probability": p} for (a, b), p in PLANTED_CROSS_SELL.items()],
        },
        "discount_share": DISCOUNT_SHARE,
        "return_rate": RETURN_RATE,
        "seasonality": {"consumer": CONSUMER_SEASON, "business": BUSINESS_SEASON} if seasonality else None,
        "trend": {"acquisition_growth": ACQUISITION_GROWTH, "price_inflation": PRICE_INFLATION},
        "funnel": FUNNEL,
        "serial_returners": serial,
        "activities": activity_truth,
        "forecast_calls": calls_truth,
        "opportunity_history": history_truth,
    }
    return tables, truth


def _products(rng, spec: DemoSize) -> pd.DataFrame:
    k = spec.products_per_category
    n = k * len(CATEGORIES)
    cat = np.repeat(np.arange(len(CATEGORIES)), k)
    base_price = np.array([45, 80, 25, 60, 220, 20, 55, 15], dtype=float)[cat]
    price = np.round(base_price * rng.lognormal(0.0, 0.5, n), 2)
    margin = rng.uniform(0.25, 0.6, n)
    # Channel availability: most products everywhere, some online-only, some store-only.
    kind = _choice(rng, [0.7, 0.2, 0.1], n)  # 0 all, 1 online only, 2 offline only
    channels = np.where(
        kind == 0,
        "webshop|app|stores|marketplace|call_centre|field_sales",
        np.where(kind == 1, "webshop|app|marketplace|call_centre|field_sales", "stores|field_sales"),
    )
    brands = np.array(["Nordwind", "Fjell", "Kestrel", "Ode", "Pen & Paper <Deluxe>", "Alba"])
    names = np.char.add(np.char.add(np.array(CATEGORIES)[cat], " item "), np.arange(1, n + 1).astype(str))
    return pd.DataFrame(
        {
            "product_id": _ids("P", n, 5),
            "name": names,
            "category": np.array(CATEGORIES)[cat],
            "brand": brands[_choice(rng, [0.3, 0.2, 0.2, 0.1, 0.1, 0.1], n)],
            "price": price,
            "cost": np.round(price * (1 - margin), 2),
            "channels": channels,
            "is_b2b": np.array(CATEGORIES)[cat] == "office",
        }
    )


def _customers(rng, spec: DemoSize, horizon: float):
    n = spec.customers
    seg = _choice(rng, SEGMENT_SHARES, n)
    countries = list(COUNTRY_WEIGHTS)
    country = np.array(countries)[_choice(rng, list(COUNTRY_WEIGHTS.values()), n)]
    region_of = {c: r for r, cs in REGIONS.items() for c in cs}
    # Acquisition from two years before the recorded window (an existing base) to its end, growing yearly.
    lo, hi, g = -2.0, horizon, np.log1p(ACQUISITION_GROWTH)
    u = rng.random(n)
    acq = np.log(np.exp(g * lo) + u * (np.exp(g * hi) - np.exp(g * lo))) / g
    seg_names = np.array(SEGMENTS)[seg]
    acq_channel = np.empty(n, dtype=int)
    for s, name in enumerate(SEGMENTS):
        m = seg == s
        acq_channel[m] = _choice(rng, ACQUISITION_CHANNELS[name], m.sum())
    is_business = seg_names == "business"
    first = np.array(["Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas"])
    last = np.array(["Berg", "Dahl", "Eriksen", "Fischer", "Janssen", "Keller", "Laurent", "Meyer", "Novak"])
    fi, la = first[rng.integers(0, len(first), n)], last[rng.integers(0, len(last), n)]
    ids = _ids("C", n, 7)
    person = np.char.add(np.char.add(fi, " "), la)
    company = np.char.add(la, " GmbH")
    names = np.where(is_business, company, person)
    email = np.char.add(np.char.add(np.char.lower(fi), np.char.add(".", np.char.lower(la))), "@example.com")
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 55, n), unit="D")
    street = np.char.add(
        np.char.add(np.char.add("Hauptstrasse ", rng.integers(1, 200, n).astype(str)), ", "), country
    )
    payment = np.array(["card", "paypal", "invoice", "direct_debit"])
    pay = np.where(is_business, "invoice", payment[_choice(rng, [0.4, 0.3, 0.15, 0.15], n)])
    loyalty = ~is_business & (rng.random(n) < 0.45)
    frame = pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "email": email,
            "phone": np.char.add("+49 30 ", rng.integers(1_000_000, 9_999_999, n).astype(str)),
            "birth_date": pd.Series(birth).where(~is_business),
            "gender": pd.Series(np.array(["f", "m", "d"])[_choice(rng, [0.5, 0.48, 0.02], n)]).where(
                ~is_business
            ),
            "delivery_address": street,
            "billing_address": street,
            "postal_code": rng.integers(10_000, 99_999, n).astype(str),
            "city": np.array(["Northtown", "Riverside", "Hillcrest", "Lakeview"])[rng.integers(0, 4, n)],
            "country": country,
            "region": pd.Series(country).map(region_of).to_numpy(),
            "segment": seg_names,
            "is_business": is_business,
            "acquisition_date": _to_dates(acq).normalize(),
            "acquisition_channel": np.array(CHANNELS)[acq_channel],
            "preferred_shipping_method": np.array(["standard", "express", "pickup"])[
                _choice(rng, [0.7, 0.2, 0.1], n)
            ],
            "payment_method": pay,
            "account_balance": np.round(np.where(rng.random(n) < 0.1, rng.normal(0, 80, n), 0.0), 2),
            "newsletter_opt_in": rng.random(n) < 0.55,
            "newsletter_frequency": np.array(["weekly", "monthly", "none"])[_choice(rng, [0.3, 0.4, 0.3], n)],
            "loyalty_member": loyalty,
            "loyalty_points": np.where(loyalty, rng.integers(0, 5000, n), 0),
            "clothing_size": pd.Series(np.array(["XS", "S", "M", "L", "XL"])[rng.integers(0, 5, n)]).where(
                ~is_business & (rng.random(n) < 0.6)
            ),
            "shoe_size": pd.Series(rng.integers(36, 47, n).astype(float)).where(
                ~is_business & (rng.random(n) < 0.5)
            ),
        }
    )
    cust = {
        "seg": seg,
        "acq": acq,
        "acq_channel": acq_channel,
        "country": country,
        "is_business": is_business,
        "ids": ids,
        "late_payer": rng.beta(1.0, 6.0, n),
    }
    return frame, cust


def _orders(rng, cust, products: pd.DataFrame, horizon: float, seasonality: bool = True):
    seg, acq = cust["seg"], cust["acq"]
    n = len(seg)
    params = [PURCHASE[s] for s in SEGMENTS]
    r, alpha, a, b = (np.array([p[k] for p in params])[seg] for k in ("r", "alpha", "a", "b"))
    lam = rng.gamma(r, 1.0 / alpha)
    p_drop = rng.beta(a, b)
    window = horizon - acq
    arrivals = rng.poisson(lam * window)
    repeats_allowed = rng.geometric(p_drop) - 1  # dropout after any purchase, the first included
    repeats = np.minimum(arrivals, repeats_allowed)
    # Purchase times: the first `repeats` order statistics of `arrivals` uniforms on the window, drawn
    # without materialising the rest (S_j / (S_k + Gamma(n + 1 - k))).
    k = repeats
    owner = np.repeat(np.arange(n), k)
    gaps = rng.exponential(1.0, k.sum())
    offsets = np.concatenate([[0], np.cumsum(k)[:-1]])
    csum = np.cumsum(gaps)
    before = np.concatenate([[0.0], csum])[offsets]
    s = csum - np.repeat(before, k)
    total = np.zeros(n)
    has = k > 0
    total[has] = s[np.cumsum(k)[has] - 1]
    denom = total + rng.gamma(np.maximum(arrivals + 1 - k, 1e-9))
    repeat_t = acq[owner] + window[owner] * s / np.repeat(denom, k)
    # The first purchase happens at acquisition.
    cust_of = np.concatenate([np.arange(n), owner])
    t = np.concatenate([acq, repeat_t])
    season = np.where(cust["is_business"], 1, 0)[cust_of]
    if seasonality:
        warped = np.where(
            season == 1,
            _seasonal_warp(t + 2.0, BUSINESS_SEASON) - 2.0,
            _seasonal_warp(t + 2.0, CONSUMER_SEASON) - 2.0,
        )
    else:
        warped = t
    order = np.lexsort((warped, cust_of))
    cust_of, t = cust_of[order], warped[order]
    rank = np.arange(len(t)) - np.repeat(offsets + np.arange(n), k + 1)
    # Channels: Markov chain over each customer's orders, starting from the acquisition channel.
    chan = np.empty(len(t), dtype=int)
    first_pos = np.flatnonzero(rank == 0)
    chan[first_pos] = cust["acq_channel"][cust_of[first_pos]]
    trans = {False: np.array(CONSUMER_TRANSITIONS), True: np.array(BUSINESS_TRANSITIONS)}
    by_rank = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[by_rank], np.arange(rank.max() + 2))
    for j in range(1, rank.max() + 1):
        pos = by_rank[bounds[j] : bounds[j + 1]]
        prev = chan[pos - 1]
        biz = cust["is_business"][cust_of[pos]]
        rows = np.where(biz[:, None], trans[True][prev], trans[False][prev])
        chan[pos] = _choice_rows(rng, rows)
    keep = t >= 0.0  # orders before the recorded window are not in the data
    cust_of, t, chan = cust_of[keep], t[keep], chan[keep]
    m = len(t)
    order_ids = _ids("O", m, 8)
    order_dates = _to_dates(t).floor("min")
    is_b = cust["is_business"][cust_of]
    pay = np.array(["card", "paypal", "invoice", "direct_debit"])
    shipping = np.where(np.isin(chan, [2]), "in_store", np.where(rng.random(m) < 0.2, "express", "standard"))
    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": cust["ids"][cust_of],
            "order_date": order_dates,
            "channel": np.array(CHANNELS)[chan],
            "country": cust["country"][cust_of],
            "payment_method": np.where(is_b, "invoice", pay[_choice(rng, [0.4, 0.3, 0.15, 0.15], m)]),
            "shipping_method": shipping,
        }
    )
    lines = _order_lines(rng, cust["seg"][cust_of], chan, t, is_b, products)
    lines["order_id"] = order_ids[lines.pop("_order").to_numpy()]
    lines = lines[["order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "unit_cost"]]
    idx = {"cust_of": cust_of, "t": t, "chan": chan}
    return orders, lines, idx


def _order_lines(rng, seg, chan, t, is_business, products: pd.DataFrame) -> pd.DataFrame:
    m = len(seg)
    ncat = len(CATEGORIES)
    pref = np.array([CATEGORY_PREFERENCE[s] for s in SEGMENTS])
    primary = _choice_rows(rng, pref[seg])
    cross = np.full((ncat, ncat), BASE_CROSS_SELL)
    for (i, j), p in PLANTED_CROSS_SELL.items():
        cross[CATEGORIES.index(i), CATEGORIES.index(j)] = p
    np.fill_diagonal(cross, 0.0)
    cross[:, CATEGORIES.index("office")] = np.where(np.arange(ncat) == CATEGORIES.index("office"), 0.0, 0.01)
    # Which categories are in each basket: primary always, others by cross-sell probability.
    present = rng.random((m, ncat)) < cross[primary]
    present[np.arange(m), primary] = True
    n_in_cat = present * (1 + (rng.random((m, ncat)) < 0.3))  # sometimes two items of a category
    o_idx, c_idx = np.nonzero(n_in_cat)
    reps = n_in_cat[o_idx, c_idx]
    o_idx, c_idx = np.repeat(o_idx, reps), np.repeat(c_idx, reps)
    n_lines = len(o_idx)
    line_seg, line_chan = seg[o_idx], chan[o_idx]
    # Product within (category, channel offered), tilted towards price tier by segment.
    prod_cat = products["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()
    log_price = np.log(products["price"].to_numpy())
    popularity = 1.0 / np.arange(1, len(products) + 1) ** 0.0 + rng.random(len(products))
    offered = np.array([[ch in s.split("|") for ch in CHANNELS] for s in products["channels"]])
    product = np.full(n_lines, -1)
    for c in range(ncat):
        for ch in range(len(CHANNELS)):
            sel_lines = np.flatnonzero((c_idx == c) & (line_chan == ch))
            if len(sel_lines) == 0:
                continue
            cand = np.flatnonzero((prod_cat == c) & offered[:, ch])
            if len(cand) == 0:  # nothing of this category in this channel: take any of the category
                cand = np.flatnonzero(prod_cat == c)
            for s in range(len(SEGMENTS)):
                ls = sel_lines[line_seg[sel_lines] == s]
                if len(ls) == 0:
                    continue
                w = popularity[cand] * np.exp(
                    PRICE_AFFINITY[SEGMENTS[s]] * (log_price[cand] - log_price[cand].mean())
                )
                product[ls] = cand[_choice(rng, w, len(ls))]
    line_no = np.arange(n_lines) - np.searchsorted(o_idx, o_idx)  # o_idx is sorted
    qty = np.where(is_business[o_idx], 1 + rng.poisson(4.0, n_lines), 1 + rng.poisson(0.2, n_lines))
    disc_share = np.array([DISCOUNT_SHARE[s] for s in SEGMENTS])[line_seg]
    discount = np.where(rng.random(n_lines) < disc_share, rng.choice([0.1, 0.2, 0.3], n_lines), 0.0)
    inflation = (1 + PRICE_INFLATION) ** t[o_idx]
    return pd.DataFrame(
        {
            "_order": o_idx,
            "line_no": line_no + 1,
            "product_id": products["product_id"].to_numpy()[product],
            "quantity": qty,
            "unit_price": np.round(products["price"].to_numpy()[product] * inflation, 2),
            "discount": discount,
            "unit_cost": np.round(products["cost"].to_numpy()[product] * inflation, 2),
        }
    )


def _after_sales(rng, cust, orders, lines, idx, products) -> dict[str, pd.DataFrame]:
    """Returns, complaints, shipments, invoices and dunning notices, consistent with the orders."""
    chan, t = idx["chan"], idx["t"]
    order_pos = pd.Index(orders["order_id"]).get_indexer(lines["order_id"])
    cat = lines["product_id"].map(products.set_index("product_id")["category"]).to_numpy()
    rate = pd.Series(cat).map(RETURN_RATE).to_numpy() * np.array(RETURN_CHANNEL_FACTOR)[chan[order_pos]]
    ret = np.flatnonzero(rng.random(len(lines)) < rate)
    ret_t = t[order_pos[ret]] + rng.uniform(5, 25, len(ret)) / YEAR_DAYS
    ok = ret_t <= (END - START).days / YEAR_DAYS
    ret, ret_t = ret[ok], ret_t[ok]
    returns = pd.DataFrame(
        {
            "return_id": _ids("R", len(ret), 8),
            "order_id": lines["order_id"].to_numpy()[ret],
            "line_no": lines["line_no"].to_numpy()[ret],
            "quantity": lines["quantity"].to_numpy()[ret],
            "return_date": _to_dates(ret_t).normalize(),
            "reason": np.array(["size", "quality", "changed_mind", "damaged"])[
                _choice(rng, [0.4, 0.25, 0.25, 0.1], len(ret))
            ],
        }
    )
    m = len(orders)
    returned_order = np.zeros(m, bool)
    returned_order[order_pos[ret]] = True
    comp = np.flatnonzero(rng.random(m) < np.where(returned_order, 0.08, 0.015))
    complaints = pd.DataFrame(
        {
            "complaint_id": _ids("Q", len(comp), 7),
            "customer_id": orders["customer_id"].to_numpy()[comp],
            "order_id": orders["order_id"].to_numpy()[comp],
            "complaint_date": (
                orders["order_date"].iloc[comp] + pd.to_timedelta(rng.integers(1, 20, len(comp)), unit="D")
            )
            .dt.normalize()
            .clip(upper=END)
            .to_numpy(),
            "channel": np.array(CHANNELS)[np.where(rng.random(len(comp)) < 0.5, 4, chan[comp])],
            "topic": np.array(["delivery", "quality", "billing", "service"])[
                _choice(rng, [0.35, 0.35, 0.15, 0.15], len(comp))
            ],
            "resolved": rng.random(len(comp)) < 0.85,
        }
    )
    shipped = np.flatnonzero(chan != 2)  # store sales are carried home
    ship_date = orders["order_date"].iloc[shipped].dt.normalize() + pd.to_timedelta(
        rng.integers(0, 3, len(shipped)), "D"
    )
    deliver = ship_date + pd.to_timedelta(rng.integers(1, 6, len(shipped)), "D")
    status = np.where(deliver > END, "in_transit", "delivered")
    status = np.where(rng.random(len(shipped)) < 0.004, "lost", status)
    shipments = pd.DataFrame(
        {
            "shipment_id": _ids("S", len(shipped), 8),
            "order_id": orders["order_id"].to_numpy()[shipped],
            "carrier": np.array(["DHL", "PostNord", "DPD", "UPS"])[rng.integers(0, 4, len(shipped))],
            "tracking_number": np.char.add("TRK", rng.integers(10**9, 10**10 - 1, len(shipped)).astype(str)),
            "status": status,
            "shipped_date": ship_date.to_numpy(),
            "delivered_date": pd.Series(deliver.to_numpy()).where(status == "delivered").to_numpy(),
        }
    )
    # Invoices for orders paid by invoice; late payment by a customer-level propensity; dunning when late.
    inv = np.flatnonzero(orders["payment_method"].to_numpy() == "invoice")
    revenue = (lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])).groupby(order_pos).sum()
    amount = revenue.reindex(inv).fillna(0.0).round(2).to_numpy()
    inv_date = orders["order_date"].iloc[inv].dt.normalize()
    is_b = cust["is_business"][idx["cust_of"][inv]]
    due = inv_date + pd.to_timedelta(np.where(is_b, 30, 14), "D")
    late = rng.random(len(inv)) < cust["late_payer"][idx["cust_of"][inv]]
    delay = np.where(late, rng.exponential(25, len(inv)) + 3, -rng.uniform(0, 10, len(inv)))
    paid = due + pd.to_timedelta(np.round(delay), "D")
    paid = paid.where(paid >= inv_date, inv_date)
    inv_ids = _ids("I", len(inv), 8)
    invoices = pd.DataFrame(
        {
            "invoice_id": inv_ids,
            "customer_id": orders["customer_id"].to_numpy()[inv],
            "order_id": orders["order_id"].to_numpy()[inv],
            "invoice_date": inv_date.to_numpy(),
            "due_date": due.to_numpy(),
            "amount": amount,
            "paid_date": pd.Series(paid.to_numpy()).where(paid.to_numpy() <= END).to_numpy(),
        }
    )
    notices = []
    for level, after in ((1, 7), (2, 21), (3, 42)):
        when = due + pd.Timedelta(days=after)
        still_open = (paid.to_numpy() > when.to_numpy()) & (when.to_numpy() <= END)
        sel = np.flatnonzero(still_open)
        notices.append(
            pd.DataFrame(
                {
                    "invoice_id": inv_ids[sel],
                    "customer_id": invoices["customer_id"].to_numpy()[sel],
                    "level": level,
                    "notice_date": when.to_numpy()[sel],
                }
            )
        )
    dunning = pd.concat(notices, ignore_index=True).sort_values(
        ["notice_date", "invoice_id"], ignore_index=True
    )
    dunning.insert(0, "notice_id", _ids("D", len(dunning), 7))
    return {
        "returns": returns,
        "complaints": complaints,
        "shipments": shipments,
        "invoices": invoices,
        "dunning_notices": dunning,
    }


KIND_CHANNEL = {  # touchpoint kind -> channel it happens in
    "visit": "webshop",
    "email": "webshop",
    "app_session": "app",
    "store_visit": "stores",
    "call": "call_centre",
    "social_post": "app",
    "event": "stores",
    "newsletter_click": "webshop",
}
KIND_MIX = {
    "digital_natives": [0.30, 0.10, 0.30, 0.05, 0.02, 0.15, 0.02, 0.06],
    "families": [0.30, 0.15, 0.10, 0.20, 0.05, 0.05, 0.05, 0.10],
    "premium": [0.25, 0.15, 0.10, 0.25, 0.05, 0.05, 0.10, 0.05],
    "business": [0.30, 0.30, 0.00, 0.00, 0.25, 0.00, 0.15, 0.00],
}


def _touchpoints(rng, cust, spec: DemoSize, horizon: float) -> pd.DataFrame:
    n = len(cust["seg"])
    active = np.clip(horizon - np.maximum(cust["acq"], 0.0), 0.0, None)
    count = rng.poisson(spec.touchpoints_per_year * active)
    who = np.repeat(np.arange(n), count)
    start = np.maximum(cust["acq"], 0.0)[who]
    when = start + rng.random(len(who)) * (horizon - start)
    kinds = list(KIND_CHANNEL)
    kind = (
        _choice_rows(rng, np.array([KIND_MIX[s] for s in SEGMENTS])[cust["seg"][who]])
        if len(who)
        else np.zeros(0, int)
    )
    channel = pd.Series(np.array(kinds)[kind]).map(KIND_CHANNEL).to_numpy()
    channel = np.where(cust["is_business"][who] & (np.array(kinds)[kind] == "event"), "field_sales", channel)
    moved = rng.random(len(who)) < 0.05
    countries = np.array(list(COUNTRY_WEIGHTS))
    frame = pd.DataFrame(
        {
            "customer_id": cust["ids"][who],
            "touched_at": _to_dates(when).floor("min"),
            "channel": channel,
            "kind": np.array(kinds)[kind],
            "country": np.where(
                moved, countries[rng.integers(0, len(countries), len(who))], cust["country"][who]
            ),
        }
    )
    return frame.drop_duplicates(["customer_id", "touched_at", "channel", "kind"], ignore_index=True)


def _wishlist(rng, cust, products) -> pd.DataFrame:
    n = len(cust["seg"])
    count = np.where(cust["is_business"], 0, rng.poisson(1.2, n))
    who = np.repeat(np.arange(n), count)
    prod = rng.integers(0, len(products), len(who))
    frame = pd.DataFrame(
        {
            "customer_id": cust["ids"][who],
            "product_id": products["product_id"].to_numpy()[prod],
            "added_at": (END - pd.to_timedelta(rng.integers(0, 365, len(who)), "D")).normalize(),
        }
    )
    return frame.drop_duplicates(["customer_id", "product_id"], ignore_index=True)


def _opportunities(rng, spec: DemoSize, cust, horizon: float):
    n = spec.opportunities
    g = np.log1p(FUNNEL["opportunities_growth"])
    created = np.log1p(rng.random(n) * np.expm1(g * horizon)) / g
    seg = rng.integers(0, len(OPP_SEGMENTS), n)
    country = np.array(list(COUNTRY_WEIGHTS))[_choice(rng, list(COUNTRY_WEIGHTS.values()), n)]
    region_of = {c: r for r, cs in REGIONS.items() for c in cs}
    region = pd.Series(country).map(region_of).to_numpy()
    ch = _choice(rng, [0.45, 0.30, 0.25], n)
    prod = rng.integers(0, len(OPP_PRODUCTS), n)
    effect = (
        np.array([FUNNEL["segment_effect"][s] for s in OPP_SEGMENTS])[seg]
        + pd.Series(region).map(FUNNEL["region_effect"]).to_numpy()
        + np.array([FUNNEL["channel_effect"][c] for c in OPP_CHANNELS])[ch]
        + np.array([FUNNEL["product_effect"][p] for p in OPP_PRODUCTS])[prod]
        + _interaction(FUNNEL["segment_channel_interaction"], OPP_SEGMENTS, OPP_CHANNELS)[seg, ch]
    )
    base = np.array(FUNNEL["base_advance_logit"])
    mean_days = np.array(FUNNEL["mean_days_in_stage"])
    # Walk every opportunity through the stages: advance or lose at the end of each stay.
    enter = np.zeros((n, len(STAGES) + 1))  # years since START when each stage (and the close) was entered
    enter[:, 0] = created
    reached = np.ones(n, dtype=int)  # number of stages entered
    alive = np.ones(n, bool)
    won = np.zeros(n, bool)
    closed_at = np.full(n, np.nan)
    for s in range(len(STAGES)):
        stay = rng.exponential(mean_days[s], n) / YEAR_DAYS
        leave = enter[:, s] + stay
        adv = rng.random(n) < _logistic(base[s] + effect)
        lost_now = alive & ~adv
        closed_at[lost_now] = leave[lost_now]
        alive &= adv
        enter[alive, s + 1] = leave[alive]
        if s + 1 < len(STAGES):
            reached[alive] += 1
        else:
            won[alive] = True
            closed_at[alive] = leave[alive]
    as_of = (END - START).days / YEAR_DAYS
    is_open = closed_at > as_of
    # Stage events up to the as-of date only: the data is what a CRM shows on that day.
    rows_opp, rows_stage, rows_t = [], [], []
    for s in range(len(STAGES)):
        m = (reached > s) & (enter[:, s] <= as_of)
        rows_opp.append(np.flatnonzero(m))
        rows_stage.append(np.full(m.sum(), STAGES[s], dtype=object))
        rows_t.append(enter[m, s])
    closed = ~is_open
    rows_opp.append(np.flatnonzero(closed))
    rows_stage.append(np.where(won[closed], "won", "lost").astype(object))
    rows_t.append(closed_at[closed])
    opp_ids = _ids("OP", n, 6)
    ev = pd.DataFrame(
        {
            "opportunity_id": opp_ids[np.concatenate(rows_opp)],
            "stage": np.concatenate(rows_stage),
            "entered_at": _to_dates(np.concatenate(rows_t)).normalize(),
        }
    )
    ev = ev.sort_values(["opportunity_id", "entered_at"], kind="stable", ignore_index=True)
    current = np.where(closed, np.where(won, "won", "lost"), "lead")
    for s in range(len(STAGES)):
        current = np.where(~closed & (reached > s) & (enter[:, s] <= as_of), STAGES[s], current)
    expected_days = mean_days.sum() * rng.uniform(0.6, 1.4, n)
    expected_close = _to_dates(created + expected_days / YEAR_DAYS).normalize()
    business_ids = cust["ids"][cust["is_business"]]
    amount = np.round(
        np.exp(
            np.array([FUNNEL["amount_log_mean"][s] for s in OPP_SEGMENTS])[seg]
            + FUNNEL["amount_log_sd"] * rng.standard_normal(n)
        ),
        -1,
    )
    opps = pd.DataFrame(
        {
            "opportunity_id": opp_ids,
            "account_id": business_ids[rng.integers(0, len(business_ids), n)] if len(business_ids) else None,
            "created_date": _to_dates(created).normalize(),
            "amount": amount,
            "source_channel": np.array(OPP_CHANNELS)[ch],
            "region": region,
            "country": country,
            "segment": np.array(OPP_SEGMENTS)[seg],
            "product": np.array(OPP_PRODUCTS)[prod],
            "owner": np.array([f"Rep {i:02d}" for i in range(1, 13)])[rng.integers(0, 12, n)],
            "stage": current,
            "expected_close_date": expected_close,
            "closed_date": pd.Series(_to_dates(np.where(closed, closed_at, 0.0)).normalize()).where(closed),
            "outcome": np.where(closed, np.where(won, "won", "lost"), "open"),
        }
    )
    return opps, ev


def build(path: str | Path | dict, size: str = "small", seed: int = 42) -> Path | str:
    """Generate the demo company and write it as a workspace, with its truth inside and beside it.

    Examples
    --------
    >>> build("data/demo.duckdb", size="small", seed=42)  # doctest: +SKIP
    """
    import json
    from pathlib import Path

    from omnimodel.data.workspace import write_workspace

    tables, truth = generate(size, seed)
    meta = {
        "source": "demo",
        "adapter": "demo",
        "currency": "EUR",
        "size": size,
        "seed": seed,
        "truth": truth,
        "rows": {k: len(v) for k, v in tables.items()},
    }
    out = write_workspace(path, tables, meta)
    if isinstance(out, Path):  # on an engine the truth is in the workspace's meta only
        truth_file = out.with_suffix(".truth.json")
        tmp = truth_file.with_name(truth_file.name + ".tmp")
        tmp.write_text(json.dumps(truth, indent=2))
        tmp.replace(truth_file)
    return out
