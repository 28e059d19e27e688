"""The CLV input works on whatever customer columns the data has (segments are optional in the model)."""

from omnimodel import Workspace
from omnimodel.data.workspace import write_workspace
from omnimodel.profile.clv import purchase_summary


def test_without_segments_everybody_is_one_group(tmp_path, demo_small):
    tables, _ = demo_small
    tables = {**tables, "customers": tables["customers"].drop(columns=["segment"])}
    path = write_workspace(tmp_path / "noseg.duckdb", tables, {"adapter": "canonical"})
    with Workspace(path) as ws:
        summary = purchase_summary(ws, "2024-12-31", "2025-12-31")
    assert summary["segment"].unique().tolist() == ["all customers"] and len(summary) > 500
    assert (summary["x"] >= 0).all() and summary["holdout_purchases"].notna().all()


def test_a_segments_values_read_as_median_and_middle_80_percent():
    import pandas as pd

    from omnimodel.profile.clv.tables import spread_by_group

    values = pd.DataFrame({"segment": ["a"] * 11 + ["b"] * 3, "value": [*range(0, 110, 10), 5.0, 5.0, 5.0]})
    out = spread_by_group(values, ["value"]).set_index("segment")
    assert out.loc["a", "customers"] == 11 and out.loc["a", "value_median"] == 50
    assert (out.loc["a", "value_p10"], out.loc["a", "value_p90"]) == (10, 90)  # linear quantiles of 0..100
    assert out.loc["b", ["value_median", "value_p10", "value_p90"]].tolist() == [5.0, 5.0, 5.0]
