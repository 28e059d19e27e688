"""Lifetime value in profit: full refunds, cost of goods and cost to serve, a value that can be negative, and
the planted serial returners recovered as the customers who cost money."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from omnimodel import Workspace
from omnimodel.profile.clv import CLVModel, beta_binomial_loglik, purchase_summary
from omnimodel.profile.clv.tables import loss_makers, value_basis

CAL, END = "2024-12-31", "2025-12-31"
COST = {
    "webshop": 0.12,
    "app": 0.10,
    "stores": 0.22,
    "marketplace": 0.18,
    "call_centre": 0.15,
    "field_sales": 0.14,
}


def test_beta_binomial_matches_scipy():
    k, n, a, b = (
        np.array([0, 3, 9]),
        np.array([5, 10, 10]),
        np.array([1.0, 2.5, 0.7]),
        np.array([9.0, 4.0, 0.3]),
    )
    log_comb = special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)
    np.testing.assert_allclose(
        beta_binomial_loglik(k, n, a, b) + log_comb, stats.betabinom.logpmf(k, n, a, b)
    )


def test_the_profit_inputs_are_the_tables_own_figures(demo_workspace, demo_small):
    """Refunds in full, cost of goods over revenue and cost to serve from the goals, against pandas on the
    demo's own tables."""
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        s = purchase_summary(ws, CAL, END, channel_cost=COST).set_index("customer_id")
    o, lines = tables["orders"], tables["order_lines"]
    t = lines.merge(
        o[o["order_date"] <= pd.Timestamp(CAL) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)],
        on="order_id",
    )
    t = t[t["customer_id"].notna()]
    t["revenue"] = t["quantity"] * t["unit_price"] * (1 - t["discount"])
    r = tables["returns"]
    r = (
        r[r["return_date"] <= pd.Timestamp(CAL)]
        .groupby(["order_id", "line_no"])["quantity"]
        .sum()
        .rename("back")
    )
    t = t.merge(r, on=["order_id", "line_no"], how="left").fillna({"back": 0})
    t["serve"] = t["revenue"] * t["channel"].map(COST)
    t["refund"] = t["revenue"] * np.minimum(t["back"], t["quantity"]) / t["quantity"]
    t["cost"], t["returned"] = t["quantity"] * t["unit_cost"], (t["back"] > 0).astype(int)
    g = t.groupby("customer_id")
    sums = g[["revenue", "refund", "cost", "serve", "returned"]].sum()
    want = pd.DataFrame({
        "lines": g.size(),
        "returned_lines": sums["returned"],
        "refund_share": sums["refund"] / sums["revenue"],
        "cost_rate": sums["cost"] / sums["revenue"],
        "serve_rate": sums["serve"] / sums["revenue"],
    })  # fmt: skip
    got = s.loc[want.index.intersection(s.index), want.columns]
    want = want.loc[got.index]
    assert len(got) > 500
    np.testing.assert_array_equal(got["lines"], want["lines"])
    np.testing.assert_array_equal(got["returned_lines"], want["returned_lines"])
    np.testing.assert_allclose(
        got[["refund_share", "cost_rate", "serve_rate"]],
        want[["refund_share", "cost_rate", "serve_rate"]],
        atol=1e-5,
    )
    # the spend model reads every repeat order's value before returns: a customer who returned all is in it
    assert (s.loc[s["x"] > 0, "repeat_value"] > 0).all()
    assert "cost to serve from goals" in value_basis(s.reset_index())


@pytest.mark.slow
def test_planted_serial_returners_get_a_negative_value(demo_workspace, demo_small):
    _, truth = demo_small
    with Workspace(demo_workspace) as ws:
        summary = purchase_summary(ws, CAL, END, channel_cost=COST)
    model = CLVModel(sampler_config={"draws": 500, "tune": 500}).fit(summary, random_seed=4)
    assert model.diagnostics_.converged, model.diagnostics_.as_text()
    values = model.customer_value(summary, years=1.0, n_draws=300).set_index("customer_id")
    planted = set(truth["serial_returners"]["customers"])
    s = summary.set_index("customer_id")
    # known as serial returners by the calibration end: a few of their lines back by then
    seen = s.index[s.index.isin(planted) & (s["lines"] >= 3) & (s["returned_lines"] >= 2)]
    assert len(seen) >= 8
    assert (values.loc[seen, "value_p95"] < 0).mean() >= 0.8, values.loc[seen]
    assert (values.loc[seen, "p_serial_returner"] > 0.5).mean() >= 0.8
    others = values.index.difference(list(planted))
    assert (values.loc[others, "value"] < 0).mean() < 0.05
    # the population's serial-returner share of lines against the planted one (0.9 of the lines not already
    # returned, so a little above 0.9), within the 99 % interval
    post = model.idata_.posterior["serial_return"].to_numpy().ravel()
    lo, hi = np.quantile(post, [0.005, 0.995])
    assert (
        lo <= truth["serial_returners"]["return_share"] + 0.02
        and hi >= truth["serial_returners"]["return_share"]
    )
    losers = loss_makers(values.reset_index())
    assert losers.attrs["customers"] >= len(seen) and (losers["value"] < 0).all()
