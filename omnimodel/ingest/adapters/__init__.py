"""Adapters map source exports into canonical tables and say what they did with each quirk.

Each adapter is a function ``load(source: Path) -> LoadedData``. Register new ones in :data:`ADAPTERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    funnel: dict | None = (
        None  # the source's funnel definition (as FunnelDefinition.to_dict), stored at ingest
    )
    #: "table.column" -> the source column it came from ("sales_pipeline.csv column close_value"), for errors
    origins: dict[str, str] = field(default_factory=dict)
    currency: str | None = None  # ISO 4217 code of the amounts, where the source says or implies it


#: adapter name -> "module:function"; modules are imported only when used
ADAPTERS: dict[str, str] = {
    "canonical": "omnimodel.ingest.adapters.canonical:load",
    "workspace": "omnimodel.ingest.adapters.canonical:load_workspace",
    "maven_crm": "omnimodel.ingest.adapters.maven_crm:load",
    "olist_funnel": "omnimodel.ingest.adapters.olist_funnel:load",
    "online_retail": "omnimodel.ingest.adapters.online_retail:load",
    "crm_export": "omnimodel.ingest.adapters.crm_export:load",
}


def load(source: str | Path, adapter: str, **options: Any) -> LoadedData:
    """Load a source with the named adapter; ``options`` (``encoding``, ``mapping``) go to adapters that take
    them, and are an error for the others. Options that are None count as not given."""
    import importlib
    import inspect

    if adapter not in ADAPTERS:
        raise ConfigError(f"unknown adapter {adapter!r}", fix=f"use one of {', '.join(ADAPTERS)}")
    module, func = ADAPTERS[adapter].split(":")
    reader = getattr(importlib.import_module(module), func)
    options = {k: v for k, v in options.items() if v is not None}
    unsupported = [k for k in options if k not in inspect.signature(reader).parameters]
    if unsupported:
        raise ConfigError(
            f"the {adapter} adapter takes no --{' --'.join(unsupported)}",
            fix="leave it out; the canonical adapter reads any export through a mapping file and an encoding",
        )
    data = reader(Path(source), **options)
    data.adapter, data.source = adapter, str(source)
    return data
