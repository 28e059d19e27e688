"""A Bayesian model's fast fit: a Laplace approximation at the posterior mode, corrected by importance sampling
and checked by Pareto k. Used by the lifetime-value model and the pipeline model; NUTS remains their option and
their fallback.

A posterior is given as independent blocks (parts that share no parameter and no data: the lifetime-value
model's purchases and spend per segment, say). Each block is fitted on its own: the mode of the log posterior
in the sampler's unconstrained space (log for positive parameters, log-odds for chances, the same transforms
and Jacobians as PyMC), found by L-BFGS with central-difference gradients, then the curvature there (Laplace).
Draws come from importance sampling in two rounds of Student-t proposals, the second with the first round's
weighted moments, so a skewed posterior is followed rather than approximated. Every evaluation is vectorised
numpy over the data and over many parameter points at once: a fit takes about a second and nothing is compiled.

Whether it worked is checked, not assumed: the Pareto k of the importance weights' tail (PSIS, Vehtari et al.
2024; Yao et al. 2018, "Yes, but did it work?") must be at most 0.7. A block that fails the check, or has no
mode with a normal-like curvature, makes the fit report itself as not converged, and the model samples with
NUTS instead. The check sees what the proposals reach: a second mode far from the first (many curvature widths
away) would go unseen, as it would by NUTS chains started in one mode.

Prior kinds (``priors[name] = (kind, arguments)``): ``lognormal`` (log median, log sd), ``gamma`` (shape, rate)
and, on the log scale, positive parameters; ``beta`` (alpha, beta) on the log-odds; ``uniform`` (lower, upper)
on the log-odds of the interval; ``normal`` (mean, sd) and ``flat`` (no prior: the block's log-likelihood
carries it, for priors that depend on other parameters) as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, special

from omnimodel.diagnostics import MAX_PARETO_K, MIN_IMPORTANCE_ESS
from omnimodel.exceptions import OmnimodelError

if TYPE_CHECKING:
    from omnimodel.diagnostics import Diagnostics

#: how a model that has this fit can be fitted: "auto" (this fit, NUTS where its check fails), or either alone
METHODS = ("auto", "laplace", "nuts")


def check_method(method: str) -> str:
    """``method`` when it is one of :data:`METHODS`; a clear error otherwise."""
    if method not in METHODS:
        raise OmnimodelError(f"method {method!r} is not one of {', '.join(METHODS)}", fix="use auto")
    return method


def fallback_note(card: Diagnostics) -> str:
    """The sentence a model keeps (``fit_note_``) when this fit's check failed and NUTS sampled instead."""
    return f"The fast fit's check failed ({card.figures}); sampled with NUTS instead."


_GRADIENT_STEP, _CURVATURE_STEP = 1e-5, 1e-3  # in the unconstrained space (log and log-odds units)
#: the proposal: a Student-t with these degrees of freedom, its scale this much wider than the curvature's, and
#: this many proposal draws per draw kept. Heavy tails and a wider scale keep the importance weights bounded where
#: the posterior is skewed (a return concentration's long right tail); measured on the demo and Online Retail.
DF, WIDER, PROPOSALS = 3, 1.2, 2
PRIOR_SDS = 12


@dataclass
class Block:
    """An independent part of the posterior: its parameters (name, size) and its log-likelihood.

    ``loglik`` gets each parameter as an array (points, size) and returns one log-likelihood per point.
    ``group`` is the group whose column the block's values fill (None: the block holds every group's values).
    """

    parameters: tuple[tuple[str, int], ...]
    loglik: Callable[[dict[str, np.ndarray]], np.ndarray]
    group: int | None = None

    @property
    def size(self) -> int:
        """Number of unconstrained coordinates."""
        return sum(size for _, size in self.parameters)


@dataclass
class BlockFit:
    """One block's draws (name -> array (draws, size)), their check, and what went wrong if anything."""

    draws: dict[str, np.ndarray]
    pareto_k: float  # inf when there is nothing to check (no mode, or no normal-like curvature at it)
    ess: float  # effective number of the importance-weighted proposal draws
    problem: str | None


