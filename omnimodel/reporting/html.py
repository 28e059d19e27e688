"""HTML for people: executed notebooks without code, summary first and the appendix last.

Everything that can come from data is escaped: nbconvert escapes text outputs, pandas escapes table cells,
and ``defuse_active_html`` shows HTML outputs with active content as text.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from omnimodel.reporting.guard import Finding, clean_page
from omnimodel.reporting.pdf import paper_size, print_layout

if TYPE_CHECKING:
    from nbformat import NotebookNode


class _ActiveContent(HTMLParser):
    """Finds active content in real tags only: text that merely reads like it (a product called ' online=', an
    escaped ``&lt;script&gt;`` in a table cell) is data, shown as a normal table."""

    ACTIVE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "meta", "form"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = False

    def handle_starttag(self, tag, attrs):
        if tag in self.ACTIVE_TAGS:
            self.found = True
        for name, value in attrs:
            link = (value or "").strip().lower().replace("\t", "").replace("\n", "")
            if name.startswith("on") or link.startswith(("javascript:", "vbscript:", "data:text/html")):
                self.found = True

    handle_startendtag = handle_starttag


def has_active_content(text: str) -> bool:
    """Whether an HTML fragment has tags or attributes that run code (scripts, event handlers, js: links)."""
    parser = _ActiveContent()
    parser.feed(text)
    parser.close()
    return parser.found


def defuse_active_html(nb: NotebookNode) -> int:
    """Show HTML outputs that carry active content (scripts, event handlers) as plain text instead.

    pandas and our own tables escape cell text already; this catches anything else a notebook might display,
    e.g. a ``display(HTML(...))`` built from data. Returns how many outputs were defused.
    """
    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html_text = data.get("text/html")
            if html_text is None:
                continue
            text = "".join(html_text) if isinstance(html_text, list) else html_text
            if has_active_content(text):
                del data["text/html"]
                data["text/plain"] = text
                count += 1
    return count


def interactive_as_html(nb: NotebookNode) -> int:
    """Show omnimodel's own interactive outputs (hover charts and the what-if sliders,
    :data:`omnimodel.charts.interactive.MIME`) as HTML with their scripts: they come from the package, never from data, which their JSON escapes. Runs
    after :func:`defuse_active_html`, so no other output's scripts get through. Returns how many."""
    from omnimodel.charts.interactive import MIME, bundle_script

    count = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME in data:
                text = data.pop(MIME)
                data["text/html"] = (bundle_script() if count == 0 else "") + text  # the libraries once
                for other in ("text/plain", "image/png"):  # the page shows the live chart only
                    data.pop(other, None)
                count += 1
    return count


def drop_ledger_entries(nb: NotebookNode) -> int:
    """Leave out the forecasts a notebook displayed for the forecast ledger: data for the runner, not for
    readers. Returns how many."""
    from omnimodel.funnel.ledger import MIME

    count = 0
    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        kept = [o for o in outputs if MIME not in o.get("data", {})]
        if len(kept) < len(outputs):
            count += len(outputs) - len(kept)
            cell["outputs"] = kept
    return count


