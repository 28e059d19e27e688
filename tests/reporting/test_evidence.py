"""Evidence rules: each headline says only what its data supports; each test plants the trap the rule is for."""

import numpy as np
import pandas as pd

from omnimodel.reporting import evidence
from omnimodel.reporting.customer_headlines import profile_summary, segments_summary
from omnimodel.reporting.headlines import whatif_summary

DRAWS = np.random.default_rng(1).normal(1.0e6, 0.1e6, 400)
ADDRESSING = pd.DataFrame(
    {
        "segment": ["business"],
        "revenue": [26e6],
        "preferred channels": ["webshop 60%"],
        "top categories": ["home"],
    }
)


def _ranking(customers: dict[str, int]) -> pd.DataFrame:
    """A country ranking, best first, with these customers per country."""
    n = len(customers)
    return pd.DataFrame(
        {
            "country_name": list(customers),
            "customers": list(customers.values()),
            "rank_p05": range(1, n + 1),
            "rank_p95": range(1, n + 1),
            "p_top3": [0.99] * n,
            "reasons": ["+ revenue"] * n,
        }
    )


def _values(segments: dict[str, tuple[int, float]]) -> pd.DataFrame:
    """Customers' values: per segment, how many customers and each one's value."""
    rows = [(f"{s}{i}", s, v) for s, (n, v) in segments.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["customer_id", "segment", "value"])


def _cards(summary) -> dict:
    return {c.label: c for c in summary.cards}


def test_a_country_with_a_handful_of_customers_is_not_named_the_most_attractive():
    values = _values({"retail": (100, 10.0)})
    # the US and Canada retailer: Canada ranks first on 17 customers; two countries have no "top 3"
    two = _cards(
        segments_summary(
            ADDRESSING, values, DRAWS, 0.1, _ranking({"Canada": 17, "United States": 900}), None, "USD"
        )
    )
    assert two["Most attractive country"].value == "–"
    assert "too few customers to rank" in two["Most attractive country"].detail
    # the first well-supported country is named, with a top 3 only among four or more
    three = _ranking({"Netherlands": 9, "Germany": 95, "France": 87})
    card = _cards(segments_summary(ADDRESSING, values, DRAWS, 0.1, three, None, "EUR"))[
        "Most attractive country"
    ]
    assert card.value == "Germany" and "top 3" not in card.detail
    four = _ranking({"Netherlands": 9, "Germany": 95, "France": 87, "Spain": 31})
    summary = segments_summary(ADDRESSING, values, DRAWS, 0.1, four, None, "EUR")
    assert _cards(summary)["Most attractive country"].detail.endswith("chance to be in the top 3")
    assert "Germany leads the country ranking: + revenue" in summary.findings
    assert not any("Netherlands" in f for f in summary.findings)


def test_a_tiny_segment_is_not_named_the_most_valuable():
    values = _values({"collectors": (5, 10_000.0), "families": (400, 20.0), "business": (60, 100.0)})
    cards = _cards(segments_summary(ADDRESSING, values, DRAWS, 0.1, None, None, "EUR"))
    assert (
        cards["Most valuable segment"].value == "families"
    )  # 8,000 on 400 customers; 50,000 on 5 is not named
    only_one = _values({"collectors": (5, 10_000.0), "families": (400, 20.0)})
    assert "Most valuable segment" not in _cards(
        segments_summary(ADDRESSING, only_one, DRAWS, 0.1, None, None, "EUR")
    )


def test_value_without_costs_is_not_called_profit():
    values = _values({"a": (40, 10.0), "b": (40, 5.0)})
    no_costs = segments_summary(ADDRESSING, values, DRAWS, 0.1, None, None, "GBP", has_costs=False)
    labels = [c.label for c in no_costs.cards]
    assert "Expected net revenue from today's customers, next 12 months" in labels
    assert not any("profit" in c.label for c in no_costs.cards)
    assert no_costs.cards[0].detail.endswith("no costs of goods in the data")
    with_costs = segments_summary(ADDRESSING, values, DRAWS, 0.1, None, None, "GBP")
    assert with_costs.cards[0].label == "Expected profit from today's customers, next 12 months"


