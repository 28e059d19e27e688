"""What omnimodel's two Bayesian models (the pipeline model, lifetime value) share: one sampler configuration,
and one way to save and load a fitted model.

A model class lists its learned state as parts (:meth:`FittedModel.state`, :meth:`FittedModel.from_state`);
saving writes the posterior as NetCDF with that state as JSON in its attributes (:mod:`omnimodel.saved`), so
a saved file runs no code when read and forecasts exactly as the saved model did.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Self

from omnimodel.exceptions import NotFittedError
from omnimodel.saved import load_fit, save_fit

#: how a Bayesian model is fitted: ``method`` "auto" (a Laplace fit corrected by importance sampling, NUTS
#: where its check fails), "laplace" or "nuts"; the rest are NUTS's settings, and ``draws`` x ``chains`` is
#: also the number of Laplace draws. A model may raise ``target_accept`` (see :func:`sampler_config`).
SAMPLER_CONFIG: dict[str, Any] = {
    "method": "auto",
    "draws": 1000,
    "tune": 1000,
    "chains": 2,
    "cores": 1,
    "target_accept": 0.9,
}


def sampler_config(**model_defaults: Any) -> dict[str, Any]:
    """The sampler configuration with a model's own defaults over :data:`SAMPLER_CONFIG` (a new dict).

    Examples
    --------
    >>> sampler_config(target_accept=0.95)["target_accept"]
    0.95
    """
    return {**SAMPLER_CONFIG, **model_defaults}


class FittedModel:
    """Save and load for a model fitted with PyMC or the Laplace fit: ``idata_`` is the posterior, ``KIND``
    names the model in the file, :meth:`state` gives the rest of what it learned (and its configuration) as
    JSON-able data and :meth:`from_state` builds the model back from it."""

    KIND: ClassVar[str]
    #: what the model is called, and what it is fitted on, in the error of using it before ``fit``
    WHAT: ClassVar[str]
    FITS_ON: ClassVar[str]
    idata_: Any

    def state(self) -> dict[str, Any]:
        """The configuration and learned state beside the posterior, as JSON-able data."""
        raise NotImplementedError

    @classmethod
    def from_state(cls, idata: Any, state: dict[str, Any]) -> Self:
        """The model :meth:`state` describes, with its posterior ``idata``."""
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "idata_"):
            raise NotFittedError(f"the {self.WHAT} is not fitted yet", fix=f"call fit({self.FITS_ON}) first")

    def save(self, path: str | os.PathLike) -> Path:
        """Save the fitted model as NetCDF: the posterior, and its configuration and learned state (no pickle).

        Examples
        --------
        >>> model.save("model.nc")  # doctest: +SKIP
        """
        self._check_fitted()
        return save_fit(self.idata_, path, self.KIND, self.state())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Load a model saved by :meth:`save`; it predicts exactly as the saved one did.

        Examples
        --------
        >>> type(model).load("model.nc")  # doctest: +SKIP
        """
        idata, state = load_fit(path, cls.KIND)
        return cls.from_state(idata, state)
