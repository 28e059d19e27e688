"""omnimodel: notebook-first workbench for omnichannel sales strategy and forecasting.

Importing the package is cheap and has no side effects; the modelling modules (PyMC, statsmodels) are
imported when used.
"""

from omnimodel.exceptions import (
    ConfigError,
    NotFittedError,
    OmnimodelError,
    ParameterError,
    ValidationError,
    WorkspaceError,
)
from omnimodel.version import __version__

__all__ = [
    "ConfigError",
    "NotFittedError",
    "OmnimodelError",
    "ParameterError",
    "ValidationError",
    "Workspace",
    "WorkspaceError",
    "__version__",
]


def __getattr__(name):  # lazy: the workspace pulls in Ibis and DuckDB
    if name == "Workspace":
        from omnimodel.data.workspace import Workspace

        return Workspace
    raise AttributeError(name)
