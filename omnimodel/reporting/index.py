"""The index page of a run: a dashboard of every report's headline numbers, what changed since the last good
run, then the run log (parameters, status, duration). Every value it shows is escaped."""

from __future__ import annotations

import html
import json
from pathlib import Path

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:75rem;color:#222;
padding:0 1rem} h1{font-size:1.5rem} h2{font-size:1.2rem;margin:1.6rem 0 .4rem} h2 a{color:inherit}
table{border-collapse:collapse;width:100%} th,td{padding:.4rem .6rem;text-align:left;border-bottom:1px solid #ddd;
vertical-align:top} th{background:#f4f4f4} .ok{color:#176b2c;font-weight:600} .failed{color:#b00020;font-weight:600}
code{font-size:.85em;white-space:pre-wrap} .meta{color:#555;font-size:.9rem}
.cards{display:flex;gap:12px;flex-wrap:wrap} .card{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;
min-width:190px;flex:1;background:#f6f8fa} .label,.detail{font-size:.85rem;color:#57606a}
.value{font-size:1.5rem;font-weight:600;margin:2px 0} .was{font-size:.8rem;color:#9a6700}
.error{border:1px solid #b00020;border-radius:8px;padding:10px 14px;background:#fff5f5}
.finding{margin:.5rem 0 0;color:#333}
"""


def previous_cards(manifest: dict | None) -> dict[tuple[str, str], str]:
    """(report, card label) -> value in an earlier run's manifest (the last good run)."""
    if not manifest:
        return {}
    return {
        (r["name"], c["label"]): c["value"]
        for r in manifest.get("reports", [])
        for c in (r.get("summary") or {}).get("cards", [])
    }


def _card(card: dict, was: str | None) -> str:
    e = html.escape
    change = (
        f'<div class="was">was {e(was)} in the last good run</div>' if was and was != card["value"] else ""
    )
    return (
        f'<div class="card"><div class="label">{e(card["label"])}</div><div class="value">{e(card["value"])}'
        f'</div><div class="detail">{e(card.get("detail", ""))}</div>{change}</div>'
    )


def _dashboard(manifest: dict, before: dict[tuple[str, str], str]) -> str:
    e = html.escape
    parts = []
    for r in manifest["reports"]:
        head = f'<a href="{e(r["html"])}">{e(r["name"])}</a>' if r.get("html") else e(r["name"])
        parts.append(f"<h2>{head}</h2>")
        summary = r.get("summary") or {}
        if r["status"] != "OK":
            parts.append(f'<div class="error"><b>Not completed.</b> {e(r.get("error") or "")}</div>')
        elif summary.get("cards"):
            cards = "".join(_card(c, before.get((r["name"], c["label"]))) for c in summary["cards"])
            parts.append(f'<div class="cards">{cards}</div>')
            if summary.get("findings"):
                parts.append(f'<p class="finding">{e(summary["findings"][0])}</p>')
        elif r.get("note"):
            parts.append(f'<p class="meta">{e(r["note"])}</p>')
        files = [(r.get(k), label) for k, label in (("pdf", "PDF"), ("ipynb", "notebook"))]
        links = " · ".join(f'<a href="{e(f)}">{label}</a>' for f, label in files if f)
        if links:
            parts.append(f'<p class="meta">{links}</p>')
    return "\n".join(parts)


def _shown(value: object) -> object:
    """A file named by its name, not by where it lies on this machine (the index is shared); anything else as given."""
    if isinstance(value, str) and value.startswith("/") and "://" not in value:
        return Path(value).name
    return value


def _log(manifest: dict) -> str:
    e = html.escape
    rows = []
    for r in manifest["reports"]:
        params = ", ".join(
            f"{k}={json.dumps(_shown(v), default=str)}"
            for k, v in r["parameters"].items()
            if k != "workspace"
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
    return "\n".join(rows)


def index_html(manifest: dict, previous: dict | None = None) -> str:
    """The index page of a run; ``previous`` is the last good run's manifest (for what changed)."""
    e = html.escape
    ws = manifest.get("workspace", {})
    ok = sum(r["status"] == "OK" for r in manifest["reports"])
    since = (
        f" Changes are against the last good run, {e(previous['run_id'])}."
        if previous and previous.get("run_id")
        else ""
    )
    deck = ' · <a href="deck.pptx">slides (PowerPoint)</a>' if manifest.get("deck") else ""
    notes = {r["pdf_note"] for r in manifest["reports"] if r.get("pdf_note")}
    notes |= {manifest["deck_note"]} if manifest.get("deck_note") else set()
    deck += "".join(f"<br>{e(n)}." for n in sorted(notes))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>omnimodel reports {e(manifest["run_id"])}</title>
<style>{_STYLE}</style></head><body>
<h1>omnimodel reports: run {e(manifest["run_id"])}</h1>
<p class="meta">Status <b>{e(manifest["status"])}</b> ({ok} of {len(manifest["reports"])} OK).
Data: {e(str(_shown(ws.get("path", ""))))} ({e(str(ws.get("source", "")))}).{since}{deck}</p>
{_dashboard(manifest, previous_cards(previous))}
<h2>Run log</h2>
<p class="meta">Started {e(manifest["started_at"])}, finished {e(manifest.get("finished_at") or "")}.
Data fingerprint <code>{e(str(ws.get("fingerprint", ""))[:19])}</code>.
omnimodel {e(manifest["versions"].get("omnimodel", ""))}, commit <code>{e(str(manifest.get("git_commit") or "unknown"))}</code>.
Details in <a href="manifest.json">manifest.json</a>.</p>
<table><thead><tr><th>report</th><th>parameters</th><th>status</th><th>duration</th></tr></thead>
<tbody>
{_log(manifest)}
</tbody></table></body></html>
"""
