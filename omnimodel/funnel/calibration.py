"""Period noise: the forecast error a pipeline model's own chance does not cover, from hindcasts of recent months.

The model forecasts each of the last few complete months from the pipeline as it stood at the start of that
month, with stage timing, arrivals and closing calendar refitted on what was known then, and compares with what
was booked. The mean squared log error beyond the forecast's own log variance is the extra variance of a period
(timing of big deals, execution, changes the model does not see). That variance gets a scaled
inverse-chi-squared posterior from a weak prior (``period_noise_prior``: a sd and its weight in months) and the
hindcasts, so a model with two hindcasts is not taken to know its error; forecasts draw a variance per draw from
it and scale the draw by a log-normal factor. The hindcasts keep today's advance posterior (a refit per month
would cost a sampler run each), so the data part is still a lower bound.

The noise is the pipeline model's last part (:class:`PeriodNoise`). It is measured by forecasting, so the fitting
workflow (:func:`omnimodel.funnel.fits.fit_pipeline`) measures it after the model is fitted: the model itself
never forecasts, and until measured it carries the prior.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from omnimodel.funnel.forecast import forecast_bookings
from omnimodel.funnel.model import PeriodNoise, PipelineModel
from omnimodel.funnel.snapshot import PipelineSnapshot

HINDCAST_COLUMNS = ["month", "actual", "forecast_mean", "log_error", "log_var"]


def fit_period_noise(model: PipelineModel, snapshot: PipelineSnapshot, random_seed: int) -> PeriodNoise:
    """The period noise's posterior (log-scale sd and its weight in months) and the hindcasts behind it."""
    prior_sd, prior_months = model.model_config["period_noise_prior"]
    sd, df = float(prior_sd), float(prior_months)
    d = snapshot.deals
    won = d[d["outcome"] == "won"]
    if won.empty:
        return PeriodNoise(sd, df, pd.DataFrame(columns=HINDCAST_COLUMNS))
    last_full = (snapshot.as_of + pd.Timedelta(days=1)).to_period("M") - 1
    first = max(won["closed_date"].min().to_period("M") + 1, d["created_date"].min().to_period("M") + 2)
    months = list(pd.period_range(first, last_full, freq="M"))[-model.model_config["hindcast_months"] :]
    rows = []
    for month in months:
        past = snapshot.rewind(month.start_time - pd.Timedelta(days=1))
        if past.open_deals.empty:
            continue
        # Timing, arrivals and calendar as known then (cheap to refit); the advance posterior is today's.
        then = copy.copy(model)
        then.fit_timing(past)
        fc = forecast_bookings(
            then, past, str(month), by=(), random_seed=random_seed, n_draws=300, period_noise=False
        )
        actual = model.deal_value(won.loc[won["closed_date"].dt.to_period("M") == month]).sum()
        if actual <= 0 or (fc.total <= 0).mean() > 0.1:
            continue
        logs = np.log(np.maximum(fc.total, 1e-9))
        rows.append(
            {
                "month": str(month),
                "actual": actual,
                "forecast_mean": fc.total.mean(),
                "log_error": np.log(actual) - logs.mean(),
                "log_var": logs.var(),
            }
        )
    hindcasts = pd.DataFrame(rows) if rows else pd.DataFrame(columns=HINDCAST_COLUMNS)
    if rows:
        excess = max(0.0, float((hindcasts["log_error"] ** 2 - hindcasts["log_var"]).sum()))
        df = prior_months + len(hindcasts)
        sd = float(np.sqrt((prior_months * prior_sd**2 + excess) / df))
    return PeriodNoise(sd, df, hindcasts)
