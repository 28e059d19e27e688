"""Country attractiveness: own performance plus market indicators, with uncertainty and reasons per rank.

The score of a country is a weighted sum of standardised criteria: own performance (revenue, growth, margin
rate, penetration, value per customer) and the market (size, purchasing power, digital reach, from
:mod:`omnimodel.data.indicators`). Each criterion is standardised robustly across the ranked countries
(median and MAD, clipped to +-3) so one tiny country with +500 % growth cannot dominate.

Uncertainty has two sources, both drawn:

* measurement: a country's per-customer means (revenue, last and prior 12 months, cost, value) are drawn from
  a normal with the sample covariance over its customers divided by their number. The covariance is shrunk
  toward the covariance over all customers with the weight of ``prior_customers`` customers, so a country with
  three customers is uncertain rather than exact;
* judgement: the weights are drawn from a Dirichlet centred on the given weights (``weight_concentration``;
  larger means surer of the weights).

The result gives the score's median and 90 % interval, the 90 % interval of the rank, P(top 3), and the
reasons: the criteria that lift and hold back each country, with its value and rank on them.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from omnimodel.data.countries import country_name
from omnimodel.data.queries import customer_columns, sales_lines
from omnimodel.data.workspace import Workspace
from omnimodel.exceptions import ParameterError
from omnimodel.notice import Skipped

#: criterion -> (label in reasons, default weight)
CRITERIA = {
    "revenue": ("revenue", 0.20),
    "growth": ("growth", 0.15),
    "margin_rate": ("margin rate", 0.10),
    "penetration": ("customers per million people", 0.10),
    "value_per_customer": ("value per customer", 0.10),
    "market_size": ("GDP", 0.15),
    "purchasing_power": ("GDP per capita", 0.10),
    "digital_reach": ("internet users", 0.10),
}
MARKET = ("market_size", "purchasing_power", "digital_reach")
MARKET_COLUMNS = ("population", "gdp", "gdp_per_capita", "internet_share", "continent", "subregion")
LOG_SCALE = {"revenue", "penetration", "value_per_customer", "market_size", "purchasing_power"}
# The smallest spread that counts as a difference: when countries are nearly alike on a criterion, their
# MAD is tiny and would blow noise up into large scores (log criteria: 10 %; rates: points).
MATERIAL = {"growth": 0.05, "margin_rate": 0.02, "digital_reach": 2.0}
NOT_COUNTRIES = {"EU", "ZZ"}  # "European Community", "Unspecified" in exports
_MOMENTS = ["revenue", "last", "prior", "cost", "value"]


def country_performance(
    ws: Workspace,
    start: str | None = None,
    end: str | None = None,
    clv: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per customer country: customers, revenue, last/prior 12 months, cost, value, and their covariances.

    Revenue is net of discounts; ``value`` is the CLV column ``value`` of ``clv`` (one row per customer) when
    given, else revenue. Aggregated in the engine to first and second moments per country.
    """
    t = sales_lines(ws, start, end, known_customers=True)
    span = t.aggregate(first=t.order_date.min(), last=t.order_date.max()).execute().iloc[0]
    last_day = pd.Timestamp(span["last"])
    has_cost = "unit_cost" in t.columns
    recent = t.order_date > ibis.timestamp(last_day - pd.Timedelta(days=365))
    prior = (t.order_date <= ibis.timestamp(last_day - pd.Timedelta(days=365))) & (
        t.order_date > ibis.timestamp(last_day - pd.Timedelta(days=730))
    )
    per_customer = t.group_by("customer_id").aggregate(
        revenue=t.revenue.sum(),
        last=t.revenue.sum(where=recent),
        prior=t.revenue.sum(where=prior),
        cost=(t.quantity * t.unit_cost).sum() if has_cost else ibis.literal(0.0),
    )
    cust = customer_columns(ws, "country", "region")
    per_customer = per_customer.join(cust, "customer_id")
    if clv is not None:
        values = ibis.memtable(clv[["customer_id", "value"]].astype({"value": float}))
        per_customer = per_customer.left_join(values, "customer_id").drop("customer_id_right")
        per_customer = per_customer.mutate(value=per_customer.value.fill_null(0.0))
    else:
        per_customer = per_customer.mutate(value=per_customer.revenue)
    pc = per_customer.mutate(**{c: per_customer[c].fill_null(0.0).cast("float64") for c in _MOMENTS})
    moments = {"customers": pc.count()}
    for i, a in enumerate(_MOMENTS):
        moments[f"sum_{a}"] = pc[a].sum()
        for b in _MOMENTS[i:]:
            moments[f"sum_{a}_{b}"] = (pc[a] * pc[b]).sum()
    # each country's region: the one most of its customers are in (ties: the first by name); written with a
    # window, not mode(), which Spark's Ibis backend lacks
    known = pc.filter(pc.region.notnull())
    pairs = known.group_by(["country", "region"]).aggregate(n=known.count())
    pairs = pairs.mutate(rank=ibis.row_number().over(group_by="country", order_by=[ibis.desc("n"), "region"]))
    region = pairs.filter(pairs["rank"] == 0).select("country", "region")
    sums = pc.group_by("country").aggregate(**moments)
    out = sums.left_join(region, "country").drop("country_right").execute()
    out.attrs["has_cost"] = has_cost
    out.attrs["has_growth"] = (last_day - pd.Timestamp(span["first"])).days >= 729
    out.attrs["value_is_clv"] = clv is not None
    return out.sort_values("sum_revenue", ascending=False, ignore_index=True)


