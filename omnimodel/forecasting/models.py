"""The candidate baseline models and the engine that fits them: statsforecast.

Each candidate is one fixed ETS model (error, trend, seasonality) or the optimised Theta method, fitted by
statsforecast's compiled ETS and Theta code: the same likelihood as statsmodels' ETSModel, about ten times
faster on the backtest's thousands of short fits (``benchmarks/baseline_backtest.py``). Seasonal naive, the
benchmark every model must beat, is computed here directly. Like R's forecast package, statsforecast fits an ETS
model only to more points than its parameters plus four; before that the model does not compete at an origin.

statsforecast's optimiser (Nelder-Mead) stops after a fixed number of iterations; a fit that stops there is
counted as not converged (:func:`forecast` returns the flag), and the backtest judges its forecasts like any
other.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

#: name -> statsforecast settings; flags: "s" seasonal models, "m" models that need positive data,
#: "a" models that work seasonal or not (Theta tests the seasonality itself)
CANDIDATES: dict[str, tuple[dict[str, Any], str]] = {
    "ETS(A,N,A)": ({"model": "ANA", "damped": False}, "s"),
    "ETS(A,A,A)": ({"model": "AAA", "damped": False}, "s"),
    "ETS(A,Ad,A)": ({"model": "AAA", "damped": True}, "s"),
    "ETS(M,N,M)": ({"model": "MNM", "damped": False}, "sm"),
    "ETS(M,A,M)": ({"model": "MAM", "damped": False}, "sm"),
    "ETS(M,Ad,M)": ({"model": "MAM", "damped": True}, "sm"),
    "ETS(A,N,N)": ({"model": "ANN", "damped": False}, ""),
    "ETS(A,Ad,N)": ({"model": "AAN", "damped": True}, ""),
    "ETS(M,N,N)": ({"model": "MNN", "damped": False}, "m"),
    "Theta": ({}, "a"),
}
SNAIVE = "seasonal naive"
#: statsforecast's Nelder-Mead stops after this many iterations (its ``nit`` is then one more)
ITERATION_CAP = 1000


def usable_season(n_train: int, m: int) -> int:
    """Seasonality needs two full seasons of training data; otherwise treat the series as non-seasonal."""
    return m if m > 1 and n_train >= 2 * m else 1


def seasonal_naive(train: np.ndarray, h: int, m: int) -> np.ndarray:
    """The benchmark: each of the next ``h`` periods repeats the same period one season (``m``) before."""
    m = m if len(train) >= m else 1
    last = train[-m:]
    return np.array([last[i % m] for i in range(h)])


def candidates(train: np.ndarray, m: int) -> list[str]:
    """The models that can be fitted to ``train``: seasonal ones once it holds two seasons, multiplicative ones
    on positive data only; seasonal naive always."""
    seasonal = usable_season(len(train), m) > 1
    positive = bool((train > 0).all())
    out = [SNAIVE]
    for name, (_, flags) in CANDIDATES.items():
        if "a" not in flags and (("s" in flags) != seasonal or ("m" in flags and not positive)):
            continue
        out.append(name)
    return out


def _model(name: str, n_train: int, m: int):
    from statsforecast.models import AutoETS, AutoTheta

    season = usable_season(n_train, m)
    settings, _ = CANDIDATES[name]
    if name == "Theta":
        return AutoTheta(season_length=season)
    return AutoETS(season_length=season, **settings)


def converged(fitted: Any) -> bool:
    """Whether a fitted model's optimiser met its tolerance before its iteration cap."""
    result = fitted.model_.get("fit")
    return getattr(result, "nit", 0) <= ITERATION_CAP


def fit(name: str, train: np.ndarray, m: int) -> Any:
    """The fitted statsforecast model ``name`` (its ``model_`` holds the parameters and states)."""
    with warnings.catch_warnings():
        # Numerical warnings of the compiled code on flat stretches; the fit's quality is judged by the backtest.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _model(name, len(train), m).fit(np.asarray(train, dtype=float))


def forecast(name: str, train: np.ndarray, h: int, m: int) -> tuple[np.ndarray, bool]:
    """The ``h``-step point forecast of ``name`` fitted on ``train``, and whether the fit converged."""
    if name == SNAIVE:
        return seasonal_naive(train, h, usable_season(len(train), m)), True
    fitted = fit(name, train, m)
    return np.asarray(fitted.predict(h=h)["mean"], dtype=float), converged(fitted)


def statsmodels_settings(name: str, m: int) -> dict[str, Any]:
    """Statsmodels' ``ETSModel`` settings of an ETS candidate: "ETS(M,Ad,M)" -> mul error, damped add trend,
    mul seasonality."""
    error, trend, season = name[4:-1].split(",")
    kw: dict[str, Any] = {"error": {"A": "add", "M": "mul"}[error]}
    if trend != "N":
        kw |= {"trend": "add", "damped_trend": trend == "Ad"}
    if season != "N":
        kw |= {"seasonal": {"A": "add", "M": "mul"}[season], "seasonal_periods": m}
    return kw


def statsmodels_fit(name: str, y: np.ndarray, m: int) -> Any:
    """The ETS candidate ``name`` fitted by statsmodels (whose ``simulate`` the forecast draws use)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with warnings.catch_warnings():
        # Not hidden: whether the optimiser converged is read from the result and reported.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return ETSModel(y, **statsmodels_settings(name, m)).fit(disp=False, maxiter=200)


def sample_paths(
    name: str, y: np.ndarray, h: int, m: int, n_draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """``n_draws`` sample paths (h x n_draws) of the model's future and whether its fit converged, simulated
    from the fitted model's own error process, so errors build up over the horizon as the model says.

    ETS paths come from statsmodels (``ETSResults.simulate``): statsforecast 2.1's ``simulate`` drops the trend
    (its paths' mean fell 11 % short of its own point forecast over 12 months of the demo's total). Theta's
    come from statsforecast. Seasonal naive adds another season's error for each season ahead.
    """
    if name == SNAIVE:
        mm = usable_season(len(y), m)
        point = seasonal_naive(y, h, mm)
        resid = y[mm:] - y[:-mm] if len(y) > mm else np.array([0.0])
        sd = float(np.std(resid)) if len(resid) > 1 else 0.0
        steps = np.floor(np.arange(h) / mm) + 1
        return point[:, None] + rng.normal(0, 1, (h, n_draws)) * sd * np.sqrt(steps)[:, None], True
    if name == "Theta":
        fitted = fit(name, y, m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            paths = fitted.simulate(h=h, n_paths=n_draws, seed=int(rng.integers(2**31 - 1)))
        return np.asarray(paths, dtype=float).T, converged(fitted)
    m_used = usable_season(len(y), m)
    res = statsmodels_fit(name, y, m_used)
    paths = np.asarray(res.simulate(h, repetitions=n_draws, anchor="end", rng=rng)).reshape(h, n_draws)
    return paths, bool((getattr(res, "mle_retvals", None) or {}).get("converged", True))
