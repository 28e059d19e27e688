"""The run's slide deck (``deck.pptx``, python-pptx): for each report a slide with its headline cards and
findings, then one slide per chart, for consultants who present rather than link.

Read from the executed notebooks, so the deck shows exactly the report's numbers and charts. Every slide has a
real title placeholder (outline view, accessibility checkers and slide sorters read it); the appendix (method,
data used) goes to the summary slide's speaker notes, and a chart's section text to its slide's notes.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

from omnimodel.reporting.summary import Summary, from_notebook

#: charts per report in the deck: the rest stay in the report
MAX_CHARTS = 8
_TITLE_ONLY = 5  # the default template's "Title Only" layout
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


def _slide(prs, title: str, size: int, notes: str = "", colour=_INK):
    """A slide of the "Title Only" layout, its title placeholder holding ``title`` at the top."""
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
    from pptx.util import Inches, Pt

    slide = prs.slides.add_slide(prs.slide_layouts[_TITLE_ONLY])
    box = slide.shapes.title
    box.left, box.top, box.width, box.height = Inches(0.5), Inches(0.25), Inches(12.3), Inches(0.7)
    box.text_frame.text = title
    box.text_frame.word_wrap = True
    box.text_frame.vertical_anchor = MSO_ANCHOR.TOP  # the template centres titles; ours sit top left
    box.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    font = box.text_frame.paragraphs[0].font
    font.size, font.bold, font.color.rgb = Pt(size), True, RGBColor(*colour)
    if notes:
        slide.notes_slide.notes_text_frame.text = notes
    return slide


def _summary_slide(prs, report: str, summary: Summary, notes: str) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Inches

    slide = _slide(prs, summary.title, 26, notes)
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


def _plain(markdown: str) -> str:
    """Markdown as speaker-note text: no emphasis marks, headings as lines of their own."""
    return re.sub(r"[*_`]", "", re.sub(r"^#+\s*", "", markdown, flags=re.M)).strip()


def _appendix(nb) -> str:
    """The report's appendix as words (method, diagnostics), for the speaker notes: its text and the HTML
    outputs that are prose (tables stay in the report)."""
    parts = []
    for cell in nb.cells:
        if "appendix" not in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "markdown":
            parts.append(_plain(cell.source))
        for output in cell.get("outputs", []):
            page = output.get("data", {}).get("text/html", "")
            page = "".join(page) if isinstance(page, list) else page
            if page and "<table" not in page:
                parts.append(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip())
    return "\n\n".join(p for p in parts if p)


def _charts(nb) -> list[tuple[str, str, bytes]]:
    """(section heading, section text, PNG) for each chart outside the appendix, in the report's order."""
    heading, text, found = "", "", []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "appendix" in tags:
            continue
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines()
            if any(line.startswith("#") for line in lines):
                heading = next(line for line in lines if line.startswith("#")).lstrip("#").strip()
                text = ""
            text = "\n".join(
                filter(None, [text, _plain("\n".join(x for x in lines if not x.startswith("#")))])
            )
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                found.append(
                    (heading, text, base64.b64decode("".join(png) if isinstance(png, list) else png))
                )
    return found[:MAX_CHARTS]


def _chart_slide(prs, report: str, heading: str, text: str, png: bytes) -> None:
    from PIL import Image
    from pptx.util import Inches

    heading = heading or report
    slide = _slide(prs, heading, 22 if len(heading) <= 60 else 17, text)  # one line above the report's name
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
    title = prs.slides.add_slide(prs.slide_layouts[0])  # "Title Slide": title and subtitle placeholders
    source = manifest.get("workspace", {}).get("source") or "workspace"
    for box, text in ((title.shapes.title, "Sales strategy and forecast"),
                      (title.placeholders[1], f"Run {manifest['run_id']} · data: {source}")):  # fmt: skip
        box.left, box.width = Inches(0.8), Inches(11.7)
        box.text_frame.text = text
    for report in manifest["reports"]:
        name = report["name"]
        if report["status"] != "OK" or not report.get("ipynb"):
            slide = _slide(prs, f"{name}: not completed", 26, colour=_RED)
            _text(slide, report.get("error") or "", Inches(0.5), Inches(1.3), Inches(12.3), Inches(5), 14)
            continue
        nb = nbformat.read(run_dir / report["ipynb"], as_version=4)
        summary = from_notebook(nb)
        if summary is not None:
            _summary_slide(prs, name, summary, _appendix(nb))
        elif report.get("note"):  # a report that says which data it lacks
            slide = _slide(prs, name, 26, _appendix(nb))
            _text(slide, report["note"], Inches(0.5), Inches(1.3), Inches(12.3), Inches(5), 16)
        for heading, text, png in _charts(nb):
            _chart_slide(prs, name, heading, text, png)
    tmp = out.with_name(out.name + ".part")
    prs.save(str(tmp))
    tmp.replace(out)
    return out
