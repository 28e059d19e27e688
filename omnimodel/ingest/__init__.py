"""A client's exports into a workspace: readers (CSV, Parquet, Excel), mapping files and their suggestion,
adapters for known sources, validation (the checks written once, run in memory or by the engine), and the load
itself (all or nothing, or with rejected rows set aside).

source files -> adapter (and mapping) -> validation -> workspace (:mod:`omnimodel.data.workspace`).
"""

from omnimodel.lazy import exports

_PUBLIC = {
    "ingest": "load",
    "validate_source": "load",
    "IngestReport": "load",
    "validate": "validation",
    "quarantine": "validation",
    "RULES": "rules",
    "Rule": "rules",
    "suggest_mapping": "suggest",
    "read_table_file": "readers",
    "ADAPTERS": "adapters",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
