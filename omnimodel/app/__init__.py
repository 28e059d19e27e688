"""The application layer: one object per question a report answers, which the CLI, the notebooks and the
what-if panel all call, so none of them orchestrates the analyses itself.

- :class:`PipelineReview` (notebook 03, ``omnimodel pipeline``): snapshot, measure, fit, forecast, targets,
  roll-up, deals at risk, what changed, owners' calls, accuracy and backtest.
- :class:`CustomerReview` (notebooks 01 and 02): profiles, the customer card, lifetime value (one fit for
  both), channels, baskets, segments, countries and the assortment.
- :class:`ChannelPlan` (notebooks 04 and 05, ``omnimodel targets``): revenue series, the baseline backtest and
  forecasts, and with strategy goals the targets, bridges, split, scenarios and the what-if panel.

Results explain themselves one way (:class:`~omnimodel.app.results.Result`): ``to_dict()`` for ``--json``,
``as_text()`` for the CLI, ``_repr_html_`` for notebooks and reports; a notebook section is one call of a
``*_sections`` module.
"""

from omnimodel.lazy import exports

_PUBLIC = {
    "ChannelPlan": "plan",
    "CustomerReview": "customers",
    "PipelineReview": "pipeline",
    "Result": "results",
    "Shown": "show",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
