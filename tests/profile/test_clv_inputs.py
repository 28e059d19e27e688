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
