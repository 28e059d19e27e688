"""The workbench on Spark: a Spark Connect server started here on 127.0.0.1 as its own process (as a cluster's
would run), the demo company written into it as Spark tables, every analysis giving what it gives on DuckDB,
and the five reports run against it through reports-spark.yaml, as a user would configure it."""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data.queries import QUERY_SET
from tests.spark_cluster import spark_connect_server

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17"),
]


@pytest.fixture(scope="module")
def spark_url(tmp_path_factory, demo_small):
    pytest.importorskip("pyspark.sql.connect.session", reason="needs the spark extra (pyspark[connect])")
    from omnimodel.data import demo

    with spark_connect_server(tmp_path_factory.mktemp("spark")) as url:
        demo.build(url, size="small", seed=42)  # the same tables as the session's small DuckDB demo
        yield url


@pytest.fixture(scope="module")
def spark_ws(spark_url):
    with Workspace(spark_url) as ws:
        yield ws


def _canonical(frame: pd.DataFrame, sort: bool = True) -> pd.DataFrame:
    """Comparable types whatever the engine returned; rows sorted by every column unless ``sort`` is False."""
    out = frame.reset_index(drop=not isinstance(frame.index, pd.MultiIndex) and frame.index.name is None)
    for col in out.columns:
        sample = out[col].dropna()
        if pd.api.types.is_datetime64_any_dtype(out[col]) or (
            len(sample) and hasattr(sample.iloc[0], "isoformat")
        ):
            out[col] = pd.to_datetime(out[col], utc=True).dt.tz_localize(None)
        elif pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].astype(float)
        elif pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(float)
        else:
            out[col] = out[col].astype(object).where(out[col].notna(), None).astype(str)
    out.columns = [str(c) for c in out.columns]
    return out.sort_values(list(out.columns)).reset_index(drop=True) if sort else out.reset_index(drop=True)


def _profile(ws):
    from omnimodel.profile.features import customer_profile

    return customer_profile(ws).frame


def _transitions(ws):
    from omnimodel.profile.channels import transition_counts

    return transition_counts(ws)


def _channel_mix(ws):
    from omnimodel.profile.channels import channel_mix

    return channel_mix(ws)


def _baskets(ws):
    from omnimodel.profile.baskets import association_rules

    return association_rules(ws)


def _clv_summary(ws):
    from omnimodel.profile.clv.inputs import purchase_summary

    return pd.DataFrame(purchase_summary(ws, "2025-06-30", "2025-12-30"))


def _segments(ws):
    from omnimodel.strategy.segments import segment_matrix

    return segment_matrix(ws)


def _countries(ws):
    from omnimodel.strategy.countries import country_performance

    return country_performance(ws)


def _assortment(ws):
    from omnimodel.strategy.assortment import breadth_and_depth, online_offline

    mixed = online_offline(ws)
    return pd.concat([breadth_and_depth(ws), mixed if isinstance(mixed, pd.DataFrame) else pd.DataFrame()])


def _snapshot(ws):
    from omnimodel.funnel.snapshot import funnel_for, pipeline_snapshot

    snap = pipeline_snapshot(ws, funnel_for(ws), "2025-09-30")
    return pd.concat(
        [
            snap.deals.assign(part="deals"),
            snap.transitions.assign(part="transitions"),
            snap.stays.assign(part="stays"),
        ]
    )


def _pipeline_metrics(ws):
    from omnimodel.funnel import metrics
    from omnimodel.funnel.snapshot import funnel_for, pipeline_snapshot

    snap = pipeline_snapshot(ws, funnel_for(ws), "2025-09-30")
    earlier = snap.rewind("2025-06-30")
    parts = {
        "conversion": metrics.conversion(snap, by="segment"),
        "velocity": metrics.velocity(snap),
        "slippage": metrics.slippage(snap),
        "waterfall": metrics.waterfall(earlier, snap),
    }
    return pd.concat([f.assign(part=k) for k, f in parts.items()])


def _series(ws):
    from omnimodel.forecasting.series import workspace_revenue

    h = workspace_revenue(ws, ("channel", "region"), "M")
    return h.bottom.set_axis([" / ".join(map(str, k)) for k in h.keys.itertuples(index=False)], axis=1)


