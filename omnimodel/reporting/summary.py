"""The answer first: headline cards with their ranges, findings as sentences computed from the data, and next
actions, shown at the top of a report.

A notebook computes its summary where the numbers exist (usually near the end) in a cell tagged ``summary``;
the HTML export moves that cell's output right under the report's title (:func:`omnimodel.reporting.html`), so
readers see the decision first and the method after. The summary also travels as data in the executed notebook
(:data:`MIME`), so the run's index and deck show the same cards without parsing HTML. What each report says is
in :mod:`omnimodel.reporting.headlines`.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from omnimodel.charts.style import format_chance

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: the summary as data in a notebook's output, beside its HTML
MIME = "application/vnd.omnimodel.summary+json"


def compact(x: float, unit: str | None = None) -> str:
    """A number as people say it on a slide: 1.85 M, 185 k, 1,234 (with its unit after it)."""
    if x is None or not np.isfinite(x):
        return "–"
    a = abs(x)
    if a >= 1e9:
        text = f"{x / 1e9:.2f} bn"
    elif a >= 1e6:
        text = f"{x / 1e6:.2f} M"
    elif a >= 1e4:
        text = f"{x / 1e3:.0f} k"
    else:
        text = f"{x:,.0f}"
    return f"{text} {unit}" if unit else text


def pct(x: float) -> str:
    """A share as a whole percentage in a sentence: 72 %, "below 1 %" (never 0 % or 100 %: a few thousand
    draws cannot rule either out)."""
    return format_chance(x, words=True)


@dataclass(frozen=True)
class Card:
    """One headline number: what it is, the number, and its range or provenance."""

    label: str
    value: str
    detail: str = ""


@dataclass
class Summary:
    """Cards, findings and actions; shows as HTML in notebooks and reports (every text escaped)."""

    title: str
    cards: list[Card]
    findings: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain data (what the index, the deck and the ledger read)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        """The summary a notebook wrote (:data:`MIME` output)."""
        cards = [Card(**c) for c in data.get("cards", [])]
        return cls(
            str(data.get("title", "")), cards, list(data.get("findings", [])), list(data.get("actions", []))
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        return {"text/html": self._repr_html_(), MIME: self.to_dict(), "text/plain": self.title}

    def _repr_html_(self) -> str:
        e = html.escape
        cards = "".join(
            '<div style="border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;min-width:190px;'
            'flex:1;background:#f6f8fa">'
            f'<div style="font-size:.85rem;color:#57606a">{e(c.label)}</div>'
            f'<div style="font-size:1.6rem;font-weight:600;margin:2px 0">{e(c.value)}</div>'
            f'<div style="font-size:.85rem;color:#57606a">{e(c.detail)}</div></div>'
            for c in self.cards
        )
        parts = [
            f'<section class="om-summary"><h2>{e(self.title)}</h2>',
            f'<div style="display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 14px">{cards}</div>',
        ]
        for head, items in (("Findings", self.findings), ("Next actions", self.actions)):
            if items:
                parts.append(f"<h3>{head}</h3><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
        return "".join(parts) + "</section>"


def from_notebook(nb: NotebookNode) -> Summary | None:
    """The summary an executed notebook displayed (its first :data:`MIME` output), or None."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                return Summary.from_dict(data[MIME])
    return None
