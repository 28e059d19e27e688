"""Checklist 2: funnel definition, pipeline snapshots, the Bayesian pipeline model, forecast and backtest."""

from omnimodel.funnel import backtest, charts, forecast, metrics
from omnimodel.funnel.snapshot import PipelineSnapshot, pipeline_snapshot

__all__ = ["PipelineSnapshot", "backtest", "charts", "forecast", "funnel_for", "metrics", "pipeline_snapshot"]


def funnel_for(ws, name: str | None = None):
    """The funnel definition to use for a workspace: the one named, else the one its adapter implies."""
    from omnimodel.config import FUNNEL_DEFINITIONS, load_funnel
    from omnimodel.exceptions import ConfigError

    if name:
        return load_funnel(name)
    adapter = ws.meta().get("adapter", "")
    if (FUNNEL_DEFINITIONS / f"{adapter}.yaml").exists():
        return load_funnel(adapter)
    raise ConfigError(
        f"no funnel definition known for this workspace (adapter {adapter or 'unknown'})",
        fix="name a funnel definition or YAML file (notebook parameter `funnel`, or --funnel); "
        "see omnimodel/funnel/definitions/demo.yaml",
    )
