"""The run's slide deck (``deck.pptx``, python-pptx): for each report a slide with its headline cards and
findings, then one slide per chart, for consultants who present rather than link.

Read from the executed notebooks, so the deck shows exactly the report's numbers and charts; the appendix
(inventory, diagnostics) stays in the HTML report.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from omnimodel.reporting.summary import Summary, from_notebook

#: charts per report in the deck: the rest stay in the report
MAX_CHARTS = 8
_GREY, _INK, _RED = (0x57, 0x60, 0x6A), (0x22, 0x22, 0x22), (0xB0, 0x00, 0x20)


def _text(slide, text: str, left, top, width, height, size: int, bold=False, colour=_INK):
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)
        paragraph.font.bold = bold
        paragraph.font.color.rgb = RGBColor(*colour)
    return box


def _summary_slide(prs, report: str, summary: Summary) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches

    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _text(slide, summary.title, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.7), 26, bold=True)
    _text(slide, report, Inches(0.5), Inches(0.95), Inches(12.3), Inches(0.4), 12, colour=_GREY)
    cards = summary.cards[:5]
    width = (12.3 - 0.2 * (len(cards) - 1)) / max(len(cards), 1)
    for i, card in enumerate(cards):
        left = Inches(0.5 + i * (width + 0.2))
        shape = slide.shapes.add_shape(1, left, Inches(1.5), Inches(width), Inches(1.9))  # 1: rectangle
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor(0xF6, 0xF8, 0xFA)
        shape.line.color.rgb = RGBColor(0xD0, 0xD7, 0xDE)
        _text(slide, card.label, left, Inches(1.55), Inches(width), Inches(0.5), 11, colour=_GREY)
        size = 22 if len(card.value) <= 14 else 15  # a long value (a cross-sell pair) stays inside its card
        _text(slide, card.value, left, Inches(2.05), Inches(width), Inches(0.6), size, bold=True)
        _text(slide, card.detail, left, Inches(2.7), Inches(width), Inches(0.7), 10, colour=_GREY)
    lines = [f"• {f}" for f in summary.findings[:4]] + [f"→ {a}" for a in summary.actions[:3]]
    _text(slide, "\n".join(lines), Inches(0.5), Inches(3.7), Inches(12.3), Inches(3.5), 14)


def _charts(nb) -> list[tuple[str, bytes]]:
    """(section heading, PNG) for each chart outside the appendix, in the report's order."""
    heading, found = "", []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "appendix" in tags:
            continue
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                found.append((heading, base64.b64decode("".join(png) if isinstance(png, list) else png)))
    return found[:MAX_CHARTS]


def _chart_slide(prs, report: str, heading: str, png: bytes) -> None:
    from PIL import Image
    from pptx.util import Inches

    slide = prs.slides.add_slide(prs.slide_layouts[6])
    heading = heading or report
    size = 22 if len(heading) <= 60 else 17  # one line above the report's name
    _text(slide, heading, Inches(0.5), Inches(0.25), Inches(12.3), Inches(0.6), size, bold=True)
    _text(slide, report, Inches(0.5), Inches(0.8), Inches(12.3), Inches(0.4), 11, colour=_GREY)
    w, h = Image.open(io.BytesIO(png)).size
    scale = min(12.3 / w, 6.0 / h)  # inches per pixel that fit the slide below the title
    left = 0.5 + (12.3 - w * scale) / 2
    slide.shapes.add_picture(
        io.BytesIO(png), Inches(left), Inches(1.25), Inches(w * scale), Inches(h * scale)
    )


def write_deck(manifest: dict, run_dir: Path, out: Path) -> Path:
    """One deck for the run: a title slide, then each report's summary and charts (a failed report gets one
    slide saying so). Written under a temporary name and renamed, so a reader never sees half a deck."""
    import nbformat
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title = prs.slides.add_slide(prs.slide_layouts[6])
    _text(
        title, "Sales strategy and forecast", Inches(0.8), Inches(2.4), Inches(11.7), Inches(1), 36, bold=True
    )
    source = manifest.get("workspace", {}).get("source") or "workspace"
    _text(title, f"Run {manifest['run_id']} · data: {source}", Inches(0.8), Inches(3.5), Inches(11.7),
          Inches(0.6), 16, colour=_GREY)  # fmt: skip
    for report in manifest["reports"]:
        name = report["name"]
        if report["status"] != "OK" or not report.get("ipynb"):
            slide = prs.slides.add_slide(prs.slide_layouts[6])
            _text(slide, f"{name}: not completed", Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.7), 26,
                  bold=True, colour=_RED)  # fmt: skip
            _text(slide, report.get("error") or "", Inches(0.5), Inches(1.3), Inches(12.3), Inches(5), 14)
            continue
        nb = nbformat.read(run_dir / report["ipynb"], as_version=4)
        summary = from_notebook(nb)
        if summary is not None:
            _summary_slide(prs, name, summary)
        elif report.get("note"):  # a report that says which data it lacks
            slide = prs.slides.add_slide(prs.slide_layouts[6])
            _text(slide, name, Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.7), 26, bold=True)
            _text(slide, report["note"], Inches(0.5), Inches(1.3), Inches(12.3), Inches(5), 16)
        for heading, png in _charts(nb):
            _chart_slide(prs, name, heading, png)
    tmp = out.with_name(out.name + ".part")
    prs.save(str(tmp))
    tmp.replace(out)
    return out
