"""Adapters map source exports into canonical tables and say what they did with each quirk.

Each adapter is a function ``load(source: Path) -> LoadedData``. Register new ones in :data:`ADAPTERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omnimodel.exceptions import ConfigError


@dataclass
class LoadedData:
    """Canonical tables from one source, with the quirks handled on the way (shown to the user)."""

    tables: dict[str, pd.DataFrame]
    quirks: list[str] = field(default_factory=list)
    source: str = ""
    adapter: str = ""
    stages: list[str] | None = None  # open funnel stages in order, where the source defines them


def _canonical(source: Path) -> LoadedData:
    from omnimodel.data.adapters.canonical import load

    return load(source)


def _workspace(source: Path) -> LoadedData:
    from omnimodel.data.adapters.canonical import load_workspace

    return load_workspace(source)


ADAPTERS: dict[str, Callable[[Path], LoadedData]] = {
    "canonical": _canonical,
    "workspace": _workspace,
}


def load(source: str | Path, adapter: str) -> LoadedData:
    """Load a source with the named adapter."""
    if adapter not in ADAPTERS:
        raise ConfigError(f"unknown adapter {adapter!r}", fix=f"use one of {', '.join(ADAPTERS)}")
    data = ADAPTERS[adapter](Path(source))
    data.adapter, data.source = adapter, str(source)
    return data
