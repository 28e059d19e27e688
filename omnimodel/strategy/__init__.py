"""Checklist 3, where to focus: segments, regions and countries, assortment."""

from omnimodel.lazy import exports

_PUBLIC = {
    "rfm": "segments",
    "behaviour_segments": "segments",
    "segment_matrix": "segments",
    "how_to_address": "segments",
    "country_performance": "countries",
    "attractiveness": "countries",
    "new_country_candidates": "countries",
    "breadth_and_depth": "assortment",
    "online_offline": "assortment",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
