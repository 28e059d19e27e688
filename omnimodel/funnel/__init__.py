"""Checklist 2, funnel steering: funnel definitions, pipeline snapshots and metrics, the Bayesian pipeline model
(advance probabilities, stage timing, arrivals, period noise), the bookings forecast and its backtest."""

from omnimodel.lazy import exports

_PUBLIC = {
    "PipelineSnapshot": "snapshot",
    "pipeline_snapshot": "snapshot",
    "funnel_for": "snapshot",
    "require_pipeline": "snapshot",
    "PipelineModel": "model",
    "fitted_model": "fits",
    "default_model_config": "model",
    "default_sampler_config": "model",
    "StageTiming": "timing",
    "BookingsForecast": "forecast",
    "forecast_bookings": "forecast",
    "same_period_last_year": "forecast",
    "BacktestResult": "backtest",
    "fit_pipeline": "fits",
    "PeriodNoise": "model",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
