"""Coherent forecasts: every node's forecast equals the sum of its bottom series' forecasts.

Method: WLS with structural scaling (Athanasopoulos, Hyndman, Kourentzes and Petropoulos 2017). Base forecasts
of all nodes ``yhat`` are projected onto the coherent subspace with ``S (S' W^-1 S)^-1 S' W^-1 yhat``, where
``W`` is diagonal with the number of bottom series under each node, so a node that aggregates many series is
trusted more than one bottom series, without needing error covariances that short series cannot estimate.
Applied to every forecast draw, it makes each draw coherent, so P(hit) of a total and of its parts agree.
Cross-series correlation of the draws is not modelled: the draws of different series are independent before
reconciliation, which can make intervals of totals too narrow when series move together.
"""

from __future__ import annotations

import numpy as np


def reconciliation_matrix(s: np.ndarray) -> np.ndarray:
    """The matrix G (bottom x nodes) with coherent bottom forecasts = G @ base forecasts of all nodes."""
    w_inv = 1.0 / s.sum(axis=1)
    sw = s.T * w_inv  # S' W^-1
    return np.linalg.solve(sw @ s, sw)


def reconcile(base: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Coherent forecasts of all nodes from base forecasts of shape (nodes, ...)."""
    g = reconciliation_matrix(s)
    flat = base.reshape(base.shape[0], -1)
    return (s @ (g @ flat)).reshape(base.shape)
