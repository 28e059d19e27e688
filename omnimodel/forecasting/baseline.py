"""Baseline forecasts per series: candidate models (:mod:`omnimodel.forecasting.models`) chosen by a rolling-origin
backtest.

For every node of a :class:`~omnimodel.forecasting.series.Hierarchy`, candidate models (ETS with additive or
multiplicative error and seasonality, a damped, undamped or no trend; the Theta method; seasonal naive itself) are
compared on rolling origins. The origins are split in two: the earlier ones **choose** the model (lowest mean
MASE), the later ones **score** the chosen model against seasonal naive, so the reported MASE is not flattered by
the choice.

MASE scales absolute errors by the in-sample mean absolute seasonal difference of the training data (Hyndman
and Koehler 2006); a series shorter than two seasons can only be scaled, and forecast, without seasonality, and
its benchmark becomes the naive forecast (the last value). Forecast draws are the models' simulated sample
paths, clipped at zero and then reconciled so that they add up.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from omnimodel.exceptions import OmnimodelError, ParameterError
from omnimodel.forecasting import models
from omnimodel.forecasting.models import CANDIDATES, SNAIVE, converged, seasonal_naive  # noqa: F401 (named here as before)
from omnimodel.forecasting.series import Hierarchy

_usable_season = models.usable_season
#: how a model's fit fails on a series it cannot describe (too short, constant, numerically singular): that model
#: does not compete at that origin, and the backtest counts it per series; any other error is a bug and is raised.
#: numpy's LinAlgError is a ValueError; statsforecast refuses ETS on a tiny series with NotImplementedError.
FIT_FAILURES = (ValueError, ArithmeticError, NotImplementedError)


def mase_scale(train: np.ndarray, m: int) -> float:
    """Mean absolute seasonal difference of the training data (1 when it has no spread, to avoid 0/0)."""
    m = m if len(train) > m else 1
    diffs = np.abs(train[m:] - train[:-m])
    return float(diffs.mean()) if len(diffs) and diffs.mean() > 0 else 1.0


def rolling_origin(
    y: np.ndarray,
    m: int,
    h: int,
    n_select: int,
    n_score: int,
    candidates: list[str] | None = None,
    phase: str | None = None,
) -> pd.DataFrame:
    """MASE of each candidate at each origin; ``phase`` says whether an origin chooses or scores, ``converged``
    whether the model's fit converged there, ``failed`` that it could not be fitted there (:data:`FIT_FAILURES`;
    no MASE, and it does not compete). Given ``phase``, only that phase's origins are computed."""
    n = len(y)
    origins = list(range(n - h - n_select - n_score + 1, n - h + 1))
    if origins[0] < 4:
        raise OmnimodelError(
            f"{n} periods are too few for {n_select + n_score} origins of horizon {h}",
            fix="use fewer choosing or scoring origins, a shorter horizon, or a longer history",
        )
    rows = []
    for i, o in enumerate(origins):
        at = "choose" if i < n_select else "score"
        if phase is not None and at != phase:
            continue
        train, test = y[:o], y[o : o + h]
        scale = mase_scale(train, _usable_season(len(train), m))
        possible = models.candidates(train, m)
        for name in candidates or possible:
            if name not in possible:
                continue
            try:
                f, ok = models.forecast(name, train, h, m)
            except FIT_FAILURES:
                rows.append(
                    {
                        "origin": o,
                        "phase": at,
                        "model": name,
                        "mase": np.nan,
                        "converged": False,
                        "failed": True,
                    }
                )
                continue
            err = float(np.mean(np.abs(test - f))) / scale
            if np.isfinite(err):
                rows.append(
                    {"origin": o, "phase": at, "model": name, "mase": err, "converged": ok, "failed": False}
                )
    return pd.DataFrame(rows, columns=["origin", "phase", "model", "mase", "converged", "failed"])