def _mean_and_cov(perf: pd.DataFrame, prior_customers: float) -> tuple[np.ndarray, np.ndarray]:
    """Per country the mean vector and the (shrunk) covariance of the per-customer values."""
    n = perf["customers"].to_numpy(float)
    k = len(_MOMENTS)
    mean = np.stack([perf[f"sum_{a}"] / n for a in _MOMENTS], axis=1)
    second = np.empty((len(perf), k, k))
    for i, a in enumerate(_MOMENTS):
        for j, b in enumerate(_MOMENTS):
            key = f"sum_{a}_{b}" if i <= j else f"sum_{b}_{a}"
            second[:, i, j] = perf[key] / n
    cov = second - mean[:, :, None] * mean[:, None, :]
    total = n.sum()
    pooled_mean = (mean * n[:, None]).sum(0) / total
    pooled = (second * n[:, None, None]).sum(0) / total - np.outer(pooled_mean, pooled_mean)
    w = (n / (n + prior_customers))[:, None, None]
    return mean, w * cov + (1 - w) * pooled


def _criteria(perf: pd.DataFrame, means: np.ndarray, market: pd.DataFrame) -> dict[str, np.ndarray]:
    """Criterion values for mean vectors of shape (..., countries, 5)."""
    n = perf["customers"].to_numpy(float)
    floor = 1e-6 * max(float(np.nanmax(np.abs(means[..., 0]))), 1.0)
    rev = np.maximum(means[..., 0], floor)
    out = {
        "revenue": rev * n,
        "growth": np.maximum(means[..., 1], floor) / np.maximum(means[..., 2], floor) - 1,
        "margin_rate": 1 - means[..., 3] / rev,
        "penetration": np.broadcast_to(n / market["population"].to_numpy() * 1e6, rev.shape),
        "value_per_customer": np.maximum(means[..., 4], floor),
        "market_size": np.broadcast_to(market["gdp"].to_numpy(), rev.shape),
        "purchasing_power": np.broadcast_to(market["gdp_per_capita"].to_numpy(), rev.shape),
        "digital_reach": np.broadcast_to(market["internet_share"].to_numpy(), rev.shape),
    }
    return out


def _standardise(values: np.ndarray, point: np.ndarray, criterion: str) -> np.ndarray:
    """Robust z-scores of ``values`` on the scale of the point estimates; missing -> 0 (the median)."""
    log = criterion in LOG_SCALE
    tr = np.log if log else (lambda v: v)
    p = tr(point)
    centre = np.nanmedian(p)
    scale = 1.4826 * np.nanmedian(np.abs(p - centre))
    scale = max(np.nan_to_num(scale), 0.1 if log else MATERIAL.get(criterion, 1e-9))
    z = (tr(values) - centre) / scale
    return np.clip(np.nan_to_num(z, nan=0.0), -3, 3)


def _weights(weights: dict[str, float] | None, usable: list[str]) -> dict[str, float]:
    w = {c: CRITERIA[c][1] for c in CRITERIA} if weights is None else dict(weights)
    unknown = set(w) - set(CRITERIA)
    if unknown:
        raise ParameterError(
            f"unknown criteria {', '.join(sorted(unknown))}", fix=f"choose from {', '.join(CRITERIA)}"
        )
    w = {c: v for c, v in w.items() if c in usable and v > 0}
    total = sum(w.values())
    return {c: v / total for c, v in w.items()}


