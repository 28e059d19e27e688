"""A PDF of each report, printed by a headless Chromium already on the machine (Debian: ``apt install
chromium``). No browser is downloaded: without one the run says so and writes the HTML only."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from omnimodel.exceptions import OmnimodelError

#: where to look for the browser, first found wins (``OMNIMODEL_CHROMIUM`` names another)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_BROWSER = "no PDFs: they need Chromium on this machine (Debian/Ubuntu: apt install chromium)"
TIMEOUT_S = 180
#: territories whose paper is US Letter (the rest of the world prints on A4)
LETTER = {"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PR", "BZ", "PA", "NI", "SV", "HN", "DO"}
#: paper sizes in points, and the print layout's font size and margins (:func:`print_layout`)
PAPER_WIDTH, PAPER_HEIGHT = {"A4": 595.0, "Letter": 612.0}, {"A4": 842.0, "Letter": 792.0}
FONT_PT, MARGIN_PT = 8.0, 34.0


def paper_size(environ: dict[str, str] | None = None) -> str:
    """The paper, "A4" or "Letter": ``OMNIMODEL_PAPER`` if set, else the locale's territory (``LC_ALL``, ``LC_PAPER``, then
    ``LANG``, as the C library reads them: en_US.UTF-8 prints on Letter, de_DE or C.UTF-8 on A4)."""
    env = os.environ if environ is None else environ
    named = env.get("OMNIMODEL_PAPER", "").strip().lower()
    if named in ("a4", "letter"):
        return "A4" if named == "a4" else "Letter"
    found = next((env[k] for k in ("LC_ALL", "LC_PAPER", "LANG") if env.get(k)), "")
    territory = re.match(r"[a-zA-Z]+_([A-Za-z]{2})", found)
    return "Letter" if territory and territory.group(1).upper() in LETTER else "A4"


def print_layout(page: str, paper: str) -> str:
    """``page`` (a report's HTML) with its print layout: on ``paper``, in portrait unless a table is too wide for
    it (then the whole report is landscape: one orientation reads better than pages turning), every table shown
    whole (no scrollbar, a smaller font, headers wrap; in a table too wide even for landscape the cells wrap
    too), and no chart or table row cut across pages."""
    parts = re.split(r"(<script\b.*?</script>)", page, flags=re.S | re.I)  # the Vega libraries hold "<table"
    widths = [printed_width(m.group(2)) for p in parts[::2] for m in _TABLE.finditer(p)]
    portrait, landscape = PAPER_WIDTH[paper] - 2 * MARGIN_PT, PAPER_HEIGHT[paper] - 2 * MARGIN_PT
    orientation = "landscape" if max(widths, default=0) > portrait else "portrait"
    room = landscape if orientation == "landscape" else portrait

    def mark(m: re.Match) -> str:
        if printed_width(m.group(2)) <= room:
            return m.group(0)
        attrs = m.group(1)
        attrs = (
            re.sub(r'\bclass="', 'class="om-wrap ', attrs, count=1)
            if 'class="' in attrs
            else f'{attrs} class="om-wrap"'
        )
        return f"<table{attrs}>{m.group(2)}</table>"

    parts[::2] = [_TABLE.sub(mark, p) for p in parts[::2]]
    style = (
        "<style>.jp-OutputArea-output pre{white-space:pre-wrap;word-break:break-word}"  # printed lines wrap
        f"@media print{{@page{{size:{paper} {orientation};margin:{MARGIN_PT:.0f}pt}}"
        ".jp-OutputArea-output,.jp-RenderedHTMLCommon{overflow:visible!important;max-width:none!important}"
        f".jp-RenderedHTMLCommon table{{font-size:{FONT_PT:.0f}pt;table-layout:auto;width:auto;max-width:100%}}"
        ".jp-RenderedHTMLCommon th{white-space:normal;overflow-wrap:break-word}"  # at spaces, words whole
        "table.om-wrap td,table.om-wrap th{white-space:normal;overflow-wrap:anywhere}"
        ".jp-RenderedHTMLCommon td,.jp-RenderedHTMLCommon th{padding:2px 4px}"
        # an output may run on over a page (JupyterLab keeps each whole, which left a landscape page 1 with its
        # title alone when the summary did not fit under it); charts, table rows and the card row stay whole
        ".jp-OutputArea-child{break-inside:auto}img,svg,tr,.om-summary>div{break-inside:avoid}"
        ".om-summary h2,.om-summary h3,h2,h3{break-after:avoid}}</style>"
    )
    return "".join(parts).replace("</head>", f"{style}\n</head>", 1)  # the head comes before any script


_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S | re.I)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
_CELL = re.compile(r"<t([hd])\b[^>]*>(.*?)</t[hd]>", re.S | re.I)


def printed_width(table: str) -> float:
    """About how wide ``table`` (its inner HTML) prints in points: per column its widest cell, a header cell
    as wide as its longest word (headers wrap), at :data:`FONT_PT` with the cells' padding."""
    widths: dict[int, int] = {}
    for row in _ROW.findall(table):
        for i, (kind, cell) in enumerate(_CELL.findall(row)):
            text = html.unescape(re.sub(r"<[^>]+>", " ", cell)).strip()
            chars = max(map(len, text.split()), default=0) if kind.lower() == "h" else len(text)
            widths[i] = max(widths.get(i, 0), chars)
    return sum(0.55 * FONT_PT * n + 8.0 for n in widths.values())


def find_browser() -> str | None:
    """The Chromium to print with, or None."""
    named = os.environ.get("OMNIMODEL_CHROMIUM")
    if named:
        return named if shutil.which(named) else None
    return next((found for b in BROWSERS if (found := shutil.which(b))), None)


def print_pdf(page: Path, out: Path, browser: str | None = None) -> Path | None:
    """Print an HTML report to PDF; None when no browser is found. The browser sees no network (its proxy is
    a closed loopback port), runs in its own process group and never outlives the call."""
    browser = browser or find_browser()
    if browser is None:
        return None
    tmp = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="omnimodel-pdf-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", f"--print-to-pdf={tmp}", page.resolve().as_uri(),
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            proc.wait(timeout=TIMEOUT_S)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the renderer and GPU helpers too
            except ProcessLookupError:
                pass
            proc.wait()
    if not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise OmnimodelError(
            f"Chromium ({browser}) wrote no PDF of {page.name} (exit code {proc.returncode})",
            fix="check that the browser starts headless; OMNIMODEL_CHROMIUM names another one",
        )
    tmp.replace(out)
    return out