def _comparable(choosing: pd.DataFrame) -> pd.DataFrame:
    """One series' choosing rows on equal terms: the models that can be fitted at the last choosing origin
    (what the forecast will use), on the origins where every one of them has a forecast. A seasonal model
    becomes possible part way through once the history holds two seasons; before that it cannot compete."""
    choosing = choosing[~choosing["failed"].astype(bool)]
    last = choosing["origin"].max()
    models = set(choosing.loc[choosing["origin"] == last, "model"])
    per_origin = choosing.groupby("origin")["model"].agg(set)
    origins = [o for o, present in per_origin.items() if models <= present]
    return choosing[choosing["model"].isin(models) & choosing["origin"].isin(origins)]


@dataclass
class BaselineBacktest:
    """Per node: the chosen model and its MASE against seasonal naive on the scoring origins, and how many of
    the node's fits (every candidate at every origin) did not converge or could not be made."""

    summary: pd.DataFrame
    detail: pd.DataFrame = field(repr=False)  # every fit made: node, origin, phase, model, MASE, converged
    failed: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # the fits that could not be made

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
            "fits_failed": int(s["fits_failed"].sum()) if "fits_failed" in s else 0,
            "fits": len(self.detail[self.detail["model"] != SNAIVE]),
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

    def run(phase: str, desc: str, models_of: dict[str, list[str]] | None = None) -> pd.DataFrame:
        parts = []
        bar = tqdm(series.columns, desc=desc, unit="series", disable=not progress, leave=False, mininterval=0)
        for node in bar:  # mininterval 0: a fit takes milliseconds, and every series counts on screen
            given = models_of[node] if models_of else None
            d = rolling_origin(series[node].to_numpy(float), m, h, n_select, n_score, given, phase)
            d.insert(0, "node", node)
            parts.append(d)
        return pd.concat(parts, ignore_index=True)

    # Every candidate at the choosing origins; at the scoring origins only what is scored: the chosen model and
    # seasonal naive (fitting the others there would cost half the time for numbers nothing uses).
    choosing_detail = run("choose", "backtest: choose")
    choosing = pd.concat([_comparable(part) for _, part in choosing_detail.groupby("node")])
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
    scored = {
        node: list(dict.fromkeys([model, SNAIVE]))
        for node, model in zip(summary["node"], summary["model"], strict=True)
    }
    every = pd.concat([choosing_detail, run("score", "backtest: score", scored)], ignore_index=True)
    failed = every["failed"].astype(bool)
    detail, not_made = every[~failed].drop(columns="failed"), every[failed].drop(columns=["failed", "mase"])
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
    stopped = (~detail["converged"].astype(bool)).groupby(detail["node"]).sum()
    summary["fits_not_converged"] = stopped.reindex(summary["node"]).fillna(0).astype(int).to_numpy()
    summary["fits_failed"] = (
        not_made.groupby("node").size().reindex(summary["node"]).fillna(0).astype(int).to_numpy()
    )
    return BaselineBacktest(summary, detail.reset_index(drop=True), not_made.reset_index(drop=True))


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


def _forecast_draws(
    y: np.ndarray, model: str, h: int, m: int, n_draws: int, seed: int
) -> tuple[np.ndarray, bool]:
    """The sample paths and whether the model's fit converged."""
    paths, ok = models.sample_paths(model, y, h, m, n_draws, np.random.default_rng(seed))
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

    def quantiles(self, q: Sequence[float] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
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

    def period_total(self, start: str | None = None, end: str | None = None) -> np.ndarray:
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


def seasonal_profile(y: pd.Series) -> pd.Series:
    """The fitted seasonal factors of a monthly or quarterly series, by month/quarter, scaled to mean 1: the
    seasonal states of an ETS(M,Ad,M) fit (statsmodels, whose states are labelled by period)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = {"M": 12, "Q": 4}[y.index.freqstr[0]]
    settings = {
        "error": "mul",
        "trend": "add",
        "damped_trend": True,
        "seasonal": "mul",
        "seasonal_periods": m,
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        res = ETSModel(y.to_numpy(float), **settings).fit(disp=False, maxiter=200)
    seasonal = np.asarray(res.states)[-m:, -1]
    season_of = y.index[-m:].month if m == 12 else y.index[-m:].quarter
    return pd.Series(seasonal / seasonal.mean(), index=season_of).sort_index()