def summary_first(nb: NotebookNode) -> int:
    """Move the cells tagged ``summary`` (the answer, computed where its numbers exist) right under the title
    (the first markdown cell). Returns how many moved."""
    tagged = [c for c in nb.cells if "summary" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return 0
    rest = [c for c in nb.cells if c not in tagged]
    at = next((i + 1 for i, c in enumerate(rest) if c.cell_type == "markdown"), 0)
    nb.cells = rest[:at] + tagged + rest[at:]
    return len(tagged)


def appendix_last(nb: NotebookNode) -> int:
    """Move the cells tagged ``appendix`` (data inventory, checklist coverage, method notes) to the end,
    under an "Appendix" heading, their own headings one level down. Returns how many moved."""
    from nbformat.v4 import new_markdown_cell

    tagged = [c for c in nb.cells if "appendix" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return 0
    for cell in tagged:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"^(#{2,5}) ", r"#\1 ", cell.source, flags=re.M)
    nb.cells = [c for c in nb.cells if c not in tagged] + [new_markdown_cell("## Appendix")] + tagged
    return len(tagged)


def failure_card(nb: NotebookNode, message: str, log_name: str) -> bool:
    """Turn a notebook that failed into a page a reader can take: papermill's banners and the traceback go,
    the failing cell shows a short card with what went wrong, and the sections after it go. The traceback
    stays in the executed notebook and the log. Returns whether a failing cell was found."""
    from nbformat import from_dict

    keep, failed = [], False
    for cell in nb.cells:
        if failed:
            break
        if "papermill-error-cell-tag" in cell.get("metadata", {}).get("tags", []):
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            failed = True
            text = html.escape(message)
            card = (
                '<div class="om-failed" style="border:1px solid #b00020;border-radius:8px;padding:10px 14px;'
                f'background:#fff5f5"><b>This report could not be completed.</b><br>{text}<br>'
                f"<small>The details are in {html.escape(log_name)} in the run folder.</small></div>"
            )
            outputs = [o for o in cell["outputs"] if o.get("output_type") != "error"]
            outputs.append(from_dict({"output_type": "display_data", "metadata": {},
                                      "data": {"text/html": card, "text/plain": message}}))  # fmt: skip
            cell["outputs"] = outputs
        keep.append(cell)
    nb.cells = keep
    return failed


def notebook_to_html(ipynb: Path, out: Path, title: str, error: str | None = None) -> list[Finding]:
    """Write a standalone, code-free HTML version of an executed notebook (plots embedded as images); a
    notebook that failed shows ``error`` as a short card where it stopped. Returns what the page's guard
    removed (:mod:`omnimodel.reporting.guard`: paths, warnings, reprs, ...), for the run's log."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(ipynb, as_version=4)
    defuse_active_html(nb)
    if error is not None:
        failure_card(nb, error, f"{out.stem}.ipynb")
    interactive_as_html(nb)
    drop_ledger_entries(nb)
    summary_first(nb)
    appendix_last(nb)
    # nbconvert's own sanitize_html escapes markdown and tables wholesale (7.17), so it stays off.
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    end = body.rfind("</body>")  # the page's own: the inlined Vega libraries hold "</body>" in a string
    body = f"{body[:end]}{made_by(nb)}\n{body[end:]}"
    body = print_layout(body, paper_size())
    body = drop_remote_scripts(body)
    body, removed = clean_page(body)  # nothing a reader must not see reaches the page
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return removed


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


def drop_remote_scripts(page: str) -> str:
    """The page without scripts that load from another host (nbconvert's require.js, MathJax and mermaid from a
    CDN): a code-free report needs none, and opening it must not tell a third party, nor break offline."""
    return _SCRIPT.sub(lambda m: "" if _remote(m.group(0)) else m.group(0), page)


def _remote(script: str) -> bool:
    """Whether a script loads from another host; omnimodel's own (``data-omnimodel``: the inlined Vega
    libraries, whose text names URLs it never loads on its own) are kept."""
    return not script.startswith("<script data-omnimodel") and re.search(r"https?://", script) is not None


def made_by(nb: NotebookNode) -> str:
    """The report's last line: which package version and which kernel (environment) made it, and when."""
    from importlib.metadata import version

    kernel = nb.metadata.get("kernelspec", {}).get("display_name", "unknown kernel")
    python = nb.metadata.get("language_info", {}).get("version", "")
    ran = nb.metadata.get("papermill", {}).get("end_time") or ""
    text = f"Made by omnimodel {version('omnimodel')} on the kernel {kernel} (Python {python})"
    text += f", {ran[:16].replace('T', ' ')} UTC." if ran else "."
    return f'<footer class="made-by" style="color:#666;font-size:.85rem;margin:2rem 1rem">{html.escape(text)}</footer>'
