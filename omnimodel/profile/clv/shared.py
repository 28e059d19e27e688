"""One lifetime-value fit per data and settings, shared by the reports that show it.

Notebook 01 shows one customer's value on the customer card and notebook 02 every segment's: fitted apart they
cost two PyMC fits and could disagree. :func:`shared_clv` fits once, saves the posterior (NetCDF, no pickle)
under ``.cache/clv/`` keyed by the data's fingerprint, every setting and a hash of the code, and loads it for
every later caller; a file lock makes a report running in parallel wait instead of fitting again
(:func:`omnimodel.saved.cached`).

The model is fitted on purchases up to the calibration end and checked on the holdout; the values it reports
are for today's customers: the fitted parameters applied to every customer's purchases up to the holdout end
(the latest data), so "the next 12 months" start where the data ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from omnimodel.data.workspace import Workspace
from omnimodel.profile.clv.inputs import purchase_summary
from omnimodel.profile.clv.model import CLVModel
from omnimodel.saved import cached


@dataclass
class SharedCLV:
    """The fitted model, the calibration summary (for the holdout check) and today's summary (for values)."""

    model: CLVModel
    summary: pd.DataFrame
    current: pd.DataFrame
    reused: bool

    def as_text(self) -> str:
        """One line for the report: where the fit comes from."""
        how = "reused from an earlier report of the same data" if self.reused else "fitted"
        return f"Lifetime-value model {how}; reports 01 and 02 show the same values. {self.model.fit_note_}".strip()


def shared_clv(
    ws: Workspace,
    calibration_end: str,
    holdout_end: str,
    *,
    draws: int = 500,
    fit_customers: int | None = 4000,
    seed: int = 42,
    channel_cost: dict[str, float] | None = None,
    method: str = "auto",
    cache_dir: str | Path | None = None,
) -> SharedCLV:
    """The lifetime-value model fitted on purchases up to ``calibration_end`` (``draws`` per chain, on a seeded
    sample of ``fit_customers``), computed once per data and settings (see the module's description).
    ``method``: "auto" (a Laplace fit checked by importance weights, NUTS where the check fails), "laplace" or
    "nuts".

    Examples
    --------
    >>> fit = shared_clv(ws, "2024-12-31", "2025-12-31")  # doctest: +SKIP
    >>> fit.model.customer_value(fit.current)  # doctest: +SKIP
    """
    summary = purchase_summary(ws, calibration_end, holdout_end, channel_cost=channel_cost)
    current = purchase_summary(ws, holdout_end, channel_cost=channel_cost)
    settings = {"calibration_end": str(calibration_end), "holdout_end": str(holdout_end), "draws": draws,
                "fit_customers": fit_customers, "seed": seed, "channel_cost": channel_cost or {},
                "method": method}  # fmt: skip

    def fit() -> CLVModel:
        model = CLVModel(sampler_config={"draws": draws, "tune": draws, "method": method})
        return model.fit(summary, random_seed=seed, max_customers=fit_customers)

    # written atomically: a fit that fails half-way leaves nothing to trust
    model = cached(
        "clv",
        {"data": ws.fingerprint(), "settings": settings},
        fit,
        CLVModel.save,
        CLVModel.load,
        code=__name__,
        suffix=".nc",
        cache_dir=cache_dir,
    )
    return SharedCLV(model.value, summary, current, reused=model.reused)
