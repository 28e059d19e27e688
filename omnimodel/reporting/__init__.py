"""Report runs: notebooks executed by papermill into standalone HTML, an index and a manifest."""

from omnimodel.lazy import exports

_PUBLIC = {
    "RunResult": "runner",
    "run_reports": "runner",
    "notebook_parameters": "parameters",
    "check_parameters": "parameters",
}
__getattr__, __dir__ = exports(__name__, _PUBLIC)
__all__ = sorted(_PUBLIC)
