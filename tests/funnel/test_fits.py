"""Pipeline fits kept on disk: the same snapshot and settings load the earlier fit; anything else fits anew."""

from __future__ import annotations

import numpy as np
import pytest

from omnimodel.funnel.fits import fitted_model, note, snapshot_key
from omnimodel.funnel.forecast import forecast_bookings

pytestmark = pytest.mark.slow
SAMPLER = {"draws": 200, "tune": 200}


def test_the_same_snapshot_and_settings_load_the_earlier_fit(demo_snapshot, tmp_path):
    first = fitted_model(demo_snapshot, sampler_config=SAMPLER, random_seed=3, cache_dir=tmp_path)
    again = fitted_model(demo_snapshot, sampler_config=SAMPLER, random_seed=3, cache_dir=tmp_path)
    assert not first.reused_ and again.reused_ and "loaded" in note(again) and "fitted" in note(first)
    assert again.diagnostics_ == first.diagnostics_
    period = "2026Q1"
    a = forecast_bookings(first, demo_snapshot, period, random_seed=5).total
    b = forecast_bookings(again, demo_snapshot, period, random_seed=5).total
    np.testing.assert_array_equal(a, b)  # the loaded fit forecasts exactly as the fitted one
    # another seed, other settings or refit=True: a new fit
    assert not fitted_model(demo_snapshot, sampler_config=SAMPLER, random_seed=4, cache_dir=tmp_path).reused_
    other = {"draws": 200, "tune": 300}
    assert not fitted_model(demo_snapshot, sampler_config=other, random_seed=3, cache_dir=tmp_path).reused_
    refit = fitted_model(demo_snapshot, sampler_config=SAMPLER, random_seed=3, cache_dir=tmp_path, refit=True)
    assert not refit.reused_
    assert len(list(tmp_path.glob("*.nc"))) == 3


def test_the_key_is_what_the_snapshot_knew(demo_default_workspace, demo_snapshot):
    """A past snapshot keeps its key when later data arrive: built from the workspace at a date, or rewound from
    the latest snapshot (which knows every deal's later outcome), it is the same; any other date or a changed
    deal gives another key."""
    from omnimodel import Workspace
    from omnimodel.funnel import pipeline_snapshot

    earlier = demo_snapshot.rewind("2025-06-30")
    with Workspace(demo_default_workspace) as ws:
        built = pipeline_snapshot(ws, demo_snapshot.funnel, "2025-06-30")
    assert snapshot_key(earlier) == snapshot_key(built)
    assert (
        built.raw_deals["final_outcome"]
        != built.deals.set_index("opportunity_id")
        .loc[built.raw_deals["opportunity_id"], "outcome"]
        .to_numpy()
    ).any()
    assert snapshot_key(earlier) != snapshot_key(demo_snapshot.rewind("2025-07-31"))
    assert snapshot_key(earlier) != snapshot_key(demo_snapshot)
    changed = demo_snapshot.rewind("2025-06-30")
    changed.raw_deals = changed.raw_deals.copy()
    changed.raw_deals.loc[changed.raw_deals.index[0], "amount"] += 1.0
    assert snapshot_key(changed) != snapshot_key(earlier)
