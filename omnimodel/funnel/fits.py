"""Pipeline fits kept on disk: the same snapshot with the same settings is fitted once, then loaded.

A pipeline fit costs a sampler run (tens of seconds, more with a cold compile cache), and the same fit is asked
for again and again: by ``omnimodel pipeline forecast`` run on unchanged data, by notebook 03 and the plan of
notebooks 04 and 05 on the same as-of date, and by every backtest snapshot, whose data (what was known that
day) does not change when newer data arrive. :func:`fitted_model` keys a fit by the snapshot's own content
(the deals and stage events known at its date, the funnel definition), every setting, the seed and a hash of
the code it runs, saves it as NetCDF under ``.cache/pipeline/`` (no pickle) and loads it for every later
caller; a file lock makes a caller in parallel wait instead of fitting the same model again. Nothing stale can
be reused: any change to the data known at the date, a setting or the code gives another key.

A fit is the fitting workflow :func:`fit_pipeline`: the model's parts, then the period noise measured from
hindcasts of recent months (:mod:`~omnimodel.funnel.calibration`), which forecast with the fitted model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pandas as pd

from omnimodel.funnel.calibration import fit_period_noise
from omnimodel.funnel.model import PipelineModel
from omnimodel.funnel.snapshot import FACTORS, PipelineSnapshot
from omnimodel.saved import cached


def snapshot_key(snapshot: PipelineSnapshot) -> str:
    """sha256 of what a snapshot knows: its date, funnel definition, deals and stage events, in any row order.
    The deals' final outcome and close date (carried along for backtests, never read by a fit) are left out,
    so a past snapshot keeps its key when its deals close later."""
    digest = hashlib.sha256(str(snapshot.as_of.date()).encode())
    digest.update(json.dumps(dataclasses.asdict(snapshot.funnel), sort_keys=True, default=str).encode())
    for frame, order in (
        (snapshot.raw_deals, ["opportunity_id"]),
        (snapshot.raw_events, ["opportunity_id", "entered_at", "stage"]),
    ):
        known = sorted(c for c in frame.columns if not c.startswith("final_"))
        frame = frame[known].sort_values(order, kind="stable")
        digest.update(",".join(known).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def fit_pipeline(
    snapshot: PipelineSnapshot,
    *,
    measure: str = "amount",
    sampler_config: dict | None = None,
    model_config: dict | None = None,
    factors: tuple[str, ...] = FACTORS,
    random_seed: int = 0,
) -> PipelineModel:
    """The partially pooled pipeline model fitted on ``snapshot``, with its period noise measured from
    hindcasts (no cache: :func:`fitted_model` keeps fits).

    Examples
    --------
    >>> model = fit_pipeline(snapshot, sampler_config={"draws": 500, "tune": 500}, random_seed=42)  # doctest: +SKIP
    >>> model.period_noise_.sd  # doctest: +SKIP
    """
    model = PipelineModel(
        model_config=model_config, sampler_config=sampler_config, factors=factors, measure=measure
    )
    model.fit(snapshot, random_seed=random_seed)
    model.period_noise_ = fit_period_noise(model, snapshot, random_seed)
    return model


def fitted_model(
    snapshot: PipelineSnapshot,
    *,
    measure: str = "amount",
    sampler_config: dict | None = None,
    model_config: dict | None = None,
    factors: tuple[str, ...] = FACTORS,
    random_seed: int = 0,
    refit: bool = False,
    cache_dir: str | Path | None = None,
) -> PipelineModel:
    """:func:`fit_pipeline`, from the cache when the same fit was made before (``reused_`` says which;
    ``refit`` fits again and replaces it).

    ``cache_dir`` defaults to ``.cache/pipeline`` in the project folder.

    Examples
    --------
    >>> model = fitted_model(snapshot, sampler_config={"draws": 500, "tune": 500}, random_seed=42)  # doctest: +SKIP
    >>> model.reused_  # doctest: +SKIP
    False
    """
    settings = PipelineModel(
        model_config=model_config, sampler_config=sampler_config, factors=factors, measure=measure
    )
    key_data = {
        "snapshot": snapshot_key(snapshot),
        "measure": measure,
        "factors": list(factors),
        "model_config": settings.model_config,
        "sampler_config": settings.sampler_config,
        "seed": random_seed,
    }
    fit = cached(
        "pipeline",
        key_data,
        lambda: fit_pipeline(
            snapshot,
            measure=measure,
            sampler_config=sampler_config,
            model_config=model_config,
            factors=factors,
            random_seed=random_seed,
        ),
        PipelineModel.save,  # written atomically: a fit that fails half-way leaves nothing behind
        PipelineModel.load,
        code=__name__,
        suffix=".nc",
        cache_dir=cache_dir,
        refresh=refit,
    )
    fit.value.reused_ = fit.reused
    return fit.value


def note(model: PipelineModel) -> str:
    """One line for a report: whether the fit was made in this run or loaded from the cache."""
    how = (
        "loaded from an earlier fit of the same snapshot and settings (.cache/pipeline)"
        if model.reused_
        else "fitted in this run"
    )
    return f"Pipeline model {how}. {model.fit_note_}".strip()


def model_version() -> str:
    """The fit code's version for the forecast ledger: omnimodel's version and the hash of the code a fit runs."""
    from omnimodel.sources import code_hash
    from omnimodel.version import __version__

    return f"{__version__}+{code_hash(__name__)[:12]}"
