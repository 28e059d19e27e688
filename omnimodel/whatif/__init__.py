"""What-if: the ipywidgets panel over the targets' pure scenario functions, and the comparison of scenarios.
A scenario change never refits a model."""

from omnimodel.lazy import exports

_PUBLIC = {
    "WhatIfPanel": "widgets",
    "as_html": "widgets",
    "compare_scenarios": "compare",
    "standard_scenarios": "compare",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
