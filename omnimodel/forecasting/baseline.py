"""Baseline forecasts per series: ETS models (statsmodels) chosen by a rolling-origin backtest.

For every node of a :class:`~omnimodel.forecasting.series.Hierarchy`, candidate models (ETS with additive or
multiplicative error and seasonality, a damped, undamped or no trend, and seasonal naive itself) are compared on rolling
origins. The origins are split in two: the earlier ones **choose** the model (lowest mean MASE), the later ones
**score** the chosen model against seasonal naive, so the reported MASE is not flattered by the choice.

MASE scales absolute errors by the in-sample mean absolute seasonal difference of the training data (Hyndman
and Koehler 2006); a series shorter than two seasons can only be scaled, and forecast, without seasonality, and
its benchmark becomes the naive forecast (the last value). Forecast draws come from each model's simulation
(``ETSResults.simulate``), are clipped at zero and then reconciled so that they add up.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from omnimodel.exceptions import OmnimodelError, ParameterError
from omnimodel.forecasting.series import Hierarchy

#: name -> ETSModel settings; "s" marks seasonal models, "m" models that need positive data
CANDIDATES: dict[str, tuple[dict[str, Any], str]] = {
    "ETS(A,N,A)": ({"error": "add", "seasonal": "add"}, "s"),
    "ETS(A,A,A)": ({"error": "add", "trend": "add", "seasonal": "add"}, "s"),
    "ETS(A,Ad,A)": ({"error": "add", "trend": "add", "damped_trend": True, "seasonal": "add"}, "s"),
    "ETS(M,N,M)": ({"error": "mul", "seasonal": "mul"}, "sm"),
    "ETS(M,A,M)": ({"error": "mul", "trend": "add", "seasonal": "mul"}, "sm"),
    "ETS(M,Ad,M)": ({"error": "mul", "trend": "add", "damped_trend": True, "seasonal": "mul"}, "sm"),
    "ETS(A,N,N)": ({"error": "add"}, ""),
    "ETS(A,Ad,N)": ({"error": "add", "trend": "add", "damped_trend": True}, ""),
    "ETS(M,N,N)": ({"error": "mul"}, "m"),
}
SNAIVE = "seasonal naive"


def _usable_season(n_train: int, m: int) -> int:
    """Seasonality needs two full seasons of training data; otherwise treat the series as non-seasonal."""
    return m if m > 1 and n_train >= 2 * m else 1


def mase_scale(train: np.ndarray, m: int) -> float:
    """Mean absolute seasonal difference of the training data (1 when it has no spread, to avoid 0/0)."""
    m = m if len(train) > m else 1
    diffs = np.abs(train[m:] - train[:-m])
    return float(diffs.mean()) if len(diffs) and diffs.mean() > 0 else 1.0


def seasonal_naive(train: np.ndarray, h: int, m: int) -> np.ndarray:
    """The benchmark: each of the next ``h`` periods repeats the same period one season (``m``) before."""
    m = m if len(train) >= m else 1
    last = train[-m:]
    return np.array([last[i % m] for i in range(h)])


def _candidates(train: np.ndarray, m: int) -> list[str]:
    seasonal = _usable_season(len(train), m) > 1
    positive = bool((train > 0).all())
    out = [SNAIVE]
    for name, (_, flags) in CANDIDATES.items():
        if ("s" in flags) != seasonal or ("m" in flags and not positive):
            continue
        out.append(name)
    return out


def _fit(name: str, train: np.ndarray, m: int):
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    settings, flags = CANDIDATES[name]
    kw = {"seasonal_periods": m} if "s" in flags else {}
    with warnings.catch_warnings():
        # Not hidden: whether the optimiser converged is read from the result (converged()) and reported.
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        return ETSModel(train, **settings, **kw).fit(disp=False, maxiter=200)


def converged(result) -> bool:
    """Whether an ETS fit's likelihood optimiser converged (statsmodels' ``mle_retvals``)."""
    return bool((getattr(result, "mle_retvals", None) or {}).get("converged", True))


def _forecast(name: str, train: np.ndarray, h: int, m: int) -> tuple[np.ndarray, bool]:
    if name == SNAIVE:
        return seasonal_naive(train, h, _usable_season(len(train), m)), True
    result = _fit(name, train, m)
    return np.asarray(result.forecast(h)), converged(result)


def point_forecast(name: str, train: np.ndarray, h: int, m: int) -> np.ndarray:
    """The ``h``-step point forecast of candidate model ``name`` fitted on ``train``."""
    return _forecast(name, train, h, m)[0]


def rolling_origin(
    y: np.ndarray, m: int, h: int, n_select: int, n_score: int, candidates: list[str] | None = None
) -> pd.DataFrame:
    """MASE of each candidate at each origin; ``phase`` says whether an origin chooses or scores, ``converged``
    whether the model's fit converged there."""
    n = len(y)
    origins = list(range(n - h - n_select - n_score + 1, n - h + 1))
    if origins[0] < 4:
        raise OmnimodelError(
            f"{n} periods are too few for {n_select + n_score} origins of horizon {h}",
            fix="use fewer choosing or scoring origins, a shorter horizon, or a longer history",
        )
    rows = []
    for i, o in enumerate(origins):
        train, test = y[:o], y[o : o + h]
        scale = mase_scale(train, _usable_season(len(train), m))
        for name in candidates or _candidates(train, m):
            if name != SNAIVE and name not in _candidates(train, m):
                continue
            try:
                f, ok = _forecast(name, train, h, m)
            except Exception:  # a model that cannot be fitted at this origin simply does not compete
                continue
            err = float(np.mean(np.abs(test - f))) / scale
            if np.isfinite(err):
                phase = "choose" if i < n_select else "score"
                rows.append({"origin": o, "phase": phase, "model": name, "mase": err, "converged": ok})
    return pd.DataFrame(rows)


