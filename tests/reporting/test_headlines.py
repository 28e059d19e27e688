"""What each report says first: the cards carry the inputs' own numbers, findings name what the data shows."""

import numpy as np
import pandas as pd

from omnimodel.diagnostics import Diagnostics
from omnimodel.reporting.customer_headlines import profile_summary, segments_summary
from omnimodel.reporting.headlines import whatif_summary
from omnimodel.reporting.summary import compact


def _comparison() -> pd.DataFrame:
    rows = [
        ("goals as set", 27.0e6, 27.4e6, 0.52, 6.5e6, 6.48e6, 0.48),
        ("prices +3 %", 27.0e6, 27.1e6, 0.46, 6.5e6, 6.90e6, 0.60),
        ("cost to serve -1 point", 27.0e6, 27.4e6, 0.52, 6.5e6, 6.76e6, 0.55),
        ("growth goal +5 points", 28.5e6, 27.4e6, 0.18, 6.9e6, 6.48e6, 0.20),
        ("lead conversion +10 %", 27.0e6, 28.0e6, 0.68, 6.5e6, 6.63e6, 0.58),
    ]
    cols = ["scenario", "target", "forecast_p50", "p_hit", "profit_target", "profit_p50", "p_hit_profit"]
    return pd.DataFrame(rows, columns=cols)


def test_the_what_if_summary_names_the_lever_that_helps_most():
    total = pd.Series({"target": 27.0e6, "forecast_p50": 27.4e6, "forecast_p10": 25.9e6, "forecast_p90": 28.9e6,
                       "p_hit": 0.52, "p_hit_profit": 0.48})  # fmt: skip
    s = whatif_summary(total, _comparison(), 2026, "EUR")
    cards = {c.label: c for c in s.cards}
    assert cards["Lever that helps most"].value == "lead conversion +10 %"
    assert cards["Lever that helps most"].detail == "chance 52 % → 68 %"
    assert s.findings[0].startswith("lead conversion +10 %: chance to reach the revenue target 52 % → 68 %")
    assert "the target rises to 28.50 M EUR and the chance falls to 18 %" in s.findings[-1]
    assert s.actions[0].startswith("Start with lead conversion +10 %")


def test_a_fit_that_has_not_converged_is_the_first_finding():
    total = pd.Series({"target": 1.0, "forecast_p50": 1.0, "forecast_p10": 1.0, "forecast_p90": 1.0, "p_hit": 0.5,
                       "p_hit_profit": 0.5})  # fmt: skip
    bad = Diagnostics(max_rhat=1.2, min_ess_bulk=40, divergences=3, draws=250, chains=2)
    good = Diagnostics(max_rhat=1.0, min_ess_bulk=900, divergences=0, draws=250, chains=2)
    assert (
        whatif_summary(total, _comparison(), 2026, None, bad)
        .findings[0]
        .startswith("The model fit behind these numbers has not converged: r-hat max 1.20")
    )
    assert "converged" not in whatif_summary(total, _comparison(), 2026, None, good).findings[0]


def test_the_segments_summary_gives_the_customers_value_with_its_range():
    draws = np.random.default_rng(1).normal(11.8e6, 0.25e6, 400)
    four = pd.DataFrame({"customer_id": list("abcd"), "segment": ["business", "business", "premium", "families"],
                         "value": [700.0, 500.0, 300.0, 200.0]})  # fmt: skip
    # 30 customers like each of the four: enough behind every segment to name the most valuable one
    values = pd.concat(
        [four.assign(customer_id=four["customer_id"] + str(i)) for i in range(30)], ignore_index=True
    )
    addressing = pd.DataFrame({"segment": ["business", "premium"], "revenue": [26e6, 5e6], "growth": [0.37, 0.28],
                               "preferred channels": ["field_sales 48%, webshop 28%", "webshop 60%, app 20%"],
                               "top categories": ["electronics, home", "apparel"],
                               "best cross-sell": ["apparel -> shoes (lift 3.66)", "no cross-sell stands out"]})  # fmt: skip
    s = segments_summary(addressing, values, draws, 0.14, None, None, "EUR")
    cards = {c.label: c for c in s.cards}
    value = cards["Expected profit from today's customers, next 12 months"]
    lo, hi = np.quantile(draws, [0.05, 0.95])
    assert (
        value.value == compact(draws.mean(), "EUR")
        and value.detail == f"90 % range {compact(lo)} to {compact(hi)}"
    )
    assert cards["CLV model on the holdout"].value == "+14 %"
    assert cards["Most valuable segment"].value == "business"
    assert cards["Most valuable segment"].detail == "71 % of the expected value"  # 1,200 of 1,700
    assert s.findings[0] == "business grew fastest over the last 12 months (+37 %), premium slowest (+28 %)."
    assert (
        s.actions[0]
        == "Address business through field_sales, leading with electronics; cross-sell apparel -> shoes (lift 3.66)."
    )
    assert s.actions[1] == "Address premium through webshop, leading with apparel."
    assert not any("cost money" in f for f in s.findings)
    losing = four.assign(value=[700.0, -120.0, 300.0, -30.0], return_share=[0.05, 0.9, 0.1, 0.8])
    s = segments_summary(addressing, losing, draws, 0.14, None, None, "EUR")
    assert "2 customers (50.0 %) are expected to cost money over the next 12 months, 150 EUR in total; they send " \
           "back 85 % of their lines (median)." in s.findings  # fmt: skip


def test_the_profile_summary_adds_up_the_workspaces_own_orders(demo_workspace):
    from omnimodel import Workspace
    from omnimodel.data import overview
    from omnimodel.profile.baskets import association_rules
    from omnimodel.profile.features import customer_profile

    ws = Workspace(demo_workspace)
    profile = customer_profile(ws).frame
    s = profile_summary(ws, profile, association_rules(ws), association_rules(ws, by="segment"),
                        "2025-01-01", "2025-12-31", "EUR")  # fmt: skip
    cards = {c.label: c for c in s.cards}
    sales = overview.sales_by_month(ws, by="channel", start="2025-01-01", end="2025-12-31")
    before = overview.sales_by_month(ws, by="channel", start="2024-01-01", end="2024-12-31")
    growth = sales["revenue"].sum() / before["revenue"].sum() - 1
    assert cards["Net revenue 2025"].value == compact(sales["revenue"].sum(), "EUR")
    assert cards["Net revenue 2025"].detail == f"{growth:+.0%} on 2024".replace("%", " %")
    top = sales.groupby("channel")["revenue"].sum().idxmax()
    assert cards["Largest channel"].value == top
    assert cards["Customers who have bought"].value == f"{(profile['orders'] > 0).sum():,}"
    assert "→" in cards["Strongest cross-sell"].value
    assert s.actions and all(a.startswith(("Offer ", "Look into ")) for a in s.actions)
