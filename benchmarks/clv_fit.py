"""The lifetime-value model's default fit against a maximum-likelihood fit of the same model and against NUTS,
side by side in one process (issue 17, goal 4).

- ``MLE``: scipy's ``minimize`` (BFGS, finite-difference gradients, as lifetimes and most CLV libraries fit) on
  the same likelihood (MBG/NBD and Gamma-Gamma per segment, the returns mixture), no priors, no uncertainty.
- ``default``: ``CLVModel().fit`` as the reports run it (a Laplace fit corrected by importance sampling; NUTS
  only where its check fails).
- ``NUTS``: ``CLVModel(sampler_config={"method": "nuts"})`` with the reports' 2 x 500 draws (``--nuts``; the first
  NUTS fit of a process includes PyTensor's compile, cold or warm as the cache is).

Data: the default demo (calibration to 2024-12-31, holdout 2025) and, where ``../shared/data`` is present, UCI
Online Retail (calibration to 2011-06-30, holdout to 2011-12-09); 4,000 customers fitted as the reports do.
Also printed: the 80 % predictive interval's holdout coverage and the randomised PIT of the default fit.

Run: ``.venv/bin/python benchmarks/clv_fit.py [--nuts]``.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
from scipy import optimize, special

ROOT = Path(__file__).resolve().parent.parent


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn, *args, **kwargs):
    w, c = time.perf_counter(), cpu()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w, cpu() - c


def mle(model, summary, seed: int) -> list:
    """Maximum likelihood of every block of the model, on its unconstrained parameters (log, log-odds)."""
    from omnimodel.profile.clv import fits as clv_fits
    from omnimodel.profile.clv.likelihood import priors

    sample = summary.sample(4000, random_state=seed) if len(summary) > 4000 else summary
    model.groups_ = sorted(sample[model.by].unique())
    spenders = sample[(sample["x"] > 0) & (sample["repeat_value"] > 0)]
    spec = priors(model.model_config, max(float(spenders["repeat_value"].median()), 1.0), True)
    out = []
    for block in clv_fits._blocks(
        clv_fits.Fitting(model.groups_, model.by, model.sampler_config), sample, spenders, spec
    ):

        def nll(u, block=block):
            values, col = {}, 0
            for name, size in block.parameters:
                kind, (lo, hi) = spec[name]
                raw = u[None, col : col + size]
                values[name] = (
                    np.exp(raw) if kind == "lognormal" else lo + (hi - lo) * special.expit(raw)
                    if kind == "uniform" else special.expit(raw)
                )  # fmt: skip
                col += size
            with np.errstate(all="ignore"):
                v = -block.loglik(values)[0]
            return v if np.isfinite(v) else 1e300

        out.append(optimize.minimize(nll, np.zeros(block.size), method="BFGS"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nuts", action="store_true", help="also fit with NUTS (minutes)")
    args = parser.parse_args()

    import arviz  # noqa: F401  (imported before the clocks: every way pays it once)

    from omnimodel import Workspace
    from omnimodel.data import demo
    from omnimodel.ingest.load import ingest
    from omnimodel.profile.clv import CLVModel, purchase_summary
    from omnimodel.profile.clv.predictive import coverage

    demo_path = ROOT / "data" / "demo.duckdb"
    if not demo_path.exists():
        demo.build(demo_path, size="default", seed=42)
    sets = {"default demo": (demo_path, "2024-12-31", "2025-12-31")}
    retail = ROOT.parent / "shared" / "data" / "online_retail"
    if retail.exists():
        path = ROOT / "benchmarks" / ".data" / "online_retail.duckdb"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            ingest(retail, "online_retail", path)
        sets["Online Retail"] = (path, "2011-06-30", "2011-12-09")

    print("| data | way | wall s | CPU s | CPU x MLE | converged |")
    print("|---|---|---|---|---|---|")
    for label, (path, cal, hold) in sets.items():
        with Workspace(path) as ws:
            summary = purchase_summary(ws, cal, hold)
        fits, w0, c0 = timed(mle, CLVModel(), summary, 42)
        print(f"| {label} | MLE (scipy BFGS) | {w0:.2f} | {c0:.2f} | 1.0 | {all(f.success for f in fits)} |")
        model, w, c = timed(CLVModel(sampler_config={"draws": 500}).fit, summary, 42, 4000)
        print(f"| {label} | default ({model.diagnostics_.method}) | {w:.2f} | {c:.2f} | {c / c0:.1f} | "
              f"{model.diagnostics_.converged} |")  # fmt: skip
        got = coverage(model.holdout_intervals(summary, 0.8, 400, 0))
        if args.nuts:
            nuts_model = CLVModel(sampler_config={"draws": 500, "tune": 500, "method": "nuts"})
            nuts, w, c = timed(nuts_model.fit, summary, 42, 4000)
            print(
                f"| {label} | NUTS 2 x 500 | {w:.2f} | {c:.2f} | {c / c0:.1f} | {nuts.diagnostics_.converged} |"
            )
        print(f"|  | default fit's holdout check: 80 % interval holds {got['interval']:.1%}, "
              f"randomised PIT in [0.1, 0.9] {got['pit']:.1%}; {model.diagnostics_.figures} | | | | |")  # fmt: skip


if __name__ == "__main__":
    main()
