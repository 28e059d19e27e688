"""Market indicators and the country attractiveness ranking: planted order, uncertainty, reasons, real data."""

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data.indicators import load_indicators
from omnimodel.data.overview import redact
from omnimodel.strategy import countries
from tests.conftest import SHARED_DATA

INDICATORS = SHARED_DATA / "country_indicators"


@pytest.fixture(scope="module")
def market():
    return load_indicators(INDICATORS)


def test_indicators_are_countries_joined_on_iso_codes(market):
    assert market["iso2"].is_unique and market["iso3"].is_unique
    de = market.set_index("iso2").loc["DE"]
    assert 80e6 < de["population"] < 86e6 and de["population_year"] == 2022
    assert 30_000 < de["gdp_per_capita"] < 60_000 and 80 < de["internet_share"] <= 100
    assert de["continent"] == "Europe" and de["subregion"] == "Western Europe"
    assert "NA" in set(market["iso2"])  # Namibia, whose code reads as "missing" by default
    assert not market["iso3"].isin(["WLD", "EUU", "OWID_WRL"]).any()


def test_missing_indicator_folder_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="country_indicators|indicator"):
        load_indicators(tmp_path / "nowhere")


def _moments(per_customer: pd.DataFrame) -> pd.DataFrame:
    """The per-country moments that country_performance computes in the engine, here in pandas."""
    cols = ["revenue", "last", "prior", "cost", "value"]
    rows = []
    for country, part in per_customer.groupby("country"):
        row = {"country": country, "customers": len(part), "region": "R"}
        for i, a in enumerate(cols):
            row[f"sum_{a}"] = part[a].sum()
            for b in cols[i:]:
                row[f"sum_{a}_{b}"] = (part[a] * part[b]).sum()
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(has_cost=True, has_growth=True)
    return out


