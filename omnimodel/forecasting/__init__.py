"""Hierarchical revenue forecasting for any channel x region x product series: hierarchies, baseline
models chosen in a rolling-origin backtest, and reconciliation."""

from omnimodel.lazy import exports

_PUBLIC = {
    "Hierarchy": "series",
    "workspace_revenue": "series",
    "series_set": "series",
    "au_visitor_nights": "series",
    "au_accommodation": "series",
    "BaselineBacktest": "baseline",
    "choose_models": "baseline",
    "forecast_hierarchy": "baseline",
    "HierarchyForecast": "baseline",
    "mase_scale": "baseline",
    "seasonal_naive": "baseline",
    "reconcile": "reconcile",
    "reconciliation_matrix": "reconcile",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
