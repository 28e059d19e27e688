"""HTML for people: executed notebooks without code, and the index page of a run.

Everything that can come from data is escaped: nbconvert escapes text outputs, pandas escapes table cells,
``sanitize_html`` strips active content from HTML outputs, and the index page escapes every value it shows.
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path


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


def defuse_active_html(nb) -> int:
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


def summary_first(nb) -> int:
    """Move the cells tagged ``summary`` (the answer, computed where its numbers exist) right under the title
    (the first markdown cell). Returns how many moved."""
    tagged = [c for c in nb.cells if "summary" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        return 0
    rest = [c for c in nb.cells if c not in tagged]
    at = next((i + 1 for i, c in enumerate(rest) if c.cell_type == "markdown"), 0)
    nb.cells = rest[:at] + tagged + rest[at:]
    return len(tagged)


def notebook_to_html(ipynb: Path, out: Path, title: str) -> Path:
    """A standalone, code-free HTML version of an executed notebook (plots embedded as images)."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(ipynb, as_version=4)
    defuse_active_html(nb)
    summary_first(nb)
    # nbconvert's own sanitize_html escapes markdown and tables wholesale (7.17), so it stays off.
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = body.replace("</body>", f"{made_by(nb)}\n</body>", 1)
    body = drop_remote_scripts(body)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(out)
    return out


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)


def drop_remote_scripts(page: str) -> str:
    """The page without scripts that load from another host (nbconvert's require.js, MathJax and mermaid from a
    CDN): a code-free report needs none, and opening it must not tell a third party, nor break offline."""
    return _SCRIPT.sub(lambda m: "" if re.search(r"https?://", m.group(0)) else m.group(0), page)


def made_by(nb) -> str:
    """The report's last line: which package version and which kernel (environment) made it, and when."""
    from importlib.metadata import version

    kernel = nb.metadata.get("kernelspec", {}).get("display_name", "unknown kernel")
    python = nb.metadata.get("language_info", {}).get("version", "")
    ran = nb.metadata.get("papermill", {}).get("end_time") or ""
    text = f"Made by omnimodel {version('omnimodel')} on the kernel {kernel} (Python {python})"
    text += f", {ran[:16].replace('T', ' ')} UTC." if ran else "."
    return f'<footer class="made-by" style="color:#666;font-size:.85rem;margin:2rem 1rem">{html.escape(text)}</footer>'


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;color:#222}
h1{font-size:1.5rem} table{border-collapse:collapse;width:100%} th,td{padding:.4rem .6rem;text-align:left;
border-bottom:1px solid #ddd;vertical-align:top} th{background:#f4f4f4} .ok{color:#176b2c;font-weight:600}
.failed{color:#b00020;font-weight:600} code{font-size:.85em;white-space:pre-wrap} .meta{color:#555;font-size:.9rem}
"""


def index_html(manifest: dict) -> str:
    """The index page of a run: every report with its parameters, status, duration and error."""
    e = html.escape
    rows = []
    for r in manifest["reports"]:
        params = ", ".join(
            f"{k}={json.dumps(v, default=str)}" for k, v in r["parameters"].items() if k != "workspace"
        )
        link = f'<a href="{e(r["html"])}">{e(r["name"])}</a>' if r.get("html") else e(r["name"])
        nb_link = f' (<a href="{e(r["ipynb"])}">notebook</a>)' if r.get("ipynb") else ""
        status = e(r["status"])
        error = f"<br><code>{e(r['error'])}</code>" if r.get("error") else ""
        if r.get("note"):  # a report that says in one line which data it lacks (still OK)
            error += f"<br><small>{e(r['note'])}</small>"
        duration = f"{r['duration_s']:.1f} s" if r.get("duration_s") is not None else ""
        rows.append(
            f"<tr><td>{link}{nb_link}</td><td><code>{e(params)}</code></td>"
            f'<td class="{status.lower()}">{status}{error}</td><td>{duration}</td></tr>'
        )
    ws = manifest.get("workspace", {})
    ok = sum(r["status"] == "OK" for r in manifest["reports"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>omnimodel reports {e(manifest["run_id"])}</title>
<style>{_STYLE}</style></head><body>
<h1>omnimodel reports: run {e(manifest["run_id"])}</h1>
<p class="meta">Status <b>{e(manifest["status"])}</b> ({ok} of {len(manifest["reports"])} OK).
Started {e(manifest["started_at"])}, finished {e(manifest.get("finished_at") or "")}.
Data: {e(str(ws.get("path", "")))} ({e(str(ws.get("source", "")))}), fingerprint <code>{e(str(ws.get("fingerprint", ""))[:19])}</code>.
omnimodel {e(manifest["versions"].get("omnimodel", ""))}, commit <code>{e(str(manifest.get("git_commit") or "unknown"))}</code>.
Details in <a href="manifest.json">manifest.json</a>.</p>
<table><thead><tr><th>report</th><th>parameters</th><th>status</th><th>duration</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