def _comparable(choosing: pd.DataFrame) -> pd.DataFrame:
    """One series' choosing rows on equal terms: the models that can be fitted at the last choosing origin
    (what the forecast will use), on the origins where every one of them has a forecast. A seasonal model
    becomes possible part way through once the history holds two seasons; before that it cannot compete."""
    last = choosing["origin"].max()
    models = set(choosing.loc[choosing["origin"] == last, "model"])
    per_origin = choosing.groupby("origin")["model"].agg(set)
    origins = [o for o, present in per_origin.items() if models <= present]
    return choosing[choosing["model"].isin(models) & choosing["origin"].isin(origins)]


@dataclass
class BaselineBacktest:
    """Per node: the chosen model and its MASE against seasonal naive on the scoring origins, and how many of
    the node's fits (every candidate at every origin) did not converge."""

    summary: pd.DataFrame
    detail: pd.DataFrame = field(repr=False)

    @property
    def models(self) -> dict[str, str]:
        """The chosen model of each node, as :func:`forecast_hierarchy` takes them."""
        return dict(zip(self.summary["node"], self.summary["model"], strict=True))

    @property
    def overall(self) -> dict:
        """Mean MASE of the chosen models and of seasonal naive, and how many series beat it."""
        s = self.summary
        return {
            "series": len(s),
            "mase_model": float(s["mase_model"].mean()),
            "mase_seasonal_naive": float(s["mase_seasonal_naive"].mean()),
            "series_beating_seasonal_naive": int((s["mase_model"] < s["mase_seasonal_naive"]).sum()),
            "fits_not_converged": int(s["fits_not_converged"].sum()),
        }