def _unit_economics(ws):
    from omnimodel.targets.economics import cell_economics

    return cell_economics(ws, 2025)


def _query(query, ws):
    return query(ws).execute()


ANALYSES = {
    "customer profile": _profile,
    "channel transitions": _transitions,
    "channel mix": _channel_mix,
    "basket rules": _baskets,
    "lifetime-value purchase summary": _clv_summary,
    "segment matrix": _segments,
    "countries": _countries,
    "assortment": _assortment,
    "pipeline snapshot": _snapshot,
    "pipeline metrics": _pipeline_metrics,
    "revenue series": _series,
    "unit economics": _unit_economics,
    **{f"query {name}": partial(_query, q) for name, q in QUERY_SET.items()},
}


@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_analysis_gives_the_same_result_on_spark_as_on_duckdb(name, demo_workspace, spark_ws):
    with Workspace(demo_workspace) as duck_ws:
        duck = ANALYSES[name](duck_ws)
    spark = ANALYSES[name](spark_ws)
    assert len(duck) > 0
    same = {"check_exact": False, "rtol": 1e-9, "atol": 1e-9, "check_dtype": False}
    pd.testing.assert_frame_equal(_canonical(duck), _canonical(spark), **same)  # the same rows and numbers
    if not name.startswith(
        "query "
    ):  # an analysis hands its rows over in the same order (a bare query need not)
        pd.testing.assert_frame_equal(_canonical(duck, False), _canonical(spark, False), **same)


def test_the_five_reports_run_on_spark_from_reports_spark_yaml(spark_url, tmp_path):
    """The shipped reports-spark.yaml, pointed at this server, run by `omnimodel report` as a user would."""
    from omnimodel.cli import main

    config = (ROOT / "reports-spark.yaml").read_text()
    assert "sc://127.0.0.1:15002" in config  # the example a user edits
    config = config.replace("sc://127.0.0.1:15002", spark_url).replace(
        "output: reports-spark", f"output: {tmp_path / 'reports'}"
    )
    (tmp_path / "reports-spark.yaml").write_text(config)
    shutil.copy(ROOT / "goals.yaml", tmp_path)  # the project's goals, beside its report config
    assert main(["report", "--config", str(tmp_path / "reports-spark.yaml"), "--jobs", "1"]) == 0
    run = (tmp_path / "reports" / "latest").resolve()
    import json

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "OK" and len(manifest["reports"]) == 5
    assert manifest["workspace"]["path"].startswith(spark_url)
    for report in manifest["reports"]:
        assert report["status"] == "OK", report
        page = (run / report["html"]).read_text()
        assert len(page) > 50_000 and "Warning" not in page and "Traceback" not in page, report["html"]


def test_a_client_project_can_point_at_the_spark_workspace(spark_url, tmp_path):
    import yaml

    from omnimodel.cli import main

    assert main(["init", str(tmp_path / "acme"), "--workspace", spark_url]) == 0
    config = yaml.safe_load((tmp_path / "acme" / "reports.yaml").read_text())
    assert config["workspace"] == spark_url
    goals = (tmp_path / "acme" / "goals.yaml").read_text()
    assert "webshop" in goals and "Central" in goals  # the engine's own channels and regions


