"""A shop whose customers have no segment and no region (both optional): the analyses by them still run and
say that the data has none, instead of failing with an engine error."""

import pytest

from omnimodel.data.queries import NOT_IN_DATA
from omnimodel.data.workspace import Workspace, write_workspace
from omnimodel.profile import baskets
from omnimodel.strategy import countries, segments


@pytest.fixture(scope="module")
def no_segments(tmp_path_factory, demo_small):
    tables, _ = demo_small
    tables = {k: v for k, v in tables.items() if k not in ("opportunities", "stage_events")}
    tables["customers"] = tables["customers"].drop(columns=["segment", "region"])
    return write_workspace(tmp_path_factory.mktemp("shop") / "shop.duckdb", tables, {"adapter": "canonical"})


def test_analyses_by_segment_and_region_run_without_them(no_segments, demo_small):
    tables, _ = demo_small
    with Workspace(no_segments) as ws:
        matrix = segments.segment_matrix(ws)
        rules = baskets.association_rules(ws, by="segment")
        performance = countries.country_performance(ws)
    assert set(matrix["segment"]) == {NOT_IN_DATA} and set(matrix["region"]) == {NOT_IN_DATA}
    assert set(rules["segment"]) == {NOT_IN_DATA}
    assert set(performance["region"]) == {NOT_IN_DATA}
    assert performance["customers"].sum() == tables["orders"]["customer_id"].nunique()
    addressing = segments.how_to_address(matrix, rules)
    assert addressing["segment"].tolist() == [NOT_IN_DATA]
    assert addressing["revenue"].iloc[0] == pytest.approx(matrix["revenue"].sum())