def backtest(
    hierarchy: Hierarchy,
    h: int | None = None,
    n_select: int = 4,
    n_score: int = 8,
    choose_by: str = "series",
    progress: bool = False,
) -> BaselineBacktest:
    """Choose a model per node on the first ``n_select`` origins; score it on the last ``n_score``.

    ``choose_by="level"`` chooses one model per hierarchy level (the lowest mean MASE over all the level's
    series, among models every one of them can use): for short series, where a choice made on two or three
    origins of one series is mostly noise. ``progress`` shows a progress bar over the series (on stderr).
    """
    if choose_by not in ("series", "level"):
        raise ParameterError(
            f"choose_by must be 'series' or 'level', got {choose_by!r}", fix="use series or level"
        )
    m = hierarchy.season_length
    h = h or m
    series = hierarchy.all_series()
    details = []
    for node in tqdm(series.columns, desc="backtest", unit="series", disable=not progress, leave=False):
        d = rolling_origin(series[node].to_numpy(float), m, h, n_select, n_score)
        d.insert(0, "node", node)
        details.append(d)
    detail = pd.concat(details, ignore_index=True)
    choosing = pd.concat(
        [_comparable(part) for _, part in detail[detail["phase"] == "choose"].groupby("node")]
    )
    choose = choosing.pivot_table(index="node", columns="model", values="mase")
    if choose_by == "series":
        chosen = choose.idxmin(axis=1)
    else:
        depth = hierarchy.nodes().set_index("node")["depth"]
        chosen = pd.concat(
            [
                pd.Series(part.dropna(axis=1).mean().idxmin(), index=part.index)
                for _, part in choose.groupby(depth.reindex(choose.index))
            ]
        )
    summary = pd.DataFrame({"node": list(series.columns)})
    summary["model"] = chosen.reindex(summary["node"]).to_numpy()
    scoring = detail[detail["phase"] == "score"].set_index(["node", "origin", "model"])["mase"]
    rows = []
    for node, model in zip(summary["node"], summary["model"], strict=True):
        # The chosen model and seasonal naive on the same origins: those where both have a forecast.
        both = (
            scoring.loc[node].unstack("model").reindex(columns=list(dict.fromkeys([model, SNAIVE]))).dropna()
        )
        rows.append((both[model].mean(), both[SNAIVE].mean(), len(both)))
    summary = summary.join(
        pd.DataFrame(rows, columns=["mase_model", "mase_seasonal_naive", "scored_origins"])
    )
    summary["relative"] = summary["mase_model"] / summary["mase_seasonal_naive"]
    failed = (~detail["converged"].astype(bool)).groupby(detail["node"]).sum()
    summary["fits_not_converged"] = failed.reindex(summary["node"]).fillna(0).astype(int).to_numpy()
    return BaselineBacktest(summary, detail)


def choose_models(hierarchy: Hierarchy, h: int | None = None, n_select: int = 2) -> dict[str, str]:
    """The model per node with the lowest mean MASE on the last ``n_select`` origins, without scoring: for
    panels that need the choice but not the proof (notebook 04's backtest shows the proof)."""
    m = hierarchy.season_length
    series = hierarchy.all_series()
    chosen = {}
    for node in series.columns:
        d = rolling_origin(series[node].to_numpy(float), m, h or m, n_select, 0)
        chosen[node] = _comparable(d).groupby("model")["mase"].mean().idxmin()
    return chosen


def forecast_draws(
    y: np.ndarray, model: str, h: int, m: int, n_draws: int = 1000, seed: int = 0
) -> np.ndarray:
    """Sample paths (h x n_draws) of one series' future under the given model, clipped at zero."""
    return _forecast_draws(y, model, h, m, n_draws, seed)[0]


def _forecast_draws(
    y: np.ndarray, model: str, h: int, m: int, n_draws: int, seed: int
) -> tuple[np.ndarray, bool]:
    """The sample paths and whether the model's fit converged."""
    rng = np.random.default_rng(seed)
    ok = True
    if model == SNAIVE:
        mm = _usable_season(len(y), m)
        point = seasonal_naive(y, h, mm)
        resid = y[mm:] - y[:-mm] if len(y) > mm else np.array([0.0])
        sd = float(np.std(resid)) if len(resid) > 1 else 0.0
        steps = np.floor(np.arange(h) / mm) + 1  # each further season adds another season's error
        paths = point[:, None] + rng.normal(0, 1, (h, n_draws)) * sd * np.sqrt(steps)[:, None]
    else:
        res = _fit(model, y, m)
        paths = np.asarray(res.simulate(h, repetitions=n_draws, anchor="end", rng=rng)).reshape(h, n_draws)
        ok = converged(res)
    return np.clip(np.nan_to_num(paths, nan=0.0), 0, None), ok


