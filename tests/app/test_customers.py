"""The customer review: one object behind notebooks 01 and 02."""

import pytest

from omnimodel.notice import ReportStopped


@pytest.fixture(scope="module")
def crm_only(tmp_path_factory, demo_small):
    """The small demo without orders: a CRM export of accounts and deals."""
    from omnimodel.data.workspace import write_workspace

    tables, truth = demo_small
    kept = {
        k: v for k, v in tables.items() if k in ("customers", "products", "opportunities", "stage_events")
    }
    return write_workspace(
        tmp_path_factory.mktemp("crm") / "crm.duckdb", kept, {"source": "test", "adapter": "demo"}
    )


def test_without_orders_the_card_shows_and_the_rest_says_why(crm_only):
    from omnimodel.app import profile_sections as show
    from omnimodel.app.customers import CustomerReview

    review = CustomerReview(crm_only)
    assert not review.has_orders and review.clv is None and review.values is None
    assert show.clv_diagnostics(review).text() == "No lifetime-value model: the workspace has no orders."
    assert show.touchpoint_moves(review).text() == "No touchpoints in this workspace: skipped."
    assert len(show.customer_card(review).parts) == 1
    with pytest.raises(ReportStopped, match="No orders in this workspace"):
        show.require_orders(review)


def test_a_segment_that_matches_nothing_stops_before_anything_runs(demo_workspace):
    from omnimodel.app.customers import CustomerReview
    from omnimodel.exceptions import ParameterError

    with pytest.raises(ParameterError, match="familes"):
        CustomerReview(demo_workspace, segment="familes")
