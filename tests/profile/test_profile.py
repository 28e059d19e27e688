"""Customer profile, channels and baskets: computed in the engine, checked against pandas and planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data import demo
from omnimodel.data.schema import CHANNELS, PERSONAL_COLUMNS
from omnimodel.profile import baskets, channels
from omnimodel.profile.features import CHECKLIST, customer_profile


@pytest.fixture(scope="module")
def default_ws(tmp_path_factory):
    return demo.build(tmp_path_factory.mktemp("profile") / "demo.duckdb", size="default", seed=11)


def test_transition_matrix_recovers_the_planted_one(default_ws):
    with Workspace(default_ws) as ws:
        truth = ws.truth()["channel_transitions"]
        counts = channels.transition_counts(ws, by="is_business")
    for group, is_business in (("consumer", False), ("business", True)):
        c = counts[counts["is_business"] == is_business]
        m = c.pivot_table(
            index="from_channel", columns="to_channel", values="moves", aggfunc="sum", fill_value=0
        )
        m = m.reindex(index=CHANNELS, columns=CHANNELS, fill_value=0)
        planted = np.array(truth[group])
        for i, ch in enumerate(CHANNELS):
            n = m.loc[ch].sum()
            if n < 300:  # channels this group (almost) never uses
                continue
            se = np.sqrt(planted[i] * (1 - planted[i]) / n)
            observed = m.loc[ch].to_numpy() / n
            assert np.all(np.abs(observed - planted[i]) <= 4 * se + 1e-9), (group, ch, observed.round(3))


def test_hopping_affinity_is_a_shrunk_share(default_ws):
    with Workspace(default_ws) as ws:
        hop = channels.hopping_affinity(ws).execute()
    assert hop["hopping_affinity"].between(0, 1).all()
    # one move, no switch: shrunk towards the population rate, not 0
    assert hop.loc[(hop["moves"] == 1) & (hop["switches"] == 0), "hopping_affinity"].min() > 0.05
    many = hop[hop["moves"] >= 20]
    raw = many["switches"] / many["moves"]
    assert np.corrcoef(raw, many["hopping_affinity"])[0, 1] > 0.95


def test_planted_cross_sell_pairs_are_the_strongest_rules(default_ws):
    with Workspace(default_ws) as ws:
        rules = baskets.association_rules(ws)
        truth = ws.truth()["cross_sell"]["planted"]
    planted = {(p["from"], p["to"]) for p in truth} | {(p["to"], p["from"]) for p in truth}
    top = rules.head(len(planted))
    assert {tuple(x) for x in top[["antecedent", "consequent"]].to_numpy()} <= planted
    # support, confidence and lift are consistent with each other
    r = rules.iloc[0]
    assert r["support"] == pytest.approx(r["both"] / r["baskets"])
    assert r["lift"] == pytest.approx(r["confidence"] / (r["consequent_orders"] / r["baskets"]))


def test_rules_by_segment_and_recommendations(default_ws):
    with Workspace(default_ws) as ws:
        rules = baskets.association_rules(ws, by="segment")
    rec = baskets.cross_sell_recommendations(rules, by="segment", top=2)
    assert set(rec["segment"]) <= set(rules["segment"]) and (rec["lift"] >= 1.2).all()
    assert rec.groupby("segment").size().max() <= 2


def test_profile_matches_a_pandas_computation(demo_small, demo_workspace):
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        profile = customer_profile(ws)
    f = profile.frame.set_index("customer_id")
    assert len(f) == len(tables["customers"]) and profile.skipped == []
    lines = tables["order_lines"].merge(tables["orders"], on="order_id")
    lines["rev"] = lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])
    expected = lines.groupby("customer_id").agg(orders=("order_id", "nunique"), revenue=("rev", "sum"))
    got = f.loc[expected.index]
    np.testing.assert_array_equal(got["orders"].to_numpy(), expected["orders"].to_numpy())
    np.testing.assert_allclose(got["revenue"].to_numpy(float), expected["revenue"].to_numpy(), rtol=1e-9)
    comp = tables["complaints"].groupby("customer_id").size()
    np.testing.assert_array_equal(f.loc[comp.index, "complaints"].to_numpy(), comp.to_numpy())
    pref = lines.groupby(["customer_id", "channel"])["order_id"].nunique().reset_index()
    one = (
        pref.sort_values(["customer_id", "order_id", "channel"], ascending=[True, False, True])
        .groupby("customer_id")
        .head(1)
    )
    assert (f.loc[one["customer_id"], "preferred_channel"].to_numpy() == one["channel"].to_numpy()).all()


def test_views_keep_personal_data_where_it_belongs(demo_workspace):
    with Workspace(demo_workspace) as ws:
        profile = customer_profile(ws)
    company = profile.company_view()
    assert not (set(company.columns) & PERSONAL_COLUMNS)
    assert "email" in profile.company_view(allow_personal=True).columns
    me = profile.customer_view(profile.frame["customer_id"].iloc[0])
    assert "email" in me.index and "hopping_affinity" not in me.index  # own data yes, internal scores no
    table = profile.checklist()
    assert len(table) == len(CHECKLIST) and (table["available"] == "yes").all()


def test_missing_tables_are_skipped_and_named(tmp_path, demo_small):
    from omnimodel.data.workspace import write_workspace

    tables, _ = demo_small
    keep = {k: tables[k] for k in ("customers", "orders", "order_lines", "products")}
    path = write_workspace(tmp_path / "min.duckdb", keep)
    with Workspace(path) as ws:
        profile = customer_profile(ws)
    assert any(s.startswith("touchpoints") for s in profile.skipped)
    assert profile.checklist().set_index("checklist item").loc["social-media activity", "available"] == "no"
    assert pd.api.types.is_integer_dtype(profile.frame["orders"])


def test_benchmark_baselines_compute_the_same_profile(demo_workspace):
    """benchmarks/customer_profile.py compares like with like: its SQL and pandas profiles equal the engine's."""
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import customer_profile as bench  # benchmarks/customer_profile.py

    got = {"engine": bench.run_engine(str(demo_workspace)), "sql": bench.run_sql(str(demo_workspace))}
    got["pandas"] = bench.pandas_profile(bench.load_tables(str(demo_workspace)))
    results = {
        w: {"checks": {c: float(f[c].astype(float).sum()) for c in bench.CHECKED}} for w, f in got.items()
    }
    assert bench.compare(results) == []
    assert len(got["engine"]) == len(got["sql"]) == len(got["pandas"])


