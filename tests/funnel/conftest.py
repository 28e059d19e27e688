"""A default-size demo workspace (5,000 opportunities) for the funnel model tests, built once per session."""

import pytest


@pytest.fixture(scope="session")
def demo_default_workspace(tmp_path_factory):
    from omnimodel.data import demo

    return demo.build(tmp_path_factory.mktemp("funnel") / "demo.duckdb", size="default", seed=42)


@pytest.fixture(scope="session")
def demo_snapshot(demo_default_workspace):
    from omnimodel import Workspace
    from omnimodel.funnel import pipeline_snapshot
    from omnimodel.funnel.definition import load_funnel

    with Workspace(demo_default_workspace) as ws:
        return pipeline_snapshot(ws, load_funnel("demo"))


@pytest.fixture(scope="session")
def demo_model(demo_snapshot):
    from omnimodel.funnel.fits import fit_pipeline

    return fit_pipeline(demo_snapshot, sampler_config={"draws": 1000, "tune": 1000}, random_seed=7)


@pytest.fixture(scope="session")
def june_fit(demo_snapshot, tmp_path_factory):
    """(model, snapshot) of the default demo as of 2025-06-30: a small fit shared by the forecast-call tests."""
    from omnimodel.funnel.fits import fitted_model

    snap = demo_snapshot.rewind("2025-06-30")
    cache = tmp_path_factory.mktemp("june-fit")
    return fitted_model(
        snap, sampler_config={"draws": 300, "tune": 300}, random_seed=1, cache_dir=cache
    ), snap
