"""The pipeline model recovers the demo company's planted conversion effects, matches the closed form where
it has one, and its forecast is coherent. Real PyMC sampling throughout."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from omnimodel.data.demo import FUNNEL, STAGES
from omnimodel.exceptions import NotFittedError
from omnimodel.funnel.fits import fit_pipeline
from omnimodel.funnel.forecast import FORECAST_PATHS, forecast_bookings
from omnimodel.funnel.model import PipelineModel
from tests.funnel.simulate import close_day, remaining_days

pytestmark = pytest.mark.slow


def test_fit_converges_and_says_so(demo_model):
    d = demo_model.diagnostics_
    assert d.converged, d.as_text()
    assert "Converged" in d.as_text()


def test_planted_stage_logits_and_effects_are_recovered(demo_model):
    post = demo_model.idata_.posterior.stack(sample=("chain", "draw"))
    checks = [("stage_logit", dict(zip(STAGES, FUNNEL["base_advance_logit"], strict=True)))]
    checks += [
        (f"effect_{f}", FUNNEL[key])
        for f, key in (
            ("segment", "segment_effect"),
            ("region", "region_effect"),
            ("source_channel", "channel_effect"),
            ("product", "product_effect"),
        )
    ]
    misses = []
    for var, truth in checks:
        dim = post[var].dims[0]
        for level, value in truth.items():
            draws = post[var].sel({dim: level}).to_numpy()
            lo, hi = np.quantile(draws, [0.005, 0.995])
            if not lo <= value <= hi:
                misses.append((var, level, value, round(lo, 3), round(hi, 3)))
    assert not misses, misses


def test_unpooled_posterior_matches_the_closed_form(demo_snapshot):
    model = PipelineModel(pooling="none", sampler_config={"draws": 1000, "tune": 500}).fit(
        demo_snapshot, random_seed=3
    )
    c = model.advance_.counts
    draws = model.idata_.posterior["p_cell"].stack(sample=("chain", "draw")).to_numpy()
    a, b = 1 + c["advanced"].to_numpy(), 1 + (c["n"] - c["advanced"]).to_numpy()
    mean, sd = stats.beta.mean(a, b), stats.beta.std(a, b)
    ess = model.diagnostics_.min_ess_bulk
    mc_error = sd / np.sqrt(ess)
    # every cell's posterior mean within 4 Monte Carlo standard errors, sd within 15 %
    assert np.all(np.abs(draws.mean(axis=1) - mean) < 4 * mc_error + 1e-6)
    assert np.all(np.abs(draws.std(axis=1) / sd - 1) < 0.15)


def test_using_the_model_before_fit_is_a_clear_error(demo_snapshot):
    with pytest.raises(NotFittedError, match="fit"):
        PipelineModel().win_probability(demo_snapshot.open_deals)


def test_forecast_is_coherent_and_seeded(demo_model, demo_snapshot):
    fc = forecast_bookings(demo_model, demo_snapshot, "2026Q1", random_seed=1)
    again = forecast_bookings(demo_model, demo_snapshot, "2026Q1", random_seed=1)
    np.testing.assert_array_equal(fc.total, again.total)
    # enough paths that P10/P90 barely move with the seed, each posterior draw used equally often
    assert len(fc.total) >= FORECAST_PATHS and len(fc.total) % demo_model.n_draws() == 0
    assert len(forecast_bookings(demo_model, demo_snapshot, "2026Q1", n_draws=300).total) == 300
    for g, frame in fc.by_group.items():  # groups add up to the total in every draw
        np.testing.assert_allclose(frame.sum(axis=1).to_numpy(), fc.total, rtol=1e-9, err_msg=g)
    q = fc.quantiles()
    assert 0 < q["p10"] < q["p50"] < q["p90"]
    assert fc.p_hit(q["p10"]) > fc.p_hit(q["p50"]) > fc.p_hit(q["p90"])
    d = fc.deals
    assert ((d["win_probability"] >= 0) & (d["win_probability"] <= 1)).all()
    # booking needs a win: P(book) <= P(win), up to the Monte Carlo error of the simulated wins
    mc = 4 * np.sqrt(d["win_probability"] * (1 - d["win_probability"]) / len(fc.total))
    assert (d["p_book_in_period"] <= d["win_probability"] + mc + 1e-9).all()
    commit = d[d["category"] == "commit"]
    assert (commit["p_book_in_period"] >= 0.7).all()
    # later-stage deals win more often on average
    by_stage = d.groupby("stage")["win_probability"].mean()
    assert by_stage["negotiation"] > by_stage["lead"]
    # a slice is part of the whole
    north = forecast_bookings(demo_model, demo_snapshot, "2026Q1", random_seed=1, where={"region": "North"})
    assert north.quantiles()["p50"] < q["p50"]


def test_forecast_brackets_what_happened(demo_default_workspace):
    """From mid-2025, the demo's Q3 2025 bookings fall inside the forecast's P5-P95."""
    from omnimodel import Workspace
    from omnimodel.funnel import pipeline_snapshot
    from omnimodel.funnel.definition import load_funnel
    from omnimodel.funnel.forecast import booked_in

    with Workspace(demo_default_workspace) as ws:
        final = pipeline_snapshot(ws, load_funnel("demo"))
    snap = final.rewind("2025-06-30")
    model = fit_pipeline(snap, sampler_config={"draws": 500, "tune": 500}, random_seed=2)
    fc = forecast_bookings(model, snap, "2025Q3", random_seed=2)
    actual = booked_in(final, "2025Q3")
    lo, hi = np.quantile(fc.total, [0.05, 0.95])
    assert lo <= actual <= hi, (lo, actual, hi)
    hindcasts = model.period_noise_.hindcasts
    assert isinstance(hindcasts, pd.DataFrame) and len(hindcasts) >= 2


def test_saved_model_loads_and_forecasts_the_same(demo_model, demo_snapshot, tmp_path):
    path = demo_model.save(tmp_path / "pipeline.nc")
    loaded = PipelineModel.load(path)
    a = forecast_bookings(demo_model, demo_snapshot, "2026Q1", random_seed=5)
    b = forecast_bookings(loaded, demo_snapshot, "2026Q1", random_seed=5)
    np.testing.assert_allclose(a.total, b.total)
    assert loaded.diagnostics_ == demo_model.diagnostics_
    assert loaded.advance_.interactions == demo_model.advance_.interactions == [("segment", "source_channel")]
    import arviz as az

    attrs = az.from_netcdf(str(path)).posterior.attrs
    assert "omnimodel_version" in attrs["omnimodel_pipeline_model"]


def test_exact_close_probability_matches_simulated_close_dates(demo_model, demo_snapshot):
    # The forecast books each open deal as Bernoulli(P(win) x P(close inside | won)), the latter exact over the
    # stage timing and the closing calendar; here it must agree with close dates simulated stay by stay.
    deals = demo_snapshot.open_deals
    ranks, age = deals["reached"].to_numpy(), deals["days_in_stage"].to_numpy(float)
    rng = np.random.default_rng(3)
    n = 4000
    close_in = close_day(
        demo_model, demo_snapshot.as_of, np.zeros(1), remaining_days(demo_model, rng, ranks, age, n)
    )
    for start, end in [(0, 31), (31, 120)]:
        exact = demo_model.timing_.close_probability(demo_snapshot.as_of, ranks, age, start, end)
        simulated = ((close_in >= start) & (close_in < end)).mean(axis=0)
        se = np.sqrt(np.maximum(simulated * (1 - simulated), 1 / n) / n)
        assert np.all(np.abs(exact - simulated) < 5 * se)
        assert abs(exact.mean() - simulated.mean()) < 3 * se.mean() / np.sqrt(len(deals)) + 1e-3
    # deals not created yet: created at a uniform time before the period ends, then through every stage
    for start, end in [(0, 31), (31, 120)]:
        m = 200_000
        created = rng.uniform(0, end, m)
        effort = remaining_days(demo_model, rng, np.zeros(m, int), np.zeros(m), 1, entering=True)[0]
        close_new = close_day(demo_model, demo_snapshot.as_of, created, effort)
        simulated = float(((close_new >= start) & (close_new < end)).mean())
        exact = demo_model.timing_.new_deal_close_probability(demo_snapshot.as_of, start, end)
        assert exact == pytest.approx(simulated, abs=4 * np.sqrt(simulated * (1 - simulated) / m) + 0.002)


def test_forecast_by_a_combination_of_columns_keeps_structured_keys(demo_model, demo_snapshot):
    group = "stage+source_channel+region"
    fc = forecast_bookings(demo_model, demo_snapshot, "2026", by=(group, "region"), random_seed=3)
    draws = fc.by_group[group]
    assert list(draws.columns.names) == ["stage", "source_channel", "region"]
    assert ("new", "field_sales", "North") in draws.columns  # deals not created yet are the "new" stage
    np.testing.assert_allclose(draws.sum(axis=1).to_numpy(), fc.total)
    by_region = draws.T.groupby(level="region").sum().T
    np.testing.assert_allclose(
        by_region[fc.by_group["region"].columns].to_numpy(), fc.by_group["region"].to_numpy()
    )
    table = fc.to_frame(group)
    assert {"stage", "source_channel", "region", "p50"} <= set(table.columns)
