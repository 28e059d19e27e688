"""Canonical tables: the schema, the workspace (DuckDB or any Ibis backend), the queries the analyses share,
periods and the demo company. Loading a client's exports is :mod:`omnimodel.ingest`."""

from omnimodel.lazy import exports

_PUBLIC = {
    "Workspace": "workspace",
    "write_workspace": "workspace",
    "copy_workspace": "workspace",
    "TABLES": "schema",
    "CHANNELS": "schema",
    "data_model_markdown": "schema",
    "workspace_summary": "overview",
    "sales_by_month": "overview",
    "redact": "overview",
    "parse_period": "periods",
    "data_span": "periods",
    "default_window": "periods",
    "default_holdout": "periods",
    "default_target_year": "periods",
    "latest_complete_year": "periods",
    "next_quarter": "periods",
    "sales_lines": "queries",
    "line_revenue": "queries",
    "QUERY_SET": "queries",
    "load_indicators": "indicators",
    "to_iso2": "countries",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
