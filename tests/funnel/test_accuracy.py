"""How good the recorded forecasts were: scores agree with closed forms, and forecasts recorded before a
period closed are scored against what it booked, by days ahead."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from omnimodel.cli import main
from omnimodel.funnel import accuracy, ledger
from omnimodel.funnel.fits import fitted_model
from omnimodel.funnel.forecast import booked_in, forecast_bookings

PERIOD = "2025Q3"
DATES = ("2025-06-30", "2025-08-15", "2025-09-29")


@pytest.mark.parametrize("actual", [10.0, 10.6, 14.0, 3.0])
def test_pit_and_crps_of_recorded_quantiles_agree_with_the_normal_closed_form(actual):
    mu, sd = 10.0, 2.0
    quantiles = norm.ppf(ledger.LEVELS, mu, sd)
    z = (actual - mu) / sd
    exact = sd * (z * (2 * norm.cdf(z) - 1) + 2 * norm.pdf(z) - 1 / np.sqrt(np.pi))
    assert accuracy.crps(actual, quantiles) == pytest.approx(exact, rel=0.015)
    if actual.is_integer():  # a whole-number actual (a count of won deals) scores the same
        assert accuracy.crps(int(actual), quantiles) == pytest.approx(accuracy.crps(actual, quantiles))
    assert accuracy.pit(actual, quantiles) == pytest.approx(norm.cdf(z), abs=0.006)


@pytest.mark.slow
def test_recorded_forecasts_are_scored_once_their_period_closed(
    demo_default_workspace, demo_snapshot, tmp_path, capsys
):
    path, name = tmp_path / "ledger.duckdb", str(Path(demo_default_workspace).resolve())
    for date in DATES:  # a weekly call's forecasts of one quarter, recorded as they were made
        snap = demo_snapshot.rewind(date)
        model = fitted_model(
            snap, sampler_config={"draws": 300, "tune": 300}, random_seed=1, cache_dir=tmp_path
        )
        fc = forecast_bookings(model, snap, PERIOD, random_seed=2)
        ledger.record(path, [ledger.entry(fc, snap, model, name, "test")])
    # and one of the next quarter, which has not closed when the data end (2025-12-30)
    fc = forecast_bookings(model, snap, "2025Q4", random_seed=2)
    ledger.record(path, [ledger.entry(fc, snap, model, name, "test")])
    assert accuracy.scores(path, demo_snapshot.rewind("2025-09-29"), name).empty  # nothing closed yet
    scored = accuracy.scores(path, demo_snapshot, name)
    assert set(scored["period"]) == {PERIOD}
    actual = booked_in(demo_snapshot, PERIOD)
    assert len(scored) == len(DATES) and (scored["actual"] == actual).all() and actual > 0
    assert list(scored["days_ahead"]) == [(pd.Timestamp("2025-09-30") - pd.Timestamp(d)).days for d in DATES]
    np.testing.assert_allclose(scored["error"], scored["p50"] - actual)
    assert (scored["inside_p10_p90"] == ((scored["p10"] <= actual) & (actual <= scored["p90"]))).all()
    last = scored.iloc[-1]  # a day before the end nearly everything is booked: the forecast is right
    assert last["ape"] < 0.05 and last["inside_p10_p90"]
    assert scored["ape"].iloc[0] > last["ape"]
    by_lead = accuracy.trend(scored)
    assert by_lead["recorded"].sum() == len(DATES) and by_lead["days_ahead"].iloc[-1] == "0-6 days"
    # Other workspaces' and other slices' forecasts are not mixed in.
    assert accuracy.scores(path, demo_snapshot, "another workspace").empty
    assert accuracy.scores(path, demo_snapshot, name, where={"region": "North"}).empty
    # The same from the command line.
    assert main(["pipeline", "accuracy", "--workspace", name, "--ledger", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [f["p50"] for f in out["forecasts"]] == pytest.approx(list(scored["p50"]))
    assert sum(t["recorded"] for t in out["trend"]) == len(DATES)
