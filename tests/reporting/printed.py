"""What a printed report must be: every page rendered, each on the expected paper, nothing running off its right
edge, and every table whole (each header cell of the page's tables found in the PDF's text: a column cut off at
the page's edge, or hidden behind a printed scrollbar, loses its header). Used on the PDFs the runner tests make."""

from __future__ import annotations

import html
import re
from pathlib import Path

from omnimodel.reporting.pdf import MARGIN_PT, PAPER_HEIGHT, PAPER_WIDTH

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_HEADER = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S | re.I)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def print_problems(page: Path, pdf: Path, paper: str) -> list[str]:
    """What is wrong with ``pdf``, the print of the report ``page`` on ``paper``; empty when nothing."""
    import pypdfium2 as pdfium

    problems: list[str] = []
    sizes = {(PAPER_WIDTH[paper], PAPER_HEIGHT[paper]), (PAPER_HEIGHT[paper], PAPER_WIDTH[paper])}
    document = pdfium.PdfDocument(pdf)
    text = ""
    for number, sheet in enumerate(document, start=1):
        width, height = sheet.get_size()
        if (round(width), round(height)) not in sizes:
            problems.append(f"page {number} is {width:.0f} x {height:.0f} pt, not {paper}")
        bitmap = sheet.render(scale=1.0).to_numpy()[..., :3].mean(axis=2)  # 72 dpi: a pixel is a point
        edge = bitmap[:, int(width - MARGIN_PT / 2) :]  # the outer half of the right margin
        if (edge < 200).any():
            problems.append(f"page {number}: ink in the right margin (something runs off the page)")
        text += sheet.get_textpage().get_text_range()
    printed = _squeeze(text)
    for header in _HEADER.findall(_SCRIPT.sub("", page.read_text(encoding="utf-8"))):
        label = _squeeze(html.unescape(re.sub(r"<[^>]+>", "", header)))
        if label and label not in printed:
            problems.append(f"table header {label!r} is not in the PDF (a column cut off)")
    return problems