@dataclass
class LaplaceFit:
    """Every block's fit, and how far the whole can be trusted."""

    blocks: list[BlockFit]

    @property
    def pareto_k(self) -> float:
        """The largest Pareto k over the blocks."""
        return max(b.pareto_k for b in self.blocks)

    @property
    def ess(self) -> float:
        """The smallest effective sample size over the blocks."""
        return min(b.ess for b in self.blocks)

    @property
    def problems(self) -> list[str]:
        """What went wrong, block by block."""
        return [b.problem for b in self.blocks if b.problem]

    @property
    def ok(self) -> bool:
        """Every block has its mode, its Pareto k is at most :data:`MAX_PARETO_K` and its effective sample size
        at least :data:`MIN_IMPORTANCE_ESS`."""
        return not self.problems and self.pareto_k <= MAX_PARETO_K and self.ess >= MIN_IMPORTANCE_ESS


def _constrain(u: np.ndarray, kind: str, args: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The parameter's value and the log density of its prior in the unconstrained space (Jacobian included).

    A LogNormal parameter more than :data:`PRIOR_SDS` prior sds from its median gets density 0: the prior
    weighs less than e^-72 there, and the shapes get so large (e^30) that float64 loses the likelihood's
    differences of log-gammas (a proposal draw there once scored 800 above the mode).
    """
    if kind == "lognormal":
        mu, sd = args
        z = (u - mu) / sd
        return np.exp(u), np.where(
            np.abs(z) <= PRIOR_SDS, -0.5 * z**2 - np.log(sd) - 0.5 * np.log(2 * np.pi), -np.inf
        )
    if kind == "normal":
        mu, sd = args
        return u, -0.5 * ((u - mu) / sd) ** 2 - np.log(sd) - 0.5 * np.log(2 * np.pi)
    if kind == "flat":
        return u, np.zeros_like(u)
    if kind == "gamma":
        shape, rate = args
        return np.exp(u), shape * np.log(rate) - special.gammaln(shape) + shape * u - rate * np.exp(u)
    log_p, log_q = special.log_expit(u), special.log_expit(-u)
    if kind == "beta":
        a, b = args
        return special.expit(u), a * log_p + b * log_q - special.betaln(a, b)
    if kind == "uniform":
        lo, hi = args
        return lo + (hi - lo) * special.expit(u), log_p + log_q
    raise OmnimodelError(
        f"unknown prior kind {kind!r}", fix="use lognormal, gamma, beta, uniform, normal or flat"
    )


def _start(kind: str, args: tuple[float, float]) -> float:
    """Where the optimiser starts: the prior's centre."""
    if kind in ("lognormal", "normal"):
        return args[0]
    if kind == "beta":
        return float(np.log(args[0] / args[1]))
    if kind == "gamma":
        return float(np.log(args[0] / args[1]))
    return 0.0


def log_posterior(block: Block, priors: dict, points: np.ndarray) -> np.ndarray:
    """The block's log posterior density at each row of ``points`` (unconstrained coordinates)."""
    values, total, col = {}, np.zeros(len(points)), 0
    for name, size in block.parameters:
        values[name], prior = _constrain(points[:, col : col + size], *priors[name])
        total += prior.sum(axis=1)
        col += size
    with np.errstate(all="ignore"):
        out = block.loglik(values) + total
    return np.where(np.isfinite(out), out, -np.inf)


def _curvature(f: Callable[[np.ndarray], np.ndarray], mode: np.ndarray, h: float) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``mode``, every point evaluated in one vectorised call."""
    d = len(mode)
    eye = np.eye(d) * h
    pairs = [(i, j) for i in range(d) for j in range(i + 1, d)]
    points = [mode, *(mode + eye), *(mode - eye)]
    for i, j in pairs:
        points += [
            mode + eye[i] + eye[j],
            mode + eye[i] - eye[j],
            mode - eye[i] + eye[j],
            mode - eye[i] - eye[j],
        ]
    v = f(np.array(points))
    centre, plus, minus = v[0], v[1 : d + 1], v[d + 1 : 2 * d + 1]
    hess = np.diag((plus - 2 * centre + minus) / h**2)
    for n, (i, j) in enumerate(pairs):
        pp, pm, mp, mm = v[2 * d + 1 + 4 * n : 2 * d + 5 + 4 * n]
        hess[i, j] = hess[j, i] = (pp - pm - mp + mm) / (4 * h**2)
    return hess


def _importance(f, mean: np.ndarray, scale: np.ndarray, n: int, rng: np.random.Generator):
    """``n`` draws of a Student-t (location ``mean``, scale ``WIDER x scale``), their Pareto-smoothed log
    importance weights against ``f`` and the Pareto k."""
    import arviz as az

    d = len(mean)
    z = rng.standard_normal((n, d)) / np.sqrt(rng.chisquare(DF, (n, 1)) / DF)
    points = mean + WIDER * z @ scale.T
    log_q = (
        -np.log(np.abs(np.diag(scale))).sum()
        - d * np.log(WIDER)
        - (DF + d) / 2 * np.log1p((z**2).sum(axis=1) / DF)
    )
    log_w, k = az.psislw(f(points) - log_q)
    return points, log_w, float(k)


def fit_block(block: Block, priors: dict, n_draws: int, rng: np.random.Generator) -> BlockFit:
    """Mode, curvature, importance-weighted draws and their check for one block."""

    def f(points: np.ndarray) -> np.ndarray:
        return log_posterior(block, priors, points)

    def objective(u: np.ndarray) -> tuple[float, np.ndarray]:
        d, eye = len(u), np.eye(len(u)) * _GRADIENT_STEP
        v = f(np.vstack([u, u + eye, u - eye]))
        return -v[0], -(v[1 : d + 1] - v[d + 1 :]) / (2 * _GRADIENT_STEP)

    start = np.concatenate([np.full(size, _start(*priors[name])) for name, size in block.parameters])
    result = optimize.minimize(objective, start, jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    where = "(" + ", ".join(name for name, _ in block.parameters) + ")"
    where += "" if block.group is None else f" of group {block.group}"
    # L-BFGS may stop on its line search at the mode itself (the gradient is by differences): a flat gradient is
    # a mode all the same
    if not np.isfinite(result.fun) or (not result.success and np.abs(result.jac).max() > 1e-2):
        return BlockFit({}, np.inf, 0.0, f"the optimiser found no mode for {where}: {result.message}")
    try:
        chol = np.linalg.cholesky(-_curvature(f, result.x, _CURVATURE_STEP))
    except np.linalg.LinAlgError:
        return BlockFit({}, np.inf, 0.0, f"the posterior of {where} is not curved like a normal at its mode")
    # Importance sampling in two rounds: a Student-t around the mode with the inverse curvature as its scale,
    # then one with the first round's weighted mean and covariance, which has learned the posterior's skew
    # (a concentration's long right tail); heavy tails and a wider scale keep the weights bounded.
    mean: np.ndarray = result.x
    scale: np.ndarray = np.linalg.inv(chol.T)  # scale @ scale.T = inv(precision)
    for n in (n_draws, PROPOSALS * n_draws):
        points, log_w, k = _importance(f, mean, scale, n, rng)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        if n == n_draws and 1.0 / (w**2).sum() > 10 * len(mean):  # enough to learn the moments from
            mean = w @ points
            scale = np.linalg.cholesky(np.cov(points.T, aweights=w) + 1e-12 * np.eye(len(mean)))
    # systematic resampling: n_draws equally weighted draws
    keep = np.searchsorted(np.cumsum(w), (rng.random() + np.arange(n_draws)) / n_draws).clip(0, len(w) - 1)
    draws, col = {}, 0
    for name, size in block.parameters:
        draws[name] = _constrain(points[keep, col : col + size], *priors[name])[0]
        col += size
    return BlockFit(draws, float(k), float(1.0 / (w**2).sum()), None)


def fit(blocks: list[Block], priors: dict, n_draws: int, seed: int) -> LaplaceFit:
    """Fit every block (see the module's description)."""
    rng = np.random.default_rng(seed)
    return LaplaceFit([fit_block(block, priors, n_draws, rng) for block in blocks])
