"""Customer lifetime value with PyMC: (M)BG/NBD for purchases and churn, Gamma-Gamma for spend.

Both models are fitted on per-customer sufficient statistics computed in the engine (repeat purchases ``x``,
time of the last purchase ``t_x`` and time observed ``T``, in years; average repeat order value net of
returns), with one parameter set per segment. From the posterior: P(alive), expected purchases and value over
a horizon with credible intervals, and a calibration/holdout check of predicted against actual purchases.

The purchase model is the modified BG/NBD (MBG/NBD): customers may drop out after any purchase, the first
included, which suits shops with many one-time buyers. References: Fader, Hardie and Lee (2005), "Counting your
customers the easy way" (BG/NBD); Batislam, Denizel and Filiztekin (2007) (MBG/NBD); Fader, Hardie and Lee
(2005), "RFM and CLV: using iso-value curves" (Gamma-Gamma).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
from scipy import special

from omnimodel.data.queries import sales_lines
from omnimodel.data.workspace import Workspace
from omnimodel.diagnostics import Diagnostics, quiet_sampler
from omnimodel.exceptions import NotFittedError, OmnimodelError
from omnimodel.saved import config_from_json, load_fit, save_fit

YEAR = 365.25
MONEY = "decimal(38, 6)"  # exact sums of money, whatever order the engine adds them in
#: priors (weakly informative): LogNormal ones as (median, log-scale sd), Beta as (alpha, beta); the spend's
#: median is the data's median repeat order value, so only its spread is set here
default_model_config = {
    "r": (1.0, 1.0),  # shape of the purchase rates across customers
    "mean_purchase_rate": (2.0, 1.0),  # purchases per year of an active customer
    "mean_dropout": (1.0, 4.0),  # Beta: chance of dropping out after a purchase (mean 0.2)
    "dropout_concentration": (5.0, 1.5),  # how alike customers' dropout chances are
    "p": (np.e, 1.0),  # Gamma-Gamma shape of a customer's spend per order
    "q_minus_1": (np.e, 1.0),  # Gamma-Gamma shape of the spread of mean spend across customers, minus 1
    "mean_spend_sd": 1.0,  # log-scale sd of the mean spend around the data's median repeat order value
}
default_sampler_config = {"draws": 1000, "tune": 1000, "chains": 2, "cores": 1, "target_accept": 0.9}
#: the sampled parameters, over which convergence is judged
PARAMETERS = (
    "r",
    "mean_purchase_rate",
    "mean_dropout",
    "dropout_concentration",
    "p",
    "q_minus_1",
    "mean_spend",
)


def purchase_summary(
    ws: Workspace,
    calibration_end: str,
    holdout_end: str | None = None,
    cohort_start: str | None = None,
    by: str = "segment",
) -> pd.DataFrame:
    """Per customer: x, t_x, T (years), repeat order value net of returns, and holdout purchases.

    Purchases are orders on distinct days. ``cohort_start`` keeps customers whose first purchase in the data
    is on or after it (their first purchase is really their first, which BG/NBD assumes).
    """
    cal = pd.Timestamp(calibration_end)
    lines = ws.table("order_lines")
    t = sales_lines(ws, known_customers=True)
    t = t.mutate(day=t.order_date.cast("date"))
    # Money is summed as exact decimals: floating-point sums run in parallel in the engine and differ in the
    # last bits from run to run, which moved repeat values across a rounding step and so the seeded posterior.
    value = t.group_by(["customer_id", "order_id"]).aggregate(
        value=t.revenue.cast(MONEY).sum(), day=t.day.min()
    )
    if ws.has("returns"):
        r = ws.table("returns").join(lines, ["order_id", "line_no"])
        r = r.group_by("order_id").aggregate(
            returned=(r.quantity * r.unit_price * (1 - r.discount.fill_null(0))).cast(MONEY).sum()
        )
        value = value.left_join(r, "order_id").drop("order_id_right")
        value = value.mutate(value=value.value - value.returned.fill_null(0))
    days = value.group_by(["customer_id", "day"]).aggregate(value=value.value.sum())
    cal_days = days.filter(days.day <= ibis.date(cal.date()))
    first = cal_days.group_by("customer_id").aggregate(first=cal_days.day.min())
    joined = cal_days.join(first, "customer_id")
    repeat = joined.filter(joined.day > joined.first)
    stats = joined.group_by("customer_id").aggregate(
        first=joined.first.min(), last=joined.day.max(), purchases=joined.count()
    )
    spend = repeat.group_by("customer_id").aggregate(repeat_value=repeat.value.mean().cast("float64"))
    out = stats.left_join(spend, "customer_id").drop("customer_id_right")
    if holdout_end:
        hold = days.filter(
            (days.day > ibis.date(cal.date())) & (days.day <= ibis.date(pd.Timestamp(holdout_end).date()))
        )
        hold = hold.group_by("customer_id").aggregate(
            holdout_purchases=hold.count(), holdout_value=hold.value.sum().cast("float64")
        )
        out = out.left_join(hold, "customer_id").drop("customer_id_right")
    if ws.has("customers", by):
        cols = ["customer_id", by] + (["acquisition_date"] if ws.has("customers", "acquisition_date") else [])
        frame = out.join(ws.table("customers").select(*cols), "customer_id").execute()
    else:  # no segments in the data: one parameter set for everybody
        frame = out.execute().assign(**{by: "all customers"})
    frame["first"], frame["last"] = pd.to_datetime(frame["first"]), pd.to_datetime(frame["last"])
    if cohort_start:
        # A customer acquired before the cohort whose first purchase *in the data* falls after it is a survivor,
        # not a newcomer: where the acquisition date is known, it decides.
        start = pd.Timestamp(cohort_start)
        keep = frame["first"] >= start
        if "acquisition_date" in frame:
            acquired = pd.to_datetime(frame["acquisition_date"])
            keep &= acquired.isna() | (acquired >= start)
        frame = frame[keep]
    # Rounded to a thousandth of a unit: the model needs no more, and Spark and DuckDB then agree exactly.
    frame["repeat_value"] = frame["repeat_value"].astype(float).round(3)
    frame["x"] = frame["purchases"] - 1
    frame["t_x"] = (frame["last"] - frame["first"]).dt.days / YEAR
    frame["T"] = (cal - frame["first"]).dt.days / YEAR
    if holdout_end:
        frame[["holdout_purchases", "holdout_value"]] = frame[["holdout_purchases", "holdout_value"]].fillna(
            0
        )
        frame["holdout_years"] = (pd.Timestamp(holdout_end) - cal).days / YEAR
    frame[by] = frame[by].astype("string").fillna("unknown")
    frame = frame[frame["T"] > 0]
    return frame.sort_values("customer_id", ignore_index=True)


def mbgnbd_loglik(r, alpha, a, b, x, t_x, T, xp=np):
    """MBG/NBD log-likelihood per customer (numpy arrays or PyTensor tensors via ``xp``).

    The modified BG/NBD (Batislam, Denizel and Filiztekin 2007): like BG/NBD, but a customer may also drop out
    right after the first purchase, so one-time buyers can be gone (plain BG/NBD keeps them alive for sure).
    """
    gammaln = special.gammaln if xp is np else xp.gammaln
    log = xp.log
    a1 = gammaln(r + x) - gammaln(r) + r * log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x + 1) - gammaln(b) - gammaln(a + b + x + 1)
    a3 = -(r + x) * log(alpha + T)
    a4 = log(a) - log(b + x) + (r + x) * (log(alpha + T) - log(alpha + t_x))
    return a1 + a2 + a3 + xp.logaddexp(a4, 0.0)


def gamma_gamma_loglik(p, q, gamma, x, m, xp=np):
    """Gamma-Gamma log-likelihood of the mean spend ``m`` over ``x`` repeat purchases."""
    gammaln = special.gammaln if xp is np else xp.gammaln
    log = xp.log
    return (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * log(gamma)
        + (p * x - 1) * log(m)
        + (p * x) * log(x)
        - (p * x + q) * log(gamma + m * x)
    )


@dataclass
class HoldoutCheck:
    """Predicted against actual purchases in the holdout period."""

    by_frequency: pd.DataFrame  # per calibration repeat-purchase count: customers, predicted, actual
    total_predicted: float
    total_actual: float
    mae_per_customer: float

    @property
    def relative_error(self) -> float:
        """(predicted - actual) / actual holdout purchases in total."""
        return (self.total_predicted - self.total_actual) / self.total_actual


class CLVModel:
    """MBG/NBD + Gamma-Gamma lifetime value, one parameter set per segment.

    Examples
    --------
    >>> summary = purchase_summary(ws, "2024-12-31", "2025-12-31", cohort_start="2023-01-01")  # doctest: +SKIP
    >>> model = CLVModel().fit(summary)  # doctest: +SKIP
    >>> model.check_holdout(summary).relative_error  # doctest: +SKIP
    """

    def __init__(
        self, by: str = "segment", sampler_config: dict | None = None, model_config: dict | None = None
    ):
        self.by = by
        self.model_config = {**default_model_config, **(model_config or {})}
        self.sampler_config = {**default_sampler_config, **(sampler_config or {})}

    def fit(self, summary: pd.DataFrame, random_seed: int = 0, max_customers: int | None = None) -> CLVModel:
        """Fit on the summary; ``max_customers`` fits on a seeded random sample (every customer can still be
        scored): a few thousand customers pin per-segment parameters, and sampling time grows with rows."""
        import pymc as pm
        import pytensor.tensor as pt

        if summary.empty:
            raise OmnimodelError("no customers to fit", table="orders", fix="choose a later calibration end")
        if max_customers and len(summary) > max_customers:
            summary = summary.sample(max_customers, random_state=random_seed)
        groups = sorted(summary[self.by].unique())
        idx = pd.Categorical(summary[self.by], categories=groups).codes
        x, t_x, T = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
        spenders = summary[(summary["x"] > 0) & (summary["repeat_value"] > 0)]
        sidx = pd.Categorical(spenders[self.by], categories=groups).codes
        median_spend = max(float(spenders["repeat_value"].median()), 1.0) if len(spenders) else 1.0
        cfg = self.model_config

        def lognormal(name: str, median_sd: tuple[float, float]):
            return pm.LogNormal(name, np.log(median_sd[0]), median_sd[1], dims="group")

        with pm.Model(coords={"group": groups}):
            # (r, alpha), (a, b) and (p, q, gamma) are strongly correlated in their natural form; sampling their
            # means and shapes instead keeps the posterior round and NUTS fast.
            r = lognormal("r", cfg["r"])
            mean_rate = lognormal("mean_purchase_rate", cfg["mean_purchase_rate"])  # per year
            alpha = pm.Deterministic("alpha", r / mean_rate, dims="group")
            mean_dropout = pm.Beta("mean_dropout", *cfg["mean_dropout"], dims="group")  # after each purchase
            concentration = lognormal("dropout_concentration", cfg["dropout_concentration"])
            a = pm.Deterministic("a", mean_dropout * concentration, dims="group")
            b = pm.Deterministic("b", (1 - mean_dropout) * concentration, dims="group")
            pm.Potential(
                "purchases", mbgnbd_loglik(r[idx], alpha[idx], a[idx], b[idx], x, t_x, T, xp=pt).sum()
            )
            p = lognormal("p", cfg["p"])
            q = pm.Deterministic("q", 1.0 + lognormal("q_minus_1", cfg["q_minus_1"]), dims="group")
            mean_spend = lognormal("mean_spend", (median_spend, cfg["mean_spend_sd"]))
            gamma = pm.Deterministic("gamma", mean_spend * (q - 1) / p, dims="group")
            pm.Potential(
                "spend",
                gamma_gamma_loglik(
                    p[sidx],
                    q[sidx],
                    gamma[sidx],
                    spenders["x"].to_numpy(float),
                    spenders["repeat_value"].to_numpy(float),
                    xp=pt,
                ).sum(),
            )
            with quiet_sampler():
                self.idata_ = pm.sample(
                    random_seed=random_seed,
                    progressbar=False,
                    compute_convergence_checks=False,
                    **self.sampler_config,
                )
        self.groups_ = groups
        self.diagnostics_ = Diagnostics.from_idata(self.idata_, var_names=PARAMETERS)
        return self

    def save(self, path: str | os.PathLike) -> Path:
        """Save the fitted model as NetCDF (posterior, configuration, groups and diagnostics; no pickle).

        Examples
        --------
        >>> model.save("clv.nc"); CLVModel.load("clv.nc").groups_  # doctest: +SKIP
        """
        self._check_fitted()
        state = {
            "by": self.by,
            "model_config": self.model_config,
            "sampler_config": self.sampler_config,
            "groups": self.groups_,
            "diagnostics": self.diagnostics_.__dict__,
        }
        return save_fit(self.idata_, path, "clv_model", state)

    @classmethod
    def load(cls, path: str | os.PathLike) -> CLVModel:
        """Load a model saved by :meth:`save`; it predicts exactly as the saved one did."""
        idata, state = load_fit(path, "clv_model")
        model = cls(state["by"], state["sampler_config"], config_from_json(state["model_config"]))
        model.idata_, model.groups_ = idata, state["groups"]
        model.diagnostics_ = Diagnostics(**state["diagnostics"])
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError("the CLV model is not fitted yet", fix="call fit(summary) first")

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
        return {
            k: post[k].transpose("sample", "group").to_numpy()[take][:, codes]
            for k in ("r", "alpha", "a", "b", "p", "q", "gamma")
        }

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

    def customer_value(
        self,
        summary: pd.DataFrame,
        years: float = 1.0,
        n_draws: int = 400,
        seed: int = 0,
        annual_discount: float = 0.0,
    ) -> pd.DataFrame:
        """Per customer: P(alive), expected purchases and value over ``years`` with 90 % intervals."""
        purchases = self.expected_purchases(summary, years, n_draws, seed)
        value = (
            purchases
            * self.expected_order_value(summary, n_draws, seed)
            / (1 + annual_discount) ** (years / 2)
        )
        alive = self.p_alive(summary, n_draws, seed)
        out = summary[["customer_id", self.by, "x", "t_x", "T"]].copy()
        out["p_alive"] = alive.mean(axis=0)
        out["expected_purchases"] = purchases.mean(axis=0)
        out["value"] = value.mean(axis=0)
        out["value_p05"], out["value_p95"] = np.quantile(value, [0.05, 0.95], axis=0)
        return out.sort_values("value", ascending=False, ignore_index=True)

    def total_value(
        self, summary: pd.DataFrame, years: float = 1.0, n_draws: int = 400, seed: int = 0
    ) -> np.ndarray:
        """Draws of the customers' expected value over ``years``, added up: the range of the total is the
        model's uncertainty (what any one customer will do varies far more and averages out in the sum)."""
        purchases = self.expected_purchases(summary, years, n_draws, seed)
        return (purchases * self.expected_order_value(summary, n_draws, seed)).sum(axis=1)

    def check_holdout(self, summary: pd.DataFrame, n_draws: int = 200, seed: int = 0) -> HoldoutCheck:
        """Predicted against actual purchases in the holdout window, overall and by calibration frequency."""
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
        )