def attractiveness(
    perf: pd.DataFrame,
    indicators: pd.DataFrame | None = None,
    weights: dict[str, float] | None = None,
    n_draws: int = 2000,
    prior_customers: float = 5.0,
    weight_concentration: float = 50.0,
    min_customers: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Rank the countries the company sells in; one row per country, best first.

    Criteria that the data cannot measure are left out and listed in ``result.attrs["left_out"]`` (margin
    without unit costs, growth with less than two years of data); the other weights are rescaled.
    """
    perf = perf[~perf["country"].isin(NOT_COUNTRIES) & perf["country"].notna()]
    perf = perf[perf["customers"] >= min_customers].reset_index(drop=True)
    left_out = {}
    if indicators is None:  # own performance only, said so
        indicators = pd.DataFrame(columns=["iso2", "name", *MARKET_COLUMNS])
        for c in (*MARKET, "penetration"):
            left_out[c] = "no market indicators given"
        market_given = False
    else:
        market_given = True
    market = indicators.set_index("iso2").reindex(perf["country"])
    if not perf.attrs.get("has_cost", True):
        left_out["margin_rate"] = "no unit costs in the data"
    if not perf.attrs.get("has_growth", True):
        left_out["growth"] = "less than two years of orders"
    w = _weights(weights, [c for c in CRITERIA if c not in left_out])
    rng = np.random.default_rng(seed)

    mean, cov = _mean_and_cov(perf, prior_customers)
    n = perf["customers"].to_numpy(float)
    # a matrix square root that tolerates collinear columns (value is revenue when no CLV is given)
    vals, vecs = np.linalg.eigh(cov / n[:, None, None])
    root = vecs * np.sqrt(np.clip(vals, 0, None))[:, None, :]
    draws = mean + np.einsum("cij,dcj->dci", root, rng.standard_normal((n_draws, len(perf), len(_MOMENTS))))
    point, drawn = _criteria(perf, mean, market), _criteria(perf, draws, market)
    names = list(w)
    z_point = np.stack([_standardise(point[c], point[c], c) for c in names], -1)
    z_draws = np.stack([_standardise(drawn[c], point[c], c) for c in names], -1)
    w_draws = rng.dirichlet(weight_concentration * np.array([w[c] for c in names]), n_draws)
    scores = np.einsum("dck,dk->dc", z_draws, w_draws)
    ranks = (-scores).argsort(1).argsort(1) + 1

    # countries without indicators (Taiwan, Channel Islands) by their usual English name
    fallback = perf["country"].map(country_name)
    name = market["name"].fillna(pd.Series(fallback.to_numpy(), index=market.index))
    out = pd.DataFrame(
        {"country": perf["country"], "country_name": name.to_numpy(), "region": perf["region"]}
    )
    out["customers"] = perf["customers"].to_numpy()
    for c in names:
        out[c] = point[c]
    out["score"] = z_point @ np.array([w[c] for c in names])
    out["score_p05"], out["score_p50"], out["score_p95"] = np.quantile(scores, [0.05, 0.5, 0.95], axis=0)
    out["rank_p05"], out["rank_p95"] = np.quantile(ranks, [0.05, 0.95], axis=0).round().astype(int)
    out["p_top3"] = (ranks <= 3).mean(0)
    missing = market[["gdp", "internet_share"]].isna().any(axis=1).to_numpy() & market_given
    out["reasons"] = _reasons(out, z_point, names, w, missing)
    out = out.sort_values("score", ascending=False, ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs.update(left_out=left_out, weights=w, value_is_clv=perf.attrs.get("value_is_clv", False))
    return out


def _fmt(criterion: str, v: float) -> str:
    if not np.isfinite(v):
        return "unknown"
    if criterion in ("growth", "margin_rate"):
        return f"{v:+.0%}" if criterion == "growth" else f"{v:.0%}"
    if criterion == "digital_reach":
        return f"{v:.0f} %"
    for size, unit in ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return f"{v / size:.1f}{unit}"
    return f"{v:.1f}"


def _reasons(
    frame: pd.DataFrame, z: np.ndarray, names: list[str], w: dict, no_market: np.ndarray
) -> list[str]:
    """Two criteria that lift each country most and the one that holds it back most, with value and rank."""
    contrib = z * np.array([w[c] for c in names])
    rank_of = {c: frame[c].rank(ascending=False, method="min") for c in names}
    n = len(frame)
    out = []
    for i in range(n):
        order = np.argsort(-contrib[i])
        parts = [
            f"+ {CRITERIA[names[k]][0]} {_fmt(names[k], frame[names[k]].iloc[i])} "
            f"(#{int(rank_of[names[k]].iloc[i])}/{n})"
            for k in order[:2]
            if contrib[i, k] > 0
        ]
        worst = order[-1]
        if contrib[i, worst] < 0:
            parts.append(
                f"- {CRITERIA[names[worst]][0]} {_fmt(names[worst], frame[names[worst]].iloc[i])} "
                f"(#{int(rank_of[names[worst]].iloc[i])}/{n})"
            )
        if no_market[i]:
            parts.append("no market data (scored as a median market)")
        out.append("; ".join(parts))
    return out


def new_country_candidates(
    perf: pd.DataFrame,
    indicators: pd.DataFrame | None = None,
    max_customers: int = 10,
    n_draws: int = 2000,
    weight_concentration: float = 50.0,
    same_continent: bool = True,
    limit: int = 15,
    seed: int = 0,
) -> pd.DataFrame | Skipped:
    """Countries where the company has at most ``max_customers`` customers, ranked by their market alone.

    Market criteria are standardised over all countries with indicators. For each candidate, the served market
    closest in those indicators and a look-alike estimate: customers it would have with that market's
    penetration (a rough size of the prize, not a forecast). ``same_continent`` keeps candidates on a continent
    where the company already sells.
    """
    if indicators is None:
        return Skipped(
            "new country candidates",
            "no market indicators given",
            "give the report market indicators (World Bank, Gapminder and Our World in Data files)",
        )
    ind = indicators.dropna(subset=["gdp", "internet_share"]).reset_index(drop=True)
    customers = perf.set_index("country")["customers"]
    ind["customers"] = ind["iso2"].map(customers).fillna(0).astype(int)
    served = ind[ind["customers"] > max_customers]
    w = {c: CRITERIA[c][1] for c in MARKET}
    total = sum(w.values())
    w = {c: v / total for c, v in w.items()}
    values = {
        "market_size": ind["gdp"],
        "purchasing_power": ind["gdp_per_capita"],
        "digital_reach": ind["internet_share"],
    }
    z = np.stack([_standardise(values[c].to_numpy(float), values[c].to_numpy(float), c) for c in MARKET], -1)
    rng = np.random.default_rng(seed)
    w_draws = rng.dirichlet(weight_concentration * np.array(list(w.values())), n_draws)
    scores = w_draws @ z.T
    cand = ind["customers"] <= max_customers
    if same_continent:
        cand &= ind["continent"].isin(served["continent"].dropna())
    idx = np.flatnonzero(cand.to_numpy())
    served_idx = served.index.to_numpy()
    dist = ((z[idx, None, :] - z[None, served_idx, :]) ** 2).sum(-1)
    nearest = served_idx[dist.argmin(1)] if len(served_idx) else np.full(len(idx), -1)
    out = ind.loc[idx, ["iso2", "name", "continent", "subregion", "customers", "population"]]
    out = out.rename(columns={"iso2": "country", "name": "country_name"}).reset_index(drop=True)
    out["gdp_per_capita"] = ind.loc[idx, "gdp_per_capita"].to_numpy()
    out["internet_share"] = ind.loc[idx, "internet_share"].to_numpy()
    out["market_score"] = z[idx] @ np.array(list(w.values()))
    out["score_p05"], out["score_p95"] = np.quantile(scores[:, idx], [0.05, 0.95], axis=0)
    if len(served_idx):
        near = ind.loc[nearest]
        out["closest_served_market"] = near["iso2"].to_numpy()
        pen = (near["customers"] / near["population"]).to_numpy()
        out["lookalike_customers"] = (pen * out["population"]).round().astype(int)
        out["same_subregion_served"] = out["subregion"].isin(served["subregion"].dropna())
    out["reasons"] = [
        "; ".join(
            f"{CRITERIA[c][0]} {_fmt(c, values[c].iloc[i])} (z {z[i, k]:+.1f})" for k, c in enumerate(MARKET)
        )
        for i in idx
    ]
    return out.sort_values("market_score", ascending=False, ignore_index=True).head(limit)
