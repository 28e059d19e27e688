"""Fitted models on disk: ArviZ InferenceData as NetCDF, with the model's type, its state as JSON, the package
version and a format number in the posterior's attributes. No pickle, so a saved file runs no code when read.

:func:`cached` keeps any such computation (a pipeline fit, a lifetime-value fit, a channel plan) on disk, once
per data, settings and code: computed by the first caller, loaded by every later one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from omnimodel.exceptions import OmnimodelError
from omnimodel.version import __version__

#: raised when what is saved changes shape, so a file from an older layout is refused with a clear fix
FORMAT = 3


def cache_key(key_data: dict[str, Any]) -> str:
    """A short file name for a cached fit: sha256 of everything it was computed from (data fingerprint,
    settings, :func:`omnimodel.sources.code_hash`), written as sorted JSON."""
    import hashlib

    return hashlib.sha256(json.dumps(key_data, sort_keys=True, default=str).encode()).hexdigest()[:24]


T = TypeVar("T")


@dataclass
class Cached(Generic[T]):
    """A cached computation's value, and whether it was loaded from an earlier one."""

    value: T
    reused: bool


def cached(
    kind: str,
    key_data: dict[str, Any],
    compute: Callable[[], T],
    save: Callable[[T, Path], Any],
    load: Callable[[Path], T],
    *,
    code: str,
    suffix: str = "",
    cache_dir: str | os.PathLike | None = None,
    refresh: bool = False,
) -> Cached[T]:
    """``compute()`` once per ``key_data`` (the data's fingerprint and every setting) and code, kept under
    ``.cache/<kind>/`` in the project (or ``cache_dir``) and loaded by every later caller.

    ``code`` names the module that computes it: the key holds the hash of it and every module it runs
    (:func:`omnimodel.sources.code_hash`), so changed code never reuses a stale value. A file lock makes a
    caller in parallel wait for the first instead of computing the same again. ``save(value, path)`` must
    write atomically (a half-written file never replaces a good one); ``refresh`` computes again and replaces
    what was kept.

    Examples
    --------
    >>> fit = cached("pipeline", {"snapshot": key}, fit, save, load, code="omnimodel.funnel.fits")  # doctest: +SKIP
    >>> fit.reused  # doctest: +SKIP
    False
    """
    from filelock import FileLock

    from omnimodel.environment import project_root
    from omnimodel.sources import code_hash

    key = cache_key({**key_data, "code": code_hash(code)})
    folder = Path(cache_dir) if cache_dir else project_root() / ".cache" / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{key}{suffix}"
    with FileLock(str(folder / f"{key}.lock")):
        if target.exists() and not refresh:
            return Cached(load(target), True)
        value = compute()
        save(value, target)
    return Cached(value, False)


def _attr(kind: str) -> str:
    return f"omnimodel_{kind}"  # one attribute per kind of model, e.g. omnimodel_pipeline_model


def save_fit(idata: Any, path: str | os.PathLike, kind: str, state: dict[str, Any]) -> Path:
    """Write ``idata`` with ``state`` to ``path`` atomically (a half-written file never replaces a good one).

    ``kind`` names the model (``pipeline_model``, ``clv_model``); :func:`load_fit` refuses another kind.
    """
    record = {"model_type": kind, "format": FORMAT, "omnimodel_version": __version__, **state}
    idata = idata.copy()
    idata.posterior.attrs[_attr(kind)] = json.dumps(record, default=float)
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    idata.to_netcdf(str(tmp))
    tmp.replace(path)
    return path


def config_from_json(config: dict[str, Any]) -> dict[str, Any]:
    """A saved configuration with its pairs as tuples again (JSON writes them as lists)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def load_fit(path: str | os.PathLike, kind: str) -> tuple[Any, dict[str, Any]]:
    """The InferenceData and state saved by :func:`save_fit`, after checking the model type and format."""
    import arviz as az

    try:
        idata = az.from_netcdf(str(path))
    except (OSError, ValueError) as exc:
        raise OmnimodelError(
            f"cannot read {path} as a saved model: {exc}", fix="save the model again"
        ) from exc
    saved = [k.removeprefix("omnimodel_") for k in idata.posterior.attrs if k.startswith("omnimodel_")]
    if _attr(kind) not in idata.posterior.attrs:
        what = f"a saved {saved[0].replace('_', ' ')}" if saved else "no saved omnimodel model"
        raise OmnimodelError(
            f"{path} holds {what}, not a {kind.replace('_', ' ')}",
            fix="load it with its own model's load, or fit and save this model again",
        )
    state = json.loads(idata.posterior.attrs[_attr(kind)])
    if state.get("format") != FORMAT:
        raise OmnimodelError(
            f"{path} was saved by omnimodel {state.get('omnimodel_version', '?')} in an older layout",
            fix="fit the model again and save it",
        )
    return idata, state
