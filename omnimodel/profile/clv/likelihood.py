"""The lifetime-value model written once: its priors, derived parameters and log-likelihoods.

Both fitters read it: PyMC's NUTS (:class:`omnimodel.profile.clv.CLVModel` with ``method="nuts"``) builds its
graph from these functions with PyTensor, and the Laplace fit (:mod:`omnimodel.laplace`) evaluates
the same functions with numpy. ``xp`` is the array module (numpy or ``pytensor.tensor``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

#: a numpy array or a PyTensor tensor: the same formulas serve the Laplace fit (numpy) and NUTS (PyTensor)
Array = Any

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
    "mean_return": (1.0, 9.0),  # Beta: chance that an order line is sent back (mean 0.1)
    "return_concentration": (10.0, 1.5),  # how alike customers' return chances are
    "serial_returner_share": (1.0, 19.0),  # Beta: share of customers who send most things back (mean 5 %)
    "serial_return_concentration": (10.0, 1.0),  # how alike serial returners are
}

#: the sampled parameters of each part of the model; (r, alpha), (a, b) and (p, q, gamma) are strongly
#: correlated in their natural form, so the means and shapes are sampled instead (a round posterior)
PURCHASE = ("r", "mean_purchase_rate", "mean_dropout", "dropout_concentration")
SPEND = ("p", "q_minus_1", "mean_spend")
RETURNS = ("mean_return", "return_concentration")  # per group
SERIAL = ("serial_returner_share", "serial_return", "serial_return_concentration")  # one for all groups


def priors(cfg: dict, median_spend: float, returns: bool) -> dict[str, tuple[str, tuple[float, float]]]:
    """Each sampled parameter's prior as (kind, arguments): ``lognormal`` (log median, log sd), ``beta``
    (alpha, beta) or ``uniform`` (lower, upper)."""

    def lognormal(median_sd: tuple[float, float]) -> tuple[str, tuple[float, float]]:
        return "lognormal", (float(np.log(median_sd[0])), float(median_sd[1]))

    out = {
        "r": lognormal(cfg["r"]),
        "mean_purchase_rate": lognormal(cfg["mean_purchase_rate"]),  # per year
        "mean_dropout": ("beta", tuple(cfg["mean_dropout"])),  # after each purchase
        "dropout_concentration": lognormal(cfg["dropout_concentration"]),
        "p": lognormal(cfg["p"]),
        "q_minus_1": lognormal(cfg["q_minus_1"]),
        "mean_spend": lognormal((median_spend, cfg["mean_spend_sd"])),
    }
    if returns:
        out |= {
            "mean_return": ("beta", tuple(cfg["mean_return"])),
            "return_concentration": lognormal(cfg["return_concentration"]),
            "serial_returner_share": ("beta", tuple(cfg["serial_returner_share"])),
            "serial_return": ("uniform", (0.5, 1.0)),  # a serial returner sends back more than half
            "serial_return_concentration": lognormal(cfg["serial_return_concentration"]),
        }
    return out


def purchase_parameters(v: dict) -> tuple[Any, Any, Any, Any]:
    """(r, alpha, a, b) of the MBG/NBD from the sampled rate shape, mean rate, mean dropout and concentration."""
    dropout, concentration = v["mean_dropout"], v["dropout_concentration"]
    return v["r"], v["r"] / v["mean_purchase_rate"], dropout * concentration, (1 - dropout) * concentration


def spend_parameters(v: dict) -> tuple[Any, Any, Any]:
    """(p, q, gamma) of the Gamma-Gamma from the sampled shape, shape of the spread minus 1 and mean spend."""
    q = 1.0 + v["q_minus_1"]
    return v["p"], q, v["mean_spend"] * (q - 1) / v["p"]


def derived(v: dict) -> dict:
    """The textbook parameters from the sampled ones: (alpha, a, b) of the MBG/NBD, (q, gamma) of the
    Gamma-Gamma."""
    _, alpha, a, b = purchase_parameters(v)
    _, q, gamma = spend_parameters(v)
    return {"alpha": alpha, "a": a, "b": b, "q": q, "gamma": gamma}


def _betaln(xp):
    """Log B(u, v): scipy's, accurate where u or v is huge (a long tail of a sampled concentration), or
    PyTensor's."""
    if xp is np:
        return special.betaln
    from pytensor.tensor.special import betaln

    return betaln


