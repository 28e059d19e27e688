"""Convergence of every Bayesian fit (r-hat, effective sample size, divergences): one card for all reports.

Every model that samples with PyMC (the pipeline model, CLV) reports its fit through :class:`Diagnostics`, and
the reports say plainly when a fit has not converged. A Laplace fit (CLV's default) has no chains to compare;
its card gives the Pareto k of the importance-weighted check of the approximation instead.
"""

from __future__ import annotations

import contextlib
import html
import logging
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: a fit converged when every parameter's r-hat is at most this ...
CONVERGED_RHAT = 1.01
#: ... every bulk effective sample size at least this, and no transition diverged
CONVERGED_ESS = 400
#: a Laplace approximation is trusted when the Pareto k of its importance weights is at most this, and their
#: effective sample size at least this (k itself is estimated from the weights' tail: 40 draws cannot tell it)
MAX_PARETO_K = 0.7
MIN_IMPORTANCE_ESS = 100


@dataclass(frozen=True)
class Diagnostics:
    """Convergence of a fit: the report says plainly when it has not converged."""

    max_rhat: float | None  # None where it does not apply (a Laplace fit)
    min_ess_bulk: float
    divergences: int
    draws: int
    chains: int
    method: str = "nuts"  # or "laplace": a normal at the posterior mode, checked by importance weights
    pareto_k: float | None = None  # the Laplace check (PSIS); None for a sampler

    @classmethod
    def from_laplace(cls, pareto_k: float, ess: float, draws: int) -> Diagnostics:
        """The card of a Laplace fit corrected by importance sampling: the Pareto k of its weights (infinite when
        there was no mode to start from), their effective sample size and the draws kept. r-hat does not apply.

        Examples
        --------
        >>> Diagnostics.from_laplace(0.3, 2400.0, 1000).converged
        True
        """
        return cls(None, float(ess), 0, draws, 1, method="laplace", pareto_k=float(pareto_k))

    @classmethod
    def from_idata(cls, idata: Any, var_names: Sequence[str] | None = None) -> Diagnostics:
        """The diagnostics of an ArviZ ``InferenceData`` (over ``var_names``, default every variable).

        Examples
        --------
        >>> Diagnostics.from_idata(model.idata_).converged  # doctest: +SKIP
        True
        """
        import arviz as az

        summary = az.summary(idata, var_names=list(var_names) if var_names else None, kind="diagnostics")
        return cls(
            max_rhat=float(summary["r_hat"].max()),
            min_ess_bulk=float(summary["ess_bulk"].min()),
            divergences=int(idata.sample_stats["diverging"].sum()),
            draws=int(idata.posterior.sizes["draw"]),
            chains=int(idata.posterior.sizes["chain"]),
        )

    @property
    def converged(self) -> bool:
        """r-hat, effective sample size and divergences all within :data:`CONVERGED_RHAT` and
        :data:`CONVERGED_ESS`."""
        if self.method == "laplace" or self.max_rhat is None:
            return (
                self.pareto_k is not None
                and self.pareto_k <= MAX_PARETO_K
                and self.min_ess_bulk >= MIN_IMPORTANCE_ESS
            )
        return (
            self.max_rhat <= CONVERGED_RHAT and self.min_ess_bulk >= CONVERGED_ESS and self.divergences == 0
        )

    @property
    def figures(self) -> str:
        """The figures in words: r-hat, ESS, divergences, chains and draws (a Laplace fit: Pareto k, draws)."""
        if self.method == "laplace":
            if self.pareto_k is None or not math.isfinite(self.pareto_k):
                return "no posterior mode found for the Laplace approximation"
            return (
                f"Laplace approximation at the posterior mode, corrected by importance sampling: Pareto k max "
                f"{self.pareto_k:.2f} (trusted up to {MAX_PARETO_K}), effective sample size min "
                f"{self.min_ess_bulk:,.0f} (trusted from {MIN_IMPORTANCE_ESS}), {self.draws:,} draws"
            )
        return (
            f"r-hat max {self.max_rhat:.2f}, effective sample size min {self.min_ess_bulk:,.0f}, "
            f"{self.divergences} divergences ({self.chains} chains x {self.draws} draws)"
        )

    def as_text(self) -> str:
        """One sentence: converged or not, with the figures and, if not, what to do."""
        figures = self.figures
        if self.converged:
            return f"Converged: {figures}."
        if self.method == "laplace":
            return f"NOT CONVERGED: {figures}. Treat the numbers below with caution and refit with NUTS."
        return (
            f"NOT CONVERGED: {figures}. Needs r-hat <= {CONVERGED_RHAT}, ESS >= {CONVERGED_ESS} and no "
            "divergences; treat the numbers below with caution and refit with more draws."
        )

    def _repr_html_(self) -> str:
        colour = "#176b2c" if self.converged else "#b00020"
        return f'<p style="color:{colour};font-weight:600">{html.escape(self.as_text())}</p>'


@contextlib.contextmanager
def quiet_sampler() -> Iterator[None]:
    """Keep PyMC's progress chatter and PyTensor's BLAS notice out of notebooks and reports.

    Diagnostics are reported by :class:`Diagnostics` instead.
    """
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
            yield
    finally:
        logger.setLevel(level)
