"""A report section without the data it needs says so in one line, and the report is still good."""

from __future__ import annotations

import html
from dataclasses import dataclass

from omnimodel.exceptions import OmnimodelError


@dataclass(frozen=True)
class Skipped:
    """What an analysis returns instead of a result when the data cannot support it: which section, why, and
    what to add. Shown as one line in a notebook or report.

    Examples
    --------
    >>> Skipped("online and offline assortment", "no channel kinds declared", "add a channels table")
    Skipped: online and offline assortment (no channel kinds declared; add a channels table)
    """

    section: str
    reason: str
    fix: str = ""

    def __str__(self) -> str:
        return f"Skipped: {self.section} ({self.reason}{'; ' + self.fix if self.fix else ''})"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        text = f"<b>{html.escape(self.section)}</b>: skipped, {html.escape(self.reason)}"
        if self.fix:
            text += f". {html.escape(self.fix[0].upper() + self.fix[1:])}"
        return f'<p class="omnimodel-skipped" style="color:#555">{text}.</p>'


class ReportStopped(OmnimodelError):
    """Raised in a notebook when the rest of its report needs data the workspace does not have.

    The report runner shows the message as one line in place of the remaining sections and marks the report
    OK (with the note), so a retailer without CRM data still gets a good pipeline report that says so.
    """