def test_a_clients_exports_are_ingested_into_spark_and_forecast_there(
    spark_url, demo_small, tmp_path, capsys
):
    """`omnimodel ingest` of canonical CSV exports (the small demo with the client's channel names) into a
    database of its own on the server, then a pipeline forecast from the CLI on it."""
    import json

    from omnimodel.cli import main
    from tests.reporting.test_own_data import CHANNELS, _export

    exports = _export(tmp_path / "exports", demo_small[0], with_pipeline=True)
    where = f"{spark_url}/;database=client"
    assert main(["ingest", str(exports), "--adapter", "canonical", "--workspace", where]) == 0
    out = capsys.readouterr().out
    assert "Workspace written" in out
    assert "read and checked in the engine (spark)" in out  # Spark read the files itself
    in_memory = tmp_path / "client.duckdb"
    args = ["ingest", str(exports), "--adapter", "canonical", "--workspace", str(in_memory), "--in-memory"]
    assert main(args) == 0
    capsys.readouterr()
    with Workspace(where) as ws, Workspace(in_memory) as mem:
        assert ws.database == "client"
        assert sorted(ws.tables()) == sorted(mem.tables())
        for name in mem.tables():  # every table as the in-memory route typed it, row for row
            got, want = ws.table(name).to_pandas(), mem.table(name).to_pandas()
            pd.testing.assert_frame_equal(
                _canonical(got[want.columns]), _canonical(want), check_dtype=False, obj=name
            )
        assert set(CHANNELS.values()) & set(ws.channels())  # the client's own channel names
    args = ["pipeline", "forecast", "--workspace", where, "--draws", "200", "--ledger", "none", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 < out["p10"] <= out["p50"] <= out["p90"]


def test_malformed_exports_give_the_same_problems_and_quarantine_on_spark(spark_url, tmp_path, monkeypatch):
    """Many problems at once (types, dates, zones, ranges, ids, keys, references, stages, spellings,
    formulas): Spark's queries find what the in-memory validation finds, count for count, with the same
    example rows; quarantine sets the same rows aside and loads the rest."""
    from omnimodel.exceptions import ValidationError
    from omnimodel.ingest.load import ingest, validate_source
    from tests.data.test_engine_checks import comparable, dirty_exports

    src = dirty_exports(tmp_path / "src")
    where = f"{spark_url}/;database=dirty"
    with pytest.raises(ValidationError) as raised:
        ingest(src, "canonical", where, in_engine=True)
    want = validate_source(src, "canonical").problems
    assert len(want) >= 15
    assert comparable(raised.value.problems) == comparable(want)

    monkeypatch.chdir(tmp_path)  # an engine's rejected rows go to the working folder
    report = ingest(src, "canonical", where, in_engine=True, quarantine=True)
    memory = ingest(src, "canonical", tmp_path / "m.duckdb", in_engine=False, quarantine=True)
    assert report.rejected_rows == memory.rejected_rows > 0
    assert report.rows == memory.rows
    got = pd.read_csv(report.rejected_file, dtype=str, keep_default_na=False)
    want_rows = pd.read_csv(memory.rejected_file, dtype=str, keep_default_na=False)[got.columns]
    assert sorted(map(tuple, got.to_numpy())) == sorted(map(tuple, want_rows.to_numpy()))

    from omnimodel.exceptions import OmnimodelError
    from tests.data.test_engine_checks import ragged_after_the_first_megabyte

    with pytest.raises(OmnimodelError, match="rows with the wrong number of fields"):
        ingest(
            ragged_after_the_first_megabyte(tmp_path / "ragged"), "canonical", f"{spark_url}/;database=ragged"
        )


def test_a_mapped_export_reads_alike_on_spark(spark_url, demo_small, tmp_path):
    """The German retailer's exports through their mapping (Latin-1 text, semicolons, keys of two columns,
    day-first dates, decimal commas, country names): Spark's tables equal the in-memory route's. In cp1252,
    which Spark does not read, the same exports go the in-memory way by themselves."""
    from omnimodel.ingest.load import ingest
    from tests.data.test_engine_checks import csv_only_client_export

    src = csv_only_client_export(demo_small[0], tmp_path / "exports")
    where = f"{spark_url}/;database=mapped"
    report = ingest(src, "canonical", where)
    assert report.route == "in the engine (spark)"
    ingest(src, "canonical", tmp_path / "mem.duckdb", in_engine=False)
    with Workspace(where) as ws, Workspace(tmp_path / "mem.duckdb") as mem:
        assert sorted(ws.tables()) == sorted(mem.tables())
        for name in mem.tables():
            got, want = ws.table(name).to_pandas(), mem.table(name).to_pandas()
            pd.testing.assert_frame_equal(
                _canonical(got[want.columns]), _canonical(want), check_dtype=False, obj=name
            )
        rows = {name: int(mem.table(name).count().execute()) for name in mem.tables()}
    windows = csv_only_client_export(demo_small[0], tmp_path / "cp1252", encoding="cp1252")
    report = ingest(windows, "canonical", f"{spark_url}/;database=mapped_cp1252")
    assert report.route == "in memory"
    assert report.rows == rows