def _dropout(a, b, x, xp):
    """The log chance to stay through x + 1 purchase-dropout coins: log B(a, b + x + 1) - log B(a, b).

    For whole x it is the sum over j <= x of log(1 - a / (a + b + j)). Where (a, b) do not vary along the last
    axis (numpy with one parameter point per row, as the Laplace fit evaluates) that sum is taken once per
    point up to the largest x and looked up: exact for any a and b, and cheaper than two log-betas per customer.
    """
    if xp is not np or np.ndim(a) == 0 or np.shape(a)[-1] != 1 or np.shape(b)[-1] != 1:
        betaln = _betaln(xp)
        return betaln(a, b + x + 1) - betaln(a, b)
    steps = np.arange(int(np.max(x)) + 1)
    cumulative = np.cumsum(np.log1p(-a / (a + b + steps)), axis=-1)
    return cumulative[..., np.asarray(x, dtype=np.int64)]


def mbgnbd_loglik(
    r: Array, alpha: Array, a: Array, b: Array, x: Array, t_x: Array, T: Array, xp: Any = np
) -> Array:
    """MBG/NBD log-likelihood per customer (numpy arrays or PyTensor tensors via ``xp``).

    The modified BG/NBD (Batislam, Denizel and Filiztekin 2007): like BG/NBD, but a customer may also drop out
    right after the first purchase, so one-time buyers can be gone (plain BG/NBD keeps them alive for sure).
    Written with log1p and log-beta differences, so that huge shapes (far in a proposal's tail) do not cancel
    large terms against each other.
    """
    gammaln = special.gammaln if xp is np else xp.gammaln
    rates = gammaln(r + x) - gammaln(r) - r * xp.log1p(T / alpha) - x * xp.log(alpha + T)
    dropout = _dropout(a, b, x, xp)
    gone = xp.log(a) - xp.log(b + x) + (r + x) * xp.log1p((T - t_x) / (alpha + t_x))
    return rates + dropout + xp.logaddexp(gone, 0.0)


def gamma_gamma_loglik(p: Array, q: Array, gamma: Array, x: Array, m: Array, xp: Any = np) -> Array:
    """Gamma-Gamma log-likelihood of the mean spend ``m`` over ``x`` repeat purchases (log1p and log-beta
    forms, as in :func:`mbgnbd_loglik`)."""
    px = p * x
    return (
        -_betaln(xp)(px, q)
        + (px - 1) * xp.log(m)
        + px * xp.log(x)
        - q * xp.log1p(m * x / gamma)
        - px * xp.log(gamma + m * x)
    )


def beta_binomial_loglik(k: Array, n: Array, a: Array, b: Array, xp: Any = np) -> Array:
    """Beta-Binomial log-likelihood of ``k`` of ``n`` lines returned (without the constant binomial term)."""
    betaln = _betaln(xp)
    return betaln(k + a, n - k + b) - betaln(a, b)


def returns_loglik(v: dict, k: Array, n: Array, xp: Any = np) -> Array:
    """The returns mixture per customer. Most customers' chance to send a line back varies around their
    segment's (``mean_return``, ``return_concentration``, already one value per customer); a few (serial
    returners, across all segments) send back more than half. A single Beta would shrink a customer who returned
    9 of 10 lines to about one in two."""
    share, serial, conc = v["serial_returner_share"], v["serial_return"], v["serial_return_concentration"]
    mean, spread = v["mean_return"], v["return_concentration"]
    ordinary = xp.log1p(-share) + beta_binomial_loglik(k, n, mean * spread, (1 - mean) * spread, xp=xp)
    heavy = xp.log(share) + beta_binomial_loglik(k, n, serial * conc, (1 - serial) * conc, xp=xp)
    return xp.logaddexp(ordinary, heavy)
