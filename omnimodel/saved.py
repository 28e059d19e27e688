"""Fitted models on disk: ArviZ InferenceData as NetCDF, with the model's type, its state as JSON, the package
version and a format number in the posterior's attributes. No pickle, so a saved file runs no code when read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from omnimodel.exceptions import OmnimodelError
from omnimodel.version import __version__

#: raised when what is saved changes shape, so a file from an older layout is refused with a clear fix
FORMAT = 2


def code_hash(names: tuple[str, ...]) -> str:
    """sha256 of the package code a cached fit was computed by: ``names`` are files (``config.py``) and folders
    (``funnel``) of the package. A cache keyed by it is never reused by changed code.

    Examples
    --------
    >>> len(code_hash(("saved.py",)))
    64
    """
    import hashlib

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    files = [
        p for name in names for p in ([root / name] if name.endswith(".py") else (root / name).rglob("*.py"))
    ]
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(key_data: dict[str, Any]) -> str:
    """A short file name for a cached fit: sha256 of everything it was computed from (data fingerprint,
    settings, :func:`code_hash`), written as sorted JSON."""
    import hashlib

    return hashlib.sha256(json.dumps(key_data, sort_keys=True, default=str).encode()).hexdigest()[:24]


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
