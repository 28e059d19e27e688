"""Partially pooled interactions: the demo's planted segment x channel effect is recovered, the fast fit agrees
with NUTS on it, and a deal's chance carries its combination's effect. Real fits throughout."""

import numpy as np
import pytest
from scipy import stats

from omnimodel.data.demo import FUNNEL
from omnimodel.exceptions import OmnimodelError
from omnimodel.funnel import advance
from omnimodel.funnel.inspection import deal_factors
from omnimodel.funnel.model import PipelineModel

pytestmark = pytest.mark.slow

TERM = "segment_x_source_channel"


def _planted(segment: str, channel: str) -> float:
    return FUNNEL["segment_channel_interaction"].get(segment, {}).get(channel, 0.0)


def _contrast(effect):
    """Small businesses' webshop-over-field-sales edge minus enterprises': 4 x 0.35 planted, free of the main
    effects whatever their values."""
    cell = lambda s, c: effect.sel(segment=s, source_channel=c)  # noqa: E731
    return (
        cell("small_business", "webshop")
        - cell("small_business", "field_sales")
        - cell("enterprise", "webshop")
        + cell("enterprise", "field_sales")
    ).to_numpy()


def test_the_planted_interaction_is_recovered(demo_model):
    assert demo_model.advance_.interactions == [("segment", "source_channel")]
    assert demo_model.diagnostics_.converged and not demo_model.fit_note_  # the fast fit passed its check
    post = demo_model.idata_.posterior.stack(sample=("chain", "draw"))
    effect = post[f"effect_{TERM}"].transpose("sample", "segment", "source_channel")
    levels = [demo_model.advance_.levels[f] for f in ("segment", "source_channel")]
    truth = np.array([[_planted(s, c) for c in levels[1]] for s in levels[0]])
    # Jointly: the planted matrix's distance from the posterior (in the 6 free coordinates of a 4 x 3
    # sum-to-zero matrix) is a chi-square(6) draw when the posterior is calibrated. Cell by cell, 12 intervals
    # miss now and then: in this seed's draws public_sector x webshop advanced more often by chance (0.15, 2.9
    # posterior sds from its planted 0; the data generated without the plant show it too).
    basis = advance._bases(demo_model.advance_)[TERM]
    coords = effect.to_numpy().reshape(len(effect), -1) @ basis
    gap = coords.mean(axis=0) - truth.ravel() @ basis
    distance = gap @ np.linalg.solve(np.cov(coords.T), gap)
    assert distance < stats.chi2.ppf(0.99, basis.shape[1]), distance
    lo, hi = np.quantile(_contrast(effect), [0.05, 0.95])
    assert lo <= 1.4 <= hi and lo > 0, (lo, hi)
    # the interaction sums to zero along both factors: the main effects keep their planted meaning
    np.testing.assert_allclose(effect.sum("segment"), 0, atol=1e-9)
    np.testing.assert_allclose(effect.sum("source_channel"), 0, atol=1e-9)


def test_the_fast_fit_agrees_with_nuts(demo_snapshot, demo_model):
    nuts = PipelineModel(sampler_config={"method": "nuts", "draws": 500, "tune": 500}).fit(
        demo_snapshot, random_seed=11
    )
    assert nuts.diagnostics_.converged, nuts.diagnostics_.as_text()
    a = demo_model.idata_.posterior.stack(sample=("chain", "draw"))
    b = nuts.idata_.posterior.stack(sample=("chain", "draw"))
    for var in (f"effect_{TERM}", f"sigma_{TERM}", "effect_segment", "stage_logit"):
        mean_a, mean_b = a[var].mean("sample"), b[var].mean("sample")
        sd_a, sd_b = a[var].std("sample"), b[var].std("sample")
        # means within a fifth of a posterior sd (Monte Carlo error of 1,000 NUTS draws is about 0.05 sd)
        assert float((np.abs(mean_a - mean_b) / sd_b).max()) < 0.2, var
        assert float(np.abs(sd_a / sd_b - 1).max()) < 0.2, var


def test_a_deals_chance_carries_its_combinations_effect(demo_model, demo_snapshot):
    deals = demo_snapshot.open_deals.reset_index(drop=True)
    factors = deal_factors(demo_model, deals)
    mean = demo_model.idata_.posterior[f"effect_{TERM}"].mean(("chain", "draw"))
    for i in deals.index[:50]:
        d = deals.loc[i]
        assert factors.loc[i, TERM] == pytest.approx(
            float(mean.sel(segment=d["segment"], source_channel=d["source_channel"]))
        )
    # the same deal moved from field sales to the webshop: its log-odds change by exactly the two effects' draws
    sb = deals[deals["segment"] == "small_business"].head(1)
    moved = sb.assign(source_channel="webshop")
    base = sb.assign(source_channel="field_sales")
    diff = demo_model.advance_logits(moved)[:, 0, 0] - demo_model.advance_logits(base)[:, 0, 0]
    post = demo_model.idata_.posterior.stack(sample=("chain", "draw"))
    ch, ix = post["effect_source_channel"], post[f"effect_{TERM}"].sel(segment="small_business")
    expected = (ch.sel(source_channel="webshop") - ch.sel(source_channel="field_sales")) + (
        ix.sel(source_channel="webshop") - ix.sel(source_channel="field_sales")
    )
    np.testing.assert_allclose(diff, expected.to_numpy(), atol=1e-12)


def test_interactions_are_a_setting(demo_snapshot):
    with pytest.raises(OmnimodelError, match="pair of two of the factors"):
        PipelineModel(model_config={"interactions": [("segment", "colour")]})
    plain = PipelineModel(model_config={"interactions": []}, sampler_config={"draws": 200}).fit(
        demo_snapshot, random_seed=1
    )
    assert plain.advance_.interactions == [] and f"effect_{TERM}" not in plain.idata_.posterior


def test_what_moves_the_chance_names_the_planted_combinations(demo_model):
    from omnimodel.funnel.inspection import what_moves_the_chance

    moves = what_moves_the_chance(demo_model)
    combos = moves[moves["what"] == "segment x source channel"].set_index("level")
    # every planted cell (0.35 log-odds) is listed, with its planted sign; how close each one comes is the
    # recovery test's business above
    for segment, channels in FUNNEL["segment_channel_interaction"].items():
        for channel, planted in channels.items():
            assert np.sign(combos.loc[f"{segment} x {channel}", "effect"]) == np.sign(planted), (
                segment,
                channel,
            )
    assert (moves["low"] > 0).sum() + (moves["high"] < 0).sum() == len(moves)  # only clear effects listed
    assert list(moves["effect"].abs()) == sorted(moves["effect"].abs(), reverse=True)
    np.testing.assert_allclose(moves["odds_factor"], np.exp(moves["effect"]))
