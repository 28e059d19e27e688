"""Coherent forecasts: every node's forecast equals the sum of its bottom series' forecasts.

Method: weighted least squares (Wickramasuriya, Athanasopoulos and Hyndman 2019, "WLS with variance scaling";
Athanasopoulos et al. 2017 for structural scaling). Base forecasts of all nodes ``yhat`` are projected onto the
coherent subspace with ``S (S' W^-1 S)^-1 S' W^-1 yhat``, where ``W`` is diagonal: by default the forecast
variance of each node (the spread of its base draws), so a total's error is not pushed onto a small series
(with one series near 10 and one near 1,000, equal weights would move the small one by half the total's
error); without variances, the number of bottom series under each node (structural scaling). Neither needs the
error covariances that short series cannot estimate. Applied to every forecast draw, it makes each draw
coherent, so P(hit) of a total and of its parts agree.
Cross-series correlation of the draws is not modelled: the draws of different series are independent before
reconciliation, which can make intervals of totals too narrow when series move together.
"""

from __future__ import annotations

import numpy as np


def reconciliation_matrix(s: np.ndarray, variance: np.ndarray | None = None) -> np.ndarray:
    """The matrix G (bottom x nodes) with coherent bottom forecasts = G @ base forecasts of all nodes;
    ``variance`` per node (default: structural scaling, the number of bottom series under each node)."""
    w = s.sum(axis=1) if variance is None else np.asarray(variance, dtype=float)
    # A node with no spread (a flat seasonal-naive forecast) would get infinite weight: floor it.
    w = np.maximum(w, max(float(w.max()), 1.0) * 1e-9)
    w_inv = 1.0 / w
    sw = s.T * w_inv  # S' W^-1
    return np.linalg.solve(sw @ s, sw)


def reconcile(base: np.ndarray, s: np.ndarray, variance: np.ndarray | None = None) -> np.ndarray:
    """Coherent forecasts of all nodes from base forecasts of shape (nodes, ...), weighted by ``variance``."""
    g = reconciliation_matrix(s, variance)
    flat = base.reshape(base.shape[0], -1)
    return (s @ (g @ flat)).reshape(base.shape)
