"""Shared fixtures: a small seeded demo company, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
# One PyTensor compile cache for every test process and kernel (see ../shared/ENVIRONMENT.md).
os.environ.setdefault("PYTENSOR_FLAGS", f"base_compiledir={ROOT / '.cache' / 'pytensor'}")


@pytest.fixture(scope="session")
def demo_small():
    """(tables, truth) of the small demo company, seed 42. Treat as read-only: copy before changing."""
    from omnimodel.data import demo

    return demo.generate("small", seed=42)


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory, demo_small):
    """A small demo workspace file."""
    from omnimodel.data import demo

    return demo.build(tmp_path_factory.mktemp("ws") / "demo.duckdb", size="small", seed=42)


@pytest.fixture(scope="session")
def online_retail_workspace(tmp_path_factory):
    """UCI Online Retail (real) ingested into a workspace file."""
    from omnimodel.ingest.load import ingest

    path = tmp_path_factory.mktemp("retail") / "online_retail.duckdb"
    ingest(SHARED_DATA / "online_retail", "online_retail", path)
    return path
