"""Lazy re-exports: a package names its public API at the top without importing its modules until used.

``import omnimodel.funnel`` stays cheap (no PyMC, Ibis or matplotlib), yet ``from omnimodel.funnel import
PipelineModel`` works.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each name in ``names`` is loaded from its module
    (relative to the package) on first use."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