def _planted(sizes: dict[str, int], revenue_mean: dict[str, float], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for c, n in sizes.items():
        rev = rng.gamma(2.0, revenue_mean[c] / 2.0, n)
        parts.append(
            pd.DataFrame(
                {"country": c, "revenue": rev, "last": rev * 0.55, "prior": rev * 0.45, "cost": rev * 0.6}
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    frame["value"] = frame["revenue"]
    return _moments(frame)


def _same_market(codes: list[str]) -> pd.DataFrame:
    """Identical market indicators for every country, so only own performance can separate them."""
    return pd.DataFrame(
        {
            "iso2": codes,
            "name": codes,
            "population": 10e6,
            "gdp": 5e11,
            "gdp_per_capita": 50_000.0,
            "internet_share": 90.0,
        }
    )


def test_planted_revenue_order_is_recovered_with_confident_ranks():
    codes = ["AA", "BB", "CC", "DD", "EE", "FF"]
    perf = _planted(dict.fromkeys(codes, 800), dict(zip(codes, [600, 500, 400, 300, 200, 100], strict=True)))
    weights = {"revenue": 0.5, "value_per_customer": 0.5}
    r = countries.attractiveness(perf, _same_market(codes), weights=weights, seed=1)
    assert list(r["country"]) == codes
    assert r.loc[0, "p_top3"] > 0.99 and r.loc[5, "p_top3"] < 0.01
    # the leader's reasons name what lifts it, with its rank
    assert "+ revenue" in r.loc[0, "reasons"] and "(#1/6)" in r.loc[0, "reasons"]
    assert r["score"].between(r["score_p05"], r["score_p95"]).all()


def test_score_is_the_weighted_sum_of_robust_z_scores():
    codes = ["AA", "BB", "CC", "DD", "EE"]
    perf = _planted(dict.fromkeys(codes, 400), dict(zip(codes, [50, 80, 120, 200, 330], strict=True)), seed=2)
    r = countries.attractiveness(perf, _same_market(codes), weights={"revenue": 1.0}, seed=0)
    logs = np.log(r.set_index("country")["revenue"])
    z = ((logs - logs.median()) / (1.4826 * (logs - logs.median()).abs().median())).clip(-3, 3)
    np.testing.assert_allclose(r.set_index("country")["score"], z, rtol=1e-9)


def test_few_customers_mean_a_wide_interval():
    codes = ["AA", "BB", "CC", "DD", "EE"]
    means = dict(zip(codes, [250.0, 100, 200, 300, 400], strict=True))
    perf = _planted({"AA": 3, "BB": 3000, "CC": 3000, "DD": 3000, "EE": 3000}, means, seed=3)
    weights = {"value_per_customer": 1.0}
    r = countries.attractiveness(perf, _same_market(codes), weights=weights).set_index("country")
    width = r["score_p95"] - r["score_p05"]
    assert width["AA"] > 3 * width[["BB", "CC", "DD", "EE"]].max()


def test_unmeasurable_criteria_are_left_out_and_said():
    codes = ["AA", "BB", "CC"]
    perf = _planted(dict.fromkeys(codes, 100), dict(zip(codes, [1, 2, 3], strict=True)))
    perf.attrs.update(has_cost=False, has_growth=False)
    r = countries.attractiveness(perf, _same_market(codes))
    assert set(r.attrs["left_out"]) == {"margin_rate", "growth"}
    assert "margin_rate" not in r.attrs["weights"] and abs(sum(r.attrs["weights"].values()) - 1) < 1e-12


def test_country_performance_matches_pandas_on_the_demo(demo_small, demo_workspace):
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        perf = countries.country_performance(ws)
    lines = tables["order_lines"].merge(tables["orders"][["order_id", "customer_id"]], on="order_id")
    lines = lines.merge(tables["customers"][["customer_id", "country"]], on="customer_id")
    revenue = (
        (lines["quantity"] * lines["unit_price"] * (1 - lines["discount"].fillna(0)))
        .groupby(lines["country"])
        .sum()
    )
    got = perf.set_index("country")["sum_revenue"]
    np.testing.assert_allclose(got.sort_index(), revenue.sort_index(), rtol=1e-9)
    assert perf["customers"].sum() == lines["customer_id"].nunique()


def test_online_retail_ranking_and_candidates(online_retail_workspace, market):
    with Workspace(online_retail_workspace) as ws:
        perf = countries.country_performance(ws)
    r = countries.attractiveness(perf, market, seed=0)
    assert r.loc[0, "country"] == "GB" and r.loc[0, "p_top3"] > 0.9
    assert not r["country"].isin(["EU", "ZZ"]).any()  # "European Community", "Unspecified"
    assert set(r.attrs["left_out"]) == {"margin_rate", "growth"}  # no costs; 13 months of data
    assert (r["rank_p05"] <= r["rank"]).all() and (r["rank"] <= r["rank_p95"]).all()
    cands = countries.new_country_candidates(perf, market, max_customers=10)
    assert (cands["customers"] <= 10).all() and len(cands) == 15
    served = perf.set_index("country")["customers"]
    assert (served.reindex(cands["closest_served_market"]) > 10).all()
    assert cands["market_score"].is_monotonic_decreasing
    assert redact(r).columns.tolist() == r.columns.tolist()  # nothing personal in the ranking


def test_without_market_indicators_countries_rank_on_own_performance_and_say_so():
    from omnimodel.notice import Skipped

    codes = ["AA", "BB", "CC"]
    perf = _planted(dict.fromkeys(codes, 100), dict(zip(codes, [1, 2, 3], strict=True)))
    r = countries.attractiveness(perf, None, seed=0)
    assert set(r.attrs["left_out"]) == {"market_size", "purchasing_power", "digital_reach", "penetration"}
    assert set(r.attrs["weights"]) == {"revenue", "growth", "margin_rate", "value_per_customer"}
    assert r["country"].tolist()[0] == "CC"  # the largest revenue per customer still leads
    assert not r["reasons"].str.contains("no market data").any()  # not a per-country gap: none was given
    assert isinstance(countries.new_country_candidates(perf, None), Skipped)
