"""What one notebook section shows, from one call: lines of text, tables, charts and rich results, in order.

A section function of the application (:mod:`omnimodel.app.pipeline_sections`, ...) returns a :class:`Shown`;
the notebook's cell is then that one call, and the branching (a table the workspace lacks, a model without
owners) stays in the package. Outside a notebook nothing is drawn until it is displayed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnimodel.data.workspace import Workspace


def report_style(ws: Workspace | None) -> None:
    """How a notebook shows things from here on: every table for people (words, currency, percentages) and one
    colour per channel of the workspace in every chart."""
    from omnimodel import charts
    from omnimodel.reporting import tables

    tables.use_in_reports(ws.currency() if ws is not None else None)
    charts.use_channels(ws.channels() if ws is not None else [])


class Markdown(str):
    """Text shown as Markdown (emphasis, lists) rather than printed."""


class Shown:
    """Parts shown in order: ``str`` printed, :class:`Markdown` rendered, a matplotlib Figure drawn (and closed, so
    it is not drawn twice), anything else displayed as it displays itself (tables formatted for people); None
    shows nothing."""

    def __init__(self, *parts: Any):
        self.parts = [p for p in parts if p is not None]

    def text(self) -> str:
        """The text parts, one per line (what the section says in words)."""
        return "\n".join(str(p) for p in self.parts if isinstance(p, str))

    def _ipython_display_(self) -> None:
        from IPython.display import Markdown as Rendered
        from IPython.display import display

        for part in self.parts:
            if isinstance(part, Markdown):
                display(Rendered(str(part)))
            elif isinstance(part, str):
                print(part)
            elif _is_figure(part):
                import matplotlib.pyplot as plt

                display(part)
                plt.close(part)
            else:
                display(part)


def _is_figure(part: Any) -> bool:
    return type(part).__name__ == "Figure" and type(part).__module__.startswith("matplotlib")