def informative(
    values: pd.DataFrame, columns: list[str], spread: float = 0.05
) -> tuple[list[str], list[str]]:
    """The ``columns`` that tell customers apart, and a sentence for each one that does not: its 10th to 90th
    percentile range is below ``spread`` of its scale (P(alive) about 1.00 for everyone says nothing)."""
    keep, notes = [], []
    for col in columns:
        x = values[col].dropna().astype(float)
        p10, p90 = (float(x.quantile(q)) for q in (0.1, 0.9)) if len(x) else (0.0, 0.0)
        scale = 1.0 if col == "p_alive" else max(abs(p10), abs(p90), 1e-12)
        if len(x) and p90 - p10 >= spread * scale:
            keep.append(col)
        else:
            notes.append(
                f"{col} is about {x.median():.2f} for almost every customer (P10 {p10:.2f}, P90 {p90:.2f}): it "
                "cannot tell customers apart in this data, so it is left out of the table."
            )
    return keep, notes


def spread_by_group(values: pd.DataFrame, columns: list[str], by: str = "segment") -> pd.DataFrame:
    """Per group: customers, and each column's median with the range of the middle 80 % of its customers (what
    a reader needs of a distribution, instead of ``describe()``'s eight rows)."""
    rows = []
    for group, part in values.groupby(by):
        row: dict = {by: group, "customers": len(part)}
        for col in columns:
            row[f"{col}_median"] = part[col].median()
            row[f"{col}_p10"], row[f"{col}_p90"] = part[col].quantile([0.1, 0.9]).to_numpy()
        rows.append(row)
    return pd.DataFrame(rows)
