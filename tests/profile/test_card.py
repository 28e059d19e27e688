"""The customer card lists exactly one customer's records from the tables, and the customer's view holds none
of the company's internal scores."""

from __future__ import annotations

import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.exceptions import OmnimodelError
from omnimodel.profile.card import HIDDEN, card_customer, customer_card
from omnimodel.profile.features import customer_profile
from tests.conftest import SHARED_DATA


@pytest.fixture(scope="module")
def card(demo_workspace, demo_small):
    tables, _ = demo_small
    with Workspace(demo_workspace) as ws:
        profile = customer_profile(ws).frame
        cid = card_customer(profile)
        values = pd.DataFrame(  # a stand-in for the CLV model's output: the card only shows it
            {"customer_id": [cid], "value": [-12.5], "value_p05": [-20.0], "value_p95": [-5.0],
             "p_alive": [0.8], "p_serial_returner": [0.97]}
        )  # fmt: skip
        return customer_card(ws, cid, profile, values, shown=100_000), tables, profile


def test_the_card_lists_exactly_the_customers_records(card):
    c, tables, _ = card
    orders = tables["orders"][tables["orders"]["customer_id"] == c.customer_id]
    assert set(c.lists["orders"]["order_id"]) == set(orders["order_id"]) and len(orders) > 3
    returns = tables["returns"][tables["returns"]["order_id"].isin(orders["order_id"])]
    assert set(c.lists["returns"]["return_id"]) == set(returns["return_id"]) and len(returns)
    parcels = tables["shipments"][tables["shipments"]["order_id"].isin(orders["order_id"])]
    assert set(c.lists["parcels"]["shipment_id"]) == set(parcels["shipment_id"])
    assert set(c.lists["parcels"]["status"]) <= set(parcels["status"])
    for table, key, title in (("invoices", "invoice_id", "invoices"), ("dunning_notices", "notice_id", "dunning notices"),
                              ("complaints", "complaint_id", "complaints")):  # fmt: skip
        mine = tables[table][tables[table]["customer_id"] == c.customer_id]
        assert set(c.lists[title][key]) == set(mine[key]), table
    wished = tables["wishlist"][tables["wishlist"]["customer_id"] == c.customer_id]
    assert set(c.lists["wish list"]["product_id"]) == set(wished["product_id"])
    # an order's amount is its lines' revenue; a returned line's refund is what was paid for it
    lines = tables["order_lines"][tables["order_lines"]["order_id"].isin(orders["order_id"])]
    revenue = (
        (lines["quantity"] * lines["unit_price"] * (1 - lines["discount"])).groupby(lines["order_id"]).sum()
    )
    got = c.lists["orders"].set_index("order_id")["amount"]
    pd.testing.assert_series_equal(got.sort_index(), revenue.sort_index(), check_names=False, rtol=1e-9)
    history = c.lists["channel history (orders)"]
    assert history.drop(columns="year").to_numpy().sum() == len(orders)


def test_the_customer_view_holds_no_internal_scores(card):
    c, _, _ = card
    company, customer = c.company_view(), c.customer_view()
    assert "internal scores" in company and "internal scores" not in customer
    fields = set(customer["account"]["field"])
    assert not fields & {"segment", "region", "is business"}
    assert "channel history (touchpoints)" in company and "channel history (touchpoints)" not in customer
    for rows in customer.values():
        assert not set(rows.columns) & {"cost", "margin", "owner"}
    shown = " ".join(str(v) for rows in customer.values() for v in rows.to_numpy().ravel())
    assert not set(c.scores) & fields
    for score in c.scores.values():  # the scores in words (a channel name may well appear in the lists)
        assert not (("%" in score or "range" in score) and score in shown), score
    assert "-12" in c.scores["lifetime value, next 12 months (profit)"]  # the company sees a loss as a loss


def test_personal_data_stays_hidden_unless_allowed(card, demo_workspace):
    c, tables, profile = card
    me = tables["customers"].set_index("customer_id").loc[c.customer_id]
    page = c._repr_html_()
    assert me["email"] not in page and HIDDEN in page
    assert not any(str(t) in page for t in c.lists["parcels"]["tracking_number"] if t != HIDDEN)
    with Workspace(demo_workspace) as ws:
        shown = customer_card(ws, c.customer_id, profile, allow_personal=True)
    assert me["email"] in shown._repr_html_()


def test_an_unknown_customer_is_a_clear_error(demo_workspace):
    with Workspace(demo_workspace) as ws, pytest.raises(OmnimodelError, match="no customer 'NOPE'") as err:
        customer_card(ws, "NOPE")
    assert err.value.table == "customers" and "customer_id" in str(err.value.fix)


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not beside the checkout")
def test_a_crm_accounts_card_lists_its_deals_and_report_01_stops_after_it(tmp_path):
    """Maven's CRM export has accounts and deals but no orders: the card shows the account's deals (company
    only), and report 01 shows the card, then says in one line what the rest needs."""
    import yaml

    from omnimodel.ingest.load import ingest
    from omnimodel.reporting.runner import run_reports
    from omnimodel.reporting.suite import load_report_suite

    path = tmp_path / "maven.duckdb"
    ingest(SHARED_DATA / "maven_crm", "maven_crm", path)
    with Workspace(path) as ws:
        profile = customer_profile(ws).frame
        cid = card_customer(profile, ws)
        c = customer_card(ws, cid, profile, shown=100_000)
        deals = ws.table("opportunities").execute()
    mine = deals[deals["account_id"] == cid]
    assert len(mine) == deals["account_id"].value_counts().max()  # the account with the most deals
    assert set(c.lists["deals"]["opportunity_id"]) == set(mine["opportunity_id"])
    assert "deals" not in c.customer_view()
    won, lost = (mine["outcome"] == "won").sum(), (mine["outcome"] == "lost").sum()
    assert c.scores["win rate of its closed deals"] == f"{won / (won + lost):.0%}".replace("%", " %")
    config = tmp_path / "reports.yaml"
    config.write_text(yaml.safe_dump({"workspace": str(path), "output": str(tmp_path / "reports"),
                                      "notebooks": [{"notebook": "01_customer_profile", "parameters": {"goals": None}}]}))  # fmt: skip
    result = run_reports(load_report_suite(config))
    assert result.ok
    page = (result.run_dir / "01_customer_profile.html").read_text()
    assert "What the company sees" in page and cid in page and "Deals" in page
    assert "No orders in this workspace" in page and "Traceback" not in page
