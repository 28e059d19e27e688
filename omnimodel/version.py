"""The package version, from the installed distribution's metadata (written once, in pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("omnimodel")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