def test_a_lever_that_moves_nothing_is_not_named():
    total = pd.Series({"target": 1e6, "forecast_p50": 1e6, "forecast_p10": 0.9e6, "forecast_p90": 1.1e6,
                       "p_hit": 0.80, "p_hit_profit": 0.7})  # fmt: skip
    cols = ["scenario", "target", "forecast_p50", "p_hit", "profit_target", "profit_p50", "p_hit_profit"]
    flat = pd.DataFrame(
        [("goals as set", 1e6, 1e6, 0.800, 2e5, 2e5, 0.7), ("cost to serve -1 point", 1e6, 1e6, 0.803, 2e5, 2.1e5, 0.75),
         ("prices +3 %", 1e6, 1.01e6, 0.798, 2e5, 2.2e5, 0.8)], columns=cols)  # fmt: skip
    s = whatif_summary(total, flat, 2026, "EUR")
    lever = _cards(s)["Lever that helps most"]
    assert lever.value == "none alone" and "by a point or more" in lever.detail
    assert not any("cost to serve" in f or "prices" in f for f in s.findings)  # 80 % -> 80 % is no finding
    assert s.actions == [
        "Combine levers in the live what-if panel: none moves the chance to reach the target alone."
    ]


def test_growth_is_said_only_between_two_whole_windows(demo_workspace):
    from omnimodel import Workspace
    from omnimodel.profile.features import customer_profile

    ws = Workspace(demo_workspace)  # orders from 2023-01-01
    profile = customer_profile(ws).frame
    # the year before this window holds only the data's first nine days
    s = profile_summary(ws, profile, None, None, "2023-01-10", "2024-01-09", "EUR")
    card = next(c for c in s.cards if c.label.startswith("Net revenue"))
    assert card.detail == "no complete period of the same length before it to compare"
    assert not any("grew" in f or "fell" in f for f in s.findings)
    whole = profile_summary(ws, profile, None, None, "2024-01-01", "2024-12-31", "EUR")
    assert next(c for c in whole.cards if c.label == "Net revenue 2024").detail.endswith("on 2023")
    first, through = pd.Timestamp("2023-01-01"), pd.Timestamp("2025-12-31")
    assert evidence.complete([("2024-01-01", "2024-12-31"), ("2023-01-01", "2023-12-31")], first, through)
    assert not evidence.complete(
        [("2025-01-01", "2026-01-31")], first, through
    )  # a window past the data's end


def test_no_chance_is_stated_from_less_than_two_years_of_history():
    """The trap: 12 months rising from 58 k to 133 k a month forecast 1.71 M for the next year, "above 99 %"
    to reach a 1.00 M target, where January to May brought 459 k. One season cannot tell a trend from the
    season; the summaries state no chance from it, and say why first."""
    from omnimodel.reporting.headlines import targets_summary
    from omnimodel.targets.scenario import Outcome
    from tests.reporting.test_summary import outcome_table

    rows = [
        ("total", None, None, 0.953e6, 1.0e6, 1.60e6, 1.71e6, 1.77e6, 0.999, 0.39e6, 0.999),
        ("channel", "app", None, 0.06e6, 0.069e6, 0.1e6, 0.113e6, 0.12e6, 0.999, 0.02e6, 0.999),
        ("region", None, "North", 0.953e6, 1.0e6, 1.60e6, 1.71e6, 1.77e6, 0.999, 0.39e6, 0.999),
    ]
    table = outcome_table(rows)
    outcome = Outcome(table, np.zeros((3, 1)), np.zeros((3, 1)))
    short = targets_summary(outcome, 2025, "EUR", history=(12, 12))
    chances = [c for c in short.cards if c.label.startswith("Chance")]
    assert [c.value for c in chances] == ["not stated", "not stated"]
    assert short.findings[0].startswith("The forecasts rest on 12 months of history, less than two years")
    assert not any(
        "99 %" in text for text in [*short.findings, *short.actions, *(c.detail for c in short.cards)]
    )
    enough = targets_summary(outcome, 2025, "EUR", history=(24, 12))
    assert [c.value for c in enough.cards if c.label.startswith("Chance")] == ["above 99 %", "above 99 %"]
    total = table.iloc[0]
    comparison = pd.DataFrame(
        [
            ("goals as set", 1e6, 1.71e6, 0.999, 2e5, 2e5, 0.99),
            ("prices +3 %", 1e6, 1.75e6, 0.999, 2e5, 2.2e5, 0.99),
        ],
        columns=[
            "scenario",
            "target",
            "forecast_p50",
            "p_hit",
            "profit_target",
            "profit_p50",
            "p_hit_profit",
        ],
    )
    whatif = whatif_summary(total, comparison, 2025, "EUR", history=(12, 12))
    assert _cards(whatif)["Chance to reach the revenue target"].value == "not stated"
    assert whatif.findings[0].startswith("The forecasts rest on 12 months")
