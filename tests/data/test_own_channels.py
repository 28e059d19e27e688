"""A user's own channel names are accepted as they are; one channel written two ways is an error."""

import pandas as pd

from omnimodel import Workspace
from omnimodel.funnel import funnel_for
from omnimodel.ingest import validation
from omnimodel.ingest.load import ingest
from omnimodel.notice import Skipped
from omnimodel.profile import channels
from omnimodel.strategy import assortment

RENAMED = {"webshop": "Online-Shop", "stores": "Filiale", "app": "App", "marketplace": "Amazon",
           "call_centre": "Telefon", "field_sales": "Außendienst"}  # fmt: skip


def _export(tmp_path, tables, skip=(), funnel=None):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, frame in tables.items():
        if name in skip:
            continue
        frame = frame.copy()
        for column in ("channel", "acquisition_channel", "source_channel"):
            if column in frame:
                frame[column] = frame[column].replace(RENAMED)
        frame.to_csv(folder / f"{name}.csv", index=False)
    if funnel:
        (folder / "funnel.yaml").write_text(funnel)
    return folder


def test_own_channel_names_load_and_the_analyses_use_them(tmp_path, demo_small):
    tables, _ = demo_small
    folder = _export(
        tmp_path, tables, funnel="name: Client pipeline\nstages: [lead, qualified, proposal, negotiation]\n"
    )
    ingest(folder, "canonical", tmp_path / "ws.duckdb")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        assert set(RENAMED.values()) <= set(ws.channels())
        matrix = channels.channel_transition_matrix(ws)
        assert set(matrix.index) == set(RENAMED.values()) and matrix.notna().any().any()
        split = assortment.online_offline(ws)  # kinds come from the exported channels table
        assert isinstance(split, pd.DataFrame) and split["revenue_online"].sum() > 0
        funnel = funnel_for(ws)  # the funnel.yaml given at ingest, stored in the workspace
        assert funnel.name == "Client pipeline" and funnel.stage_names[0] == "lead"


def test_without_channel_kinds_the_online_offline_section_says_so(tmp_path, demo_small):
    tables, _ = demo_small
    ingest(_export(tmp_path, tables, skip=("channels",)), "canonical", tmp_path / "ws.duckdb")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        out = assortment.online_offline(ws)
        assert isinstance(out, Skipped) and "channels table" in out._repr_html_()
        assert not assortment.breadth_and_depth(ws).empty  # everything else runs


def test_one_channel_written_two_ways_is_an_error_naming_both():
    orders = pd.DataFrame(
        {
            "order_id": ["a", "b", "c"],
            "customer_id": ["1", "1", "2"],
            "order_date": ["2024-01-01"] * 3,
            "channel": ["Webshop", "webshop", "Filiale"],
        }
    )
    problems = validation.validate({"orders": orders})
    clash = [p for p in problems if "more than one way" in p.message]
    assert clash and clash[0].column == "channel" and clash[0].count == 2
    assert "'Webshop' / 'webshop'" in clash[0].message and clash[0].fix


def test_a_channel_missing_from_the_declared_channels_is_found():
    orders = pd.DataFrame(
        {
            "order_id": ["a", "b"],
            "customer_id": ["1", "2"],
            "order_date": ["2024-01-01"] * 2,
            "channel": ["Shop", "Amazon"],
        }
    )
    declared = pd.DataFrame({"channel": ["Shop"], "kind": ["offline"]})
    problems = validation.validate({"orders": orders, "channels": declared})
    assert any(p.table == "orders" and "channels.channel" in p.message for p in problems)


def test_the_data_model_marks_only_personal_data_as_personal():
    from omnimodel.data.schema import TABLES

    assert TABLES["customers"].column("name").personal and TABLES["customers"].column("email").personal
    assert not TABLES["products"].column("name").personal  # a product's name is no one's personal data