def test_the_lift_interval_covers_a_planted_lift_nine_times_in_ten():
    """Baskets drawn with a planted P(B | A) and P(B | not A): the 90 % interval holds the true lift in about
    90 % of replications, and a lift of exactly 1 is not called a cross-sell."""
    rng = np.random.default_rng(4)
    n, p_a, p_b_a, p_b_not = 4000, 0.2, 0.15, 0.10
    true_lift = p_b_a / (p_a * p_b_a + (1 - p_a) * p_b_not)
    reps = 2000
    n_a = rng.binomial(n, p_a, reps)
    both = rng.binomial(n_a, p_b_a)
    n_b = both + rng.binomial(n - n_a, p_b_not)
    low, high = baskets.lift_interval(both, n_a, n_b, np.full(reps, n))
    coverage = ((low <= true_lift) & (true_lift <= high)).mean()
    assert 0.87 <= coverage <= 0.93, coverage
    # no association: lift 1, interval across 1, so no recommendation
    low, high = baskets.lift_interval([50], [500], [500], [5000])
    assert low[0] < 1 < high[0]


def test_only_rules_above_one_with_their_interval_are_recommended(demo_workspace):
    from omnimodel.strategy import segments

    with Workspace(demo_workspace) as ws:
        rules = baskets.association_rules(ws, by="segment", min_orders=5)
    assert (rules["lift_low"] <= rules["lift"]).all() and (rules["lift"] <= rules["lift_high"]).all()
    rec = baskets.cross_sell_recommendations(rules, by="segment", min_lift=1.0)
    assert (rec["lift_low"] > 1).all()
    weak = rules[rules["lift_low"] <= 1]
    assert len(weak), "the demo has rules that are not evidence of a cross-sell"
    matrix = pd.DataFrame(
        {"segment": ["x"], "channel": ["webshop"], "category": ["home"], "revenue": [1.0], "margin": [0.3],
         "revenue_last_12m": [1.0], "revenue_prior_12m": [1.0], "growth": [0.0]}
    )  # fmt: skip
    only_weak = weak.head(1).assign(segment="x")
    assert segments.how_to_address(matrix, only_weak)["best cross-sell"].iloc[0] == "no cross-sell stands out"