@dataclass
class HierarchyForecast:
    """Reconciled forecast draws of every node: ``draws[node, period, draw]``; ``not_converged`` names the
    nodes whose model fit did not converge (their draws are used, and said so)."""

    nodes: pd.DataFrame
    periods: pd.PeriodIndex
    draws: np.ndarray
    models: dict[str, str]
    not_converged: list[str] = field(default_factory=list)

    def nodes_to_show(self, top: str | None = None, second: str | None = None) -> list[str]:
        """Node labels for one fan each: the total and every node of the first level (or only ``top``); with
        ``second``, the second level's nodes with that value (within ``top`` when given)."""
        levels = [c for c in self.nodes.columns if c not in ("node", "depth")]
        n = self.nodes
        if second is not None and len(levels) > 1:
            keep = (n["depth"] == 2) & (n[levels[1]] == second)
            if top is not None:
                keep &= n[levels[0]] == top
        else:
            keep = n["depth"] == 0
            if levels:
                keep |= (n["depth"] == 1) & (n[levels[0]] == top if top is not None else n["depth"] == 1)
        return n.loc[keep, "node"].tolist()

    def quantiles(self, q=(0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Long frame: node, period, and one column per quantile."""
        qs = np.quantile(self.draws, q, axis=2)
        rows = []
        for i, node in enumerate(self.nodes["node"]):
            for j, period in enumerate(self.periods):
                rows.append(
                    {
                        "node": node,
                        "period": period,
                        **{f"p{round(x * 100):02d}": qs[k, i, j] for k, x in enumerate(q)},
                    }
                )
        return pd.DataFrame(rows)

    def period_total(self, start=None, end=None) -> np.ndarray:
        """Draws (nodes x draws) of the sum over the periods from ``start`` to ``end`` (inclusive)."""
        keep = np.ones(len(self.periods), dtype=bool)
        if start is not None:
            keep &= self.periods >= pd.Period(start, self.periods.freq)
        if end is not None:
            keep &= self.periods <= pd.Period(end, self.periods.freq)
        return self.draws[:, keep, :].sum(axis=1)


def forecast_hierarchy(
    hierarchy: Hierarchy,
    h: int,
    models: dict[str, str] | None = None,
    n_draws: int = 1000,
    seed: int = 0,
) -> HierarchyForecast:
    """Draws for every node with its model (from a backtest; default ETS(A,Ad,A)/ETS(A,Ad,N)), reconciled."""
    from omnimodel.forecasting.reconcile import reconcile

    m = hierarchy.season_length
    series = hierarchy.all_series()
    default = "ETS(A,Ad,A)" if _usable_season(len(series), m) > 1 else "ETS(A,Ad,N)"
    models = {node: (models or {}).get(node, default) for node in series.columns}
    draws_per_node, not_converged = [], []
    for i, node in enumerate(series.columns):
        paths, ok = _forecast_draws(series[node].to_numpy(float), models[node], h, m, n_draws, seed + i)
        draws_per_node.append(paths)
        if not ok:
            not_converged.append(node)
    base = np.stack(draws_per_node)
    # Reconciled bottom draws can dip below zero for small series; revenue cannot, so clip the bottom
    # series and add them up again, which keeps every draw coherent.
    s = hierarchy.summing_matrix()
    # The reconciled bottom nodes, in the order of the bottom series (the columns of S): the nodes are sorted by
    # their level values, the series are in whatever order they were given.
    nodes = hierarchy.nodes().reset_index()
    bottom_nodes = nodes[nodes["depth"] == len(hierarchy.levels)]
    row_of = hierarchy.keys.merge(bottom_nodes, on=hierarchy.levels, how="left")["index"].to_numpy()
    # Each node weighted by the spread of its own draws: a large series' error is not pushed onto a small one.
    spread = base.var(axis=2).mean(axis=1)
    bottom = np.clip(reconcile(base, s, spread)[row_of], 0, None)
    draws = np.einsum("nb,bhd->nhd", s, bottom)
    last = series.index[-1]
    periods = pd.period_range(last + 1, periods=h, freq=series.index.freq)
    return HierarchyForecast(hierarchy.nodes(), periods, draws, models, not_converged)


def seasonal_profile(y: pd.Series, model: str = "ETS(M,Ad,M)") -> pd.Series:
    """The fitted seasonal factors of a monthly or quarterly series, by month/quarter, scaled to mean 1.

    Multiplicative models give factors directly; additive ones are turned into factors relative to the level.
    """
    m = {"M": 12, "Q": 4}[y.index.freqstr[0]]
    res = _fit(model, y.to_numpy(float), m)
    states = np.asarray(res.states)
    seasonal = states[-m:, -1]
    if CANDIDATES[model][0]["seasonal"] == "add":
        seasonal = 1 + seasonal / states[-m:, 0]
    season_of = y.index[-m:].month if m == 12 else y.index[-m:].quarter
    return pd.Series(seasonal / seasonal.mean(), index=season_of).sort_index()
