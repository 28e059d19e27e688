"""Saving and loading a fitted pipeline model: NetCDF InferenceData with its configuration, the package version
and the learned state in the attributes (no pickle)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from omnimodel.diagnostics import Diagnostics
from omnimodel.funnel.model import PipelineModel
from omnimodel.funnel.timing import StageTiming
from omnimodel.saved import config_from_json, load_fit, save_fit


def save_model(model: PipelineModel, path: str | os.PathLike) -> Path:
    """Save a fitted model as NetCDF: the posterior plus its configuration and learned state as JSON.

    Examples
    --------
    >>> save_model(model, "pipeline.nc")  # doctest: +SKIP
    """
    model._check_fitted()
    state = {
        "pooling": model.pooling,
        "measure": model.measure,
        "factors": list(model.factors),
        "model_config": model.model_config,
        "sampler_config": model.sampler_config,
        "stages": model.stages_,
        "levels": model.levels_,
        "used_factors": model.used_factors_,
        "interactions": [list(p) for p in getattr(model, "interactions_", [])],
        "counts": model.counts_.to_dict(orient="list"),
        "stage_timing": [t.to_json() for t in model.stage_timing_],
        "arrivals": model.arrival_posterior_,
        "templates": model.new_deal_templates_.to_dict(orient="list"),
        "closing_calendar": model.closing_calendar_.tolist(),
        "period_noise_sd": model.period_noise_sd_,
        "period_noise_df": model.period_noise_df_,
        "as_of": str(model.as_of_.date()),
        "diagnostics": model.diagnostics_.__dict__,
        "fit_note": model.fit_note_,
    }
    return save_fit(model.idata_, path, "pipeline_model", state)


def load_model(path: str | os.PathLike) -> PipelineModel:
    """Load a model saved by :func:`save_model`; it forecasts exactly as the saved one did.

    Examples
    --------
    >>> load_model("pipeline.nc").as_of_  # doctest: +SKIP
    """
    idata, state = load_fit(path, "pipeline_model")
    model = PipelineModel(
        state["pooling"],
        config_from_json(state["model_config"]),
        state["sampler_config"],
        tuple(state["factors"]),
        state["measure"],
    )
    model.idata_, model.stages_, model.levels_ = idata, state["stages"], state["levels"]
    model.used_factors_ = state["used_factors"]
    model.interactions_ = [tuple(p) for p in state.get("interactions", [])]
    model.counts_ = pd.DataFrame(state["counts"])
    model.stage_timing_ = [StageTiming.from_json(t) for t in state["stage_timing"]]
    model.arrival_posterior_ = state["arrivals"]
    model.new_deal_templates_ = pd.DataFrame(state["templates"])
    model.closing_calendar_ = np.array(state["closing_calendar"])
    model.period_noise_sd_, model.period_noise_df_ = state["period_noise_sd"], state["period_noise_df"]
    model.as_of_ = pd.Timestamp(state["as_of"])
    model.diagnostics_ = Diagnostics(**state["diagnostics"])
    model.fit_note_ = state.get("fit_note", "")
    return model
