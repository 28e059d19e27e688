"""Report runs: notebooks executed by papermill into standalone HTML, an index and a manifest."""

from omnimodel.reporting.runner import RunResult, run_reports

__all__ = ["RunResult", "run_reports"]
