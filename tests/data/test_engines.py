"""The same Ibis queries give identical results on DuckDB and on PySpark in local mode."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data.queries import QUERY_SET
from omnimodel.data.workspace import copy_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs Java"),
]


@pytest.fixture(scope="module")
def spark_workspace(demo_workspace, tmp_path_factory):
    pyspark = pytest.importorskip("pyspark")
    import ibis

    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # all Spark traffic stays on loopback
    session = (
        pyspark.sql.SparkSession.builder.master("local[2]")
        .appName("omnimodel-tests")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    with Workspace(demo_workspace) as ws:
        spark_ws = copy_workspace(ws, ibis.pyspark.connect(session))
    yield spark_ws
    session.stop()


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Same rows in the same order with comparable types, whatever the engine returned."""
    out = frame.copy()
    for col in out.columns:
        sample = out[col].dropna()
        if pd.api.types.is_datetime64_any_dtype(out[col]) or (
            len(sample) and hasattr(sample.iloc[0], "isoformat")
        ):
            out[col] = pd.to_datetime(out[col], utc=True).dt.tz_localize(None)
        elif pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype(float)
    return out.sort_values(list(out.columns)).reset_index(drop=True)


@pytest.mark.parametrize("name", list(QUERY_SET))
def test_query_gives_the_same_result_on_duckdb_and_spark(name, demo_workspace, spark_workspace):
    with Workspace(demo_workspace) as ws:
        duck = _canonical(QUERY_SET[name](ws).execute())
    spark = _canonical(QUERY_SET[name](spark_workspace).execute())
    assert len(duck) > 0
    pd.testing.assert_frame_equal(duck, spark, check_exact=False, rtol=1e-9, check_dtype=False)
