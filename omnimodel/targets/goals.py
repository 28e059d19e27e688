"""Growth targets per node and the odds of hitting them, from the reconciled baseline forecast draws.

This is the first, simple form of the strategy goals: a growth rate over last year's revenue, the same for
every node or given per node (e.g. per region). P(hit) is the share of forecast draws of the target year's
revenue that reach the target; since the draws are coherent, the targets of the parts and of the total are
judged on the same simulated futures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnimodel.targets.baseline import HierarchyForecast
from omnimodel.targets.series import Hierarchy


def growth_targets(
    hierarchy: Hierarchy,
    forecast: HierarchyForecast,
    year: int,
    growth: float | dict[str, float] = 0.0,
) -> pd.DataFrame:
    """Per node: last year's revenue, target = last year x (1 + growth), forecast P10/P50/P90, gap, P(hit).

    ``growth`` as a dict maps node labels (e.g. ``"North"`` or ``"webshop / North"``) to their growth; nodes
    not named get the ``"default"`` entry (0 if absent). The forecast must cover the whole target year.
    """
    history = hierarchy.all_series()
    last = history[history.index.year == year - 1]
    periods = forecast.periods[forecast.periods.year == year]
    per_year = {"M": 12, "Q": 4}[forecast.periods.freqstr[0]]
    if len(periods) < per_year:
        raise ValueError(
            f"The forecast covers {len(periods)} periods of {year}; targets need the whole year."
        )
    if len(last) < per_year:
        raise ValueError(f"{year - 1} is not complete in the data; growth targets need the whole prior year.")
    draws = forecast.period_total(periods[0], periods[-1])
    rates = growth if isinstance(growth, dict) else {"default": growth}
    out = forecast.nodes[["node", "depth"]].copy()
    out["last_year"] = last.sum().reindex(out["node"]).to_numpy()
    out["growth"] = [rates.get(n, rates.get("default", 0.0)) for n in out["node"]]
    out["target"] = out["last_year"] * (1 + out["growth"])
    out["forecast_p10"], out["forecast_p50"], out["forecast_p90"] = np.quantile(
        draws, [0.1, 0.5, 0.9], axis=1
    )
    out["gap_p50"] = out["target"] - out["forecast_p50"]
    out["p_hit"] = (draws >= out["target"].to_numpy()[:, None]).mean(axis=1)
    return out
