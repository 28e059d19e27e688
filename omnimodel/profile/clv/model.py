"""Customer lifetime value in profit with PyMC: (M)BG/NBD for purchases and churn, Gamma-Gamma for spend, and a
Beta-Binomial for returns.

The models are fitted on per-customer sufficient statistics computed in the engine (see
:mod:`omnimodel.profile.clv.inputs`), with one parameter set per segment. Value is profit: expected purchases
x expected order value x (share kept x (1 - cost of goods rate) - cost to serve rate). Returned lines are
refunded in full and their goods come back; cost to serve is paid on every order, kept or not. So a customer
who sends most things back is worth less than nothing, and the model says so. It is a two-part model: the
spend model sees every repeat order's value before returns (so a customer who returned everything is not
dropped from it), and each customer's chance to return a line is drawn from a Beta across the segment's
customers and updated by their own lines (shrunk to the segment where they bought little).

The purchase model is the modified BG/NBD (MBG/NBD): customers may drop out after any purchase, the first
included, which suits shops with many one-time buyers. References: Fader, Hardie and Lee (2005), "Counting your
customers the easy way" (BG/NBD); Batislam, Denizel and Filiztekin (2007) (MBG/NBD); Fader, Hardie and Lee
(2005), "RFM and CLV: using iso-value curves" (Gamma-Gamma).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from omnimodel.diagnostics import Diagnostics
from omnimodel.exceptions import OmnimodelError
from omnimodel.fitting import FittedModel, sampler_config
from omnimodel.laplace import check_method, fallback_note
from omnimodel.profile.clv.likelihood import (
    PURCHASE,
    RETURNS,
    SERIAL,
    SPEND,
    beta_binomial_loglik,
    default_model_config,
    priors,
)
from omnimodel.saved import config_from_json

#: how it is fitted (:data:`omnimodel.fitting.SAMPLER_CONFIG`)
default_sampler_config = sampler_config()
#: the sampled parameters, over which convergence is judged
PARAMETERS = (*PURCHASE, *SPEND)
RETURN_PARAMETERS = (*RETURNS, *SERIAL)


@dataclass
class HoldoutCheck:
    """Predicted against actual purchases in the holdout period."""

    by_frequency: pd.DataFrame  # per calibration repeat-purchase count: customers, predicted, actual
    total_predicted: float
    total_actual: float
    mae_per_customer: float
    #: each customer's 80 % predictive interval of holdout purchases: share of customers inside, and share with
    #: a randomised PIT in [0.1, 0.9] (80 % when calibrated; see omnimodel.profile.clv.predictive)
    predictive_coverage: float | None = None
    pit_coverage: float | None = None

    def coverage_note(self) -> str:
        """One sentence for the report on what the per-customer ranges are worth."""
        if self.predictive_coverage is None or self.pit_coverage is None:
            return ""
        return (
            f"Each customer's 80% range of holdout purchases held the actual count for "
            f"{self.predictive_coverage:.0%} of customers (whole counts make more than 80% by construction); "
            f"for {self.pit_coverage:.0%} the actual count lies in the middle 80% of what the model predicted for "
            "them (80% when its ranges are honest)."
        ).replace("%", " %")

    @property
    def relative_error(self) -> float:
        """(predicted - actual) / actual holdout purchases in total."""
        return (self.total_predicted - self.total_actual) / self.total_actual


class CLVModel(FittedModel):
    """MBG/NBD + Gamma-Gamma + Beta-Binomial lifetime value in profit, one parameter set per segment.

    Saved and loaded with :meth:`save` and :meth:`load` (:class:`omnimodel.fitting.FittedModel`).

    Examples
    --------
    >>> summary = purchase_summary(ws, "2024-12-31", "2025-12-31", cohort_start="2023-01-01")  # doctest: +SKIP
    >>> model = CLVModel().fit(summary)  # doctest: +SKIP
    >>> model.check_holdout(summary).relative_error  # doctest: +SKIP
    """

    KIND = "clv_model"
    WHAT = "CLV model"
    FITS_ON = "summary"

    def __init__(
        self, by: str = "segment", sampler_config: dict | None = None, model_config: dict | None = None
    ):
        self.by = by
        self.model_config = {**default_model_config, **(model_config or {})}
        self.sampler_config = {**default_sampler_config, **(sampler_config or {})}

    def fit(self, summary: pd.DataFrame, random_seed: int = 0, max_customers: int | None = None) -> CLVModel:
        """Fit on the summary; ``max_customers`` fits on a seeded random sample (every customer can still be
        scored): a few thousand customers pin per-segment parameters, and sampling time grows with rows.

        The default (``sampler_config["method"] = "auto"``) is a Laplace approximation, about a second, checked
        by importance weights; where the check fails the model is sampled with NUTS and ``fit_note_`` says so.
        """
        method = check_method(self.sampler_config["method"])
        if summary.empty:
            raise OmnimodelError("no customers to fit", table="orders", fix="choose a later calibration end")
        if max_customers and len(summary) > max_customers:
            summary = summary.sample(max_customers, random_state=random_seed)
        self.groups_ = sorted(summary[self.by].unique())
        spenders = summary[(summary["x"] > 0) & (summary["repeat_value"] > 0)]
        median_spend = max(float(spenders["repeat_value"].median()), 1.0) if len(spenders) else 1.0
        spec = priors(self.model_config, median_spend, self._has_returns(summary))
        self.fit_note_ = ""
        if method != "nuts":
            from omnimodel.profile.clv.fits import Fitting, fit_laplace

            fitting = Fitting(self.groups_, self.by, self.sampler_config)
            self.idata_, self.diagnostics_ = fit_laplace(fitting, summary, spenders, spec, random_seed)
            if self.diagnostics_.converged or method == "laplace":
                return self
            self.fit_note_ = fallback_note(self.diagnostics_)
        from omnimodel.profile.clv.fits import Fitting, fit_nuts

        fitting = Fitting(self.groups_, self.by, self.sampler_config)
        self.idata_ = fit_nuts(fitting, summary, spenders, spec, random_seed)
        self.diagnostics_ = Diagnostics.from_idata(self.idata_, var_names=self._parameters())
        return self

    @staticmethod
    def _has_returns(summary: pd.DataFrame) -> bool:
        return "returned_lines" in summary and bool(summary["returned_lines"].sum() > 0)

    def _parameters(self) -> list[str]:
        return [p for p in (*PARAMETERS, *RETURN_PARAMETERS) if p in self.idata_.posterior]

    def state(self) -> dict[str, Any]:
        """Configuration, groups, diagnostics and fit note (saved beside the posterior)."""
        return {
            "by": self.by,
            "model_config": self.model_config,
            "sampler_config": self.sampler_config,
            "groups": self.groups_,
            "diagnostics": self.diagnostics_.__dict__,
            "fit_note": self.fit_note_,
        }

    @classmethod
    def from_state(cls, idata: Any, state: dict[str, Any]) -> CLVModel:
        """The model :meth:`state` describes, with its posterior ``idata``."""
        model = cls(state["by"], state["sampler_config"], config_from_json(state["model_config"]))
        model.idata_, model.groups_ = idata, state["groups"]
        model.diagnostics_ = Diagnostics(**state["diagnostics"])
        model.fit_note_ = state.get("fit_note", "")
        return model

    def _params(self, summary: pd.DataFrame, n_draws: int | None, seed: int) -> dict[str, np.ndarray]:
        self._check_fitted()
        post = self.idata_.posterior.stack(sample=("chain", "draw"))
        total = post.sizes["sample"]
        take = np.random.default_rng(seed).choice(total, size=min(n_draws or total, total), replace=False)
        codes = pd.Categorical(summary[self.by].astype("string"), categories=self.groups_).codes
        if (codes < 0).any():
            raise OmnimodelError(
                f"groups {sorted(set(summary.loc[codes < 0, self.by]))} were not in the fit",
                column=self.by,
                fix="refit on data that includes them",
            )
        out = {}
        for k in ("r", "alpha", "a", "b", "p", "q", "gamma", *RETURN_PARAMETERS):
            if k in post:  # population-wide parameters (no group) apply to every customer
                v = post[k].transpose("sample", ...).to_numpy()[take]
                out[k] = v[:, codes] if "group" in post[k].dims else np.repeat(v[:, None], len(codes), axis=1)
        return out

    def p_alive(self, summary: pd.DataFrame, n_draws: int | None = 400, seed: int = 0) -> np.ndarray:
        """Draws of P(customer still active at the end of calibration): array (draws, customers)."""
        k = self._params(summary, n_draws, seed)
        x, t_x, T = (summary[c].to_numpy(float)[None, :] for c in ("x", "t_x", "T"))
        ratio = np.exp((k["r"] + x) * (np.log(k["alpha"] + T) - np.log(k["alpha"] + t_x)))
        return 1.0 / (1.0 + k["a"] / (k["b"] + x) * ratio)

    def expected_purchases(
        self, summary: pd.DataFrame, years: float, n_draws: int | None = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of expected purchases in the next ``years``: array (draws, customers)."""
        k = self._params(summary, n_draws, seed)
        x, t_x, T = (summary[c].to_numpy(float)[None, :] for c in ("x", "t_x", "T"))
        r, alpha, a, b = k["r"], k["alpha"], k["a"], k["b"]
        z = years / (alpha + T + years)
        hyp = special.hyp2f1(r + x, b + x + 1, a + b + x, z)
        num = (a + b + x) / (a - 1) * (1 - ((alpha + T) / (alpha + T + years)) ** (r + x) * hyp)
        den = 1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return num / den

    def expected_order_value(
        self, summary: pd.DataFrame, n_draws: int | None = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of each customer's expected order value (Gamma-Gamma; population mean without repeats)."""
        k = self._params(summary, n_draws, seed)
        x = summary["x"].to_numpy(float)[None, :]
        m = summary["repeat_value"].fillna(0).to_numpy(float)[None, :]
        p, q, g = k["p"], k["q"], k["gamma"]
        return np.where(x > 0, (g + m * x) * p / (p * x + q - 1), p * g / (q - 1))

    def expected_return_share(
        self, summary: pd.DataFrame, n_draws: int | None = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of each customer's chance to send an order line back: the segment's Beta updated by the
        customer's own lines (zeros where the data has no returns)."""
        share, _ = self._returns(summary, n_draws, seed)
        return share

    def serial_returner_probability(
        self, summary: pd.DataFrame, n_draws: int | None = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of the chance that each customer is a serial returner (sends back more than half)."""
        _, heavy = self._returns(summary, n_draws, seed)
        return heavy

    def _returns(
        self, summary: pd.DataFrame, n_draws: int | None, seed: int
    ) -> tuple[np.ndarray, np.ndarray]:
        k = self._params(summary, n_draws, seed)
        if "mean_return" not in k or "lines" not in summary:
            return np.zeros_like(k["r"]), np.zeros_like(k["r"])
        n = summary["lines"].to_numpy(float)[None, :]
        got = summary["returned_lines"].to_numpy(float)[None, :]
        a, b = (
            k["mean_return"] * k["return_concentration"],
            (1 - k["mean_return"]) * k["return_concentration"],
        )
        sa = k["serial_return"] * k["serial_return_concentration"]
        sb = (1 - k["serial_return"]) * k["serial_return_concentration"]
        log_heavy = np.log(k["serial_returner_share"]) + beta_binomial_loglik(got, n, sa, sb)
        log_ordinary = np.log1p(-k["serial_returner_share"]) + beta_binomial_loglik(got, n, a, b)
        heavy = special.expit(log_heavy - log_ordinary)
        share = (1 - heavy) * (a + got) / (a + b + n) + heavy * (sa + got) / (sa + sb + n)
        return share, heavy

    def profit_per_order(self, summary: pd.DataFrame, n_draws: int | None = 400, seed: int = 0) -> np.ndarray:
        """Draws of each customer's expected profit per order: order value x (share kept x (1 - cost of goods
        rate) - cost to serve rate). Negative for a customer who sends most things back."""
        spend = self.expected_order_value(summary, n_draws, seed)
        kept = 1 - self.expected_return_share(summary, n_draws, seed)
        cost, serve = (_rate(summary, c) for c in ("cost_rate", "serve_rate"))
        return spend * (kept * (1 - cost) - serve)

    def customer_value(
        self,
        summary: pd.DataFrame,
        years: float = 1.0,
        n_draws: int = 400,
        seed: int = 0,
        annual_discount: float = 0.0,
    ) -> pd.DataFrame:
        """Per customer: P(alive), expected purchases, return share, and value (profit) over ``years`` with 90 %
        intervals, beside the revenue after returns it comes from. ``value`` can be negative."""
        purchases = self.expected_purchases(summary, years, n_draws, seed)
        discount = (1 + annual_discount) ** (years / 2)
        value = purchases * self.profit_per_order(summary, n_draws, seed) / discount
        returned = self.expected_return_share(summary, n_draws, seed)
        revenue = purchases * self.expected_order_value(summary, n_draws, seed) * (1 - returned) / discount
        alive = self.p_alive(summary, n_draws, seed)
        out = summary[["customer_id", self.by, "x", "t_x", "T"]].copy()
        out["p_alive"] = alive.mean(axis=0)
        out["expected_purchases"] = purchases.mean(axis=0)
        out["return_share"] = returned.mean(axis=0)
        out["p_serial_returner"] = self.serial_returner_probability(summary, n_draws, seed).mean(axis=0)
        out["cost_of_goods_rate"], out["cost_to_serve_rate"] = (
            np.broadcast_to(_rate(summary, c), (1, len(summary)))[0] for c in ("cost_rate", "serve_rate")
        )
        out["revenue_after_returns"] = revenue.mean(axis=0)
        out["value"] = value.mean(axis=0)
        out["value_p05"], out["value_p95"] = np.quantile(value, [0.05, 0.95], axis=0)
        return out.sort_values("value", ascending=False, ignore_index=True)

    def total_value(
        self, summary: pd.DataFrame, years: float = 1.0, n_draws: int = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of the customers' expected value (profit) over ``years``, added up: the range of the total is
        the model's uncertainty (what any one customer will do varies far more and averages out in the sum)."""
        purchases = self.expected_purchases(summary, years, n_draws, seed)
        return (purchases * self.profit_per_order(summary, n_draws, seed)).sum(axis=1)

    def check_holdout(
        self, summary: pd.DataFrame, n_draws: int = 200, seed: int = 0, intervals: bool = True
    ) -> HoldoutCheck:
        """Predicted against actual purchases in the holdout window, overall and by calibration frequency, and
        (``intervals``) the coverage of each customer's predictive interval."""
        if "holdout_purchases" not in summary:
            raise OmnimodelError("the summary has no holdout", fix="call purchase_summary with holdout_end")
        years = float(summary["holdout_years"].iloc[0])
        pred = self.expected_purchases(summary, years, n_draws, seed).mean(axis=0)
        frame = pd.DataFrame(
            {
                "x": np.minimum(summary["x"].to_numpy(), 7),
                "predicted": pred,
                "actual": summary["holdout_purchases"].to_numpy(float),
            }
        )
        by = (
            frame.groupby("x")
            .agg(customers=("actual", "size"), predicted=("predicted", "mean"), actual=("actual", "mean"))
            .reset_index()
        )
        by["x"] = by["x"].astype(str).replace({"7": "7+"})
        return HoldoutCheck(
            by,
            float(pred.sum()),
            float(frame["actual"].sum()),
            float(np.abs(frame["predicted"] - frame["actual"]).mean()),
            *self._coverage(summary, n_draws, seed, intervals),
        )

    def predictive_purchases(
        self, summary: pd.DataFrame, years: float, n_draws: int = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of what each customer will buy in the next ``years`` (not the mean of customers like them):
        int array (draws, customers); see :mod:`omnimodel.profile.clv.predictive`."""
        from omnimodel.profile.clv.predictive import simulate_purchases

        k = self._params(summary, n_draws, seed)
        return simulate_purchases(k, self.p_alive(summary, n_draws, seed), summary, years, seed)

    def holdout_intervals(
        self, summary: pd.DataFrame, level: float = 0.8, n_draws: int = 400, seed: int = 0
    ) -> pd.DataFrame:
        """Per customer: the predictive interval of holdout purchases (``level``), the actual count, whether it
        falls inside, and the randomised PIT."""
        from omnimodel.profile.clv.predictive import intervals

        if "holdout_purchases" not in summary:
            raise OmnimodelError("the summary has no holdout", fix="call purchase_summary with holdout_end")
        years = float(summary["holdout_years"].iloc[0])
        return intervals(self.predictive_purchases(summary, years, n_draws, seed), summary, level, seed)

    def _coverage(self, summary: pd.DataFrame, n_draws: int, seed: int, wanted: bool) -> tuple:
        if not wanted:
            return (None, None)
        from omnimodel.profile.clv.predictive import coverage

        got = coverage(self.holdout_intervals(summary, 0.8, n_draws, seed))
        return (got["interval"], got["pit"])


def _rate(summary: pd.DataFrame, column: str) -> np.ndarray:
    """A per-customer cost rate, where unknown the customers' median (0 when the data has none)."""
    if column not in summary:
        return np.zeros(len(summary))
    x = summary[column].astype(float)
    return x.fillna(x.median() if x.notna().any() else 0.0).to_numpy()[None, :]
