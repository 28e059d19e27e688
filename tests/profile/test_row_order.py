"""The customer profile depends on what the data says, never on the order its rows were exported in."""

import numpy as np
import pandas as pd
import pytest

from omnimodel.data.workspace import Workspace, write_workspace
from omnimodel.profile.features import customer_profile

pytestmark = pytest.mark.slow


def test_the_profile_is_the_same_for_shuffled_exports(tmp_path, demo_small):
    tables, _ = demo_small
    rng = np.random.default_rng(11)
    shuffled = {
        name: frame.sample(frac=1, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
        for name, frame in tables.items()
    }
    assert not shuffled["orders"]["order_id"].equals(tables["orders"]["order_id"])
    profiles = []
    for name, data in (("given", tables), ("shuffled", shuffled)):
        with Workspace(write_workspace(tmp_path / f"{name}.duckdb", data, {"adapter": "demo"})) as ws:
            frame = customer_profile(ws).frame
        profiles.append(frame.set_index("customer_id").sort_index().sort_index(axis=1))
    given, other = profiles
    assert len(given) == len(tables["customers"]) and given["orders"].sum() == len(tables["orders"])
    pd.testing.assert_frame_equal(given, other, check_exact=False, rtol=1e-12)
