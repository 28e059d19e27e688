"""What a report must never show a reader, checked on every page before it is written.

A report is a deliverable read by someone who did not run it: it must not show where files lie on this machine,
warnings or tracebacks, Python's own notation for values (``{'key': ...}``, ``<... object at 0x...>``), empty
cells written as ``None`` or ``nan``, numbers in e-notation, or words meant for developers (commands, source
paths, library names) in the body (method names and diagnostics belong to the appendix, which may name them).

:func:`clean_page` finds every such text in what a reader sees (tags, scripts and styles are not read), removes
it (a path becomes its file name, an empty cell the dash tables use, anything else is cut out) and says what it
removed, for the run's log. The tests run every report through :func:`findings` and fail on any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

#: the heading the HTML export puts above the appendix (omnimodel.reporting.html.appendix_last)
APPENDIX = re.compile(r'<h2[^>]*id="Appendix"', re.I)
_PATH = re.compile(
    r"(?<![\w.:/])(?:/(?:home|root|tmp|work|usr|opt|var|srv|mnt|Users)/[^\s<>\"',;)]+|[A-Za-z]:\\[^\s<>\"',;)]+)"
)
#: (what it is, pattern) everywhere on the page
EVERYWHERE = (
    ("a path on this machine", _PATH),
    (  # a warning goes whole: where it was raised, its message and the source line Python prints under it
        "a warning or traceback",
        re.compile(
            r"(?:[\w./\\:-]*\.py:\d+: )?\b[A-Z]\w*Warning: [^\n]*(?:\n[ \t]+\S[^\n]*)?|Traceback \(most recent call last\)"
        ),
    ),
    (
        "a Python repr",
        re.compile(r"\{'[^'\n]{1,60}': |<[\w.]+ object at 0x[0-9a-f]+>|\barray\(\[|\bdtype[=:]\s?\w"),
    ),
    ("a number in e-notation", re.compile(r"(?<![\w.])\d+(?:\.\d+)?e[+-]\d{1,3}(?![\w.])")),
)
#: words for developers, in the report's body (the appendix may name methods and libraries)
IN_THE_BODY = (
    (
        "developer words",
        re.compile(
            r"\bmake (?:whatif|test|report|lab)\b|\bdocs/[\w./-]+|\bsite-packages\b|\bstatsmodels\b|"
            r"\bnotebook 0\d's\b|\bomnimodel/[\w/]+\.py\b|\brandomised PIT\b|\bMBG/NBD\b"
        ),
    ),
)
#: a table cell that holds Python's word for a missing value instead of the tables' dash
EMPTY_CELL = re.compile(r"^(?:None|nan|NaN|NaT|<NA>)$")


@dataclass(frozen=True)
class Finding:
    """One text a reader must not see: what it is, and the text itself."""

    what: str
    text: str

    def __str__(self) -> str:
        return f"{self.what}: {self.text[:80]!r}"


class _Text(HTMLParser):
    """The page's text nodes as (start, end) offsets into the page, with whether each is a table cell's whole
    text; scripts and styles are not text a reader sees."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=False)
        self.page, self.hidden, self.cell = page, 0, False
        self.nodes: list[tuple[int, int, bool]] = []
        self._line_starts = [0]
        for i, ch in enumerate(page):
            if ch == "\n":
                self._line_starts.append(i + 1)

    def _offset(self) -> int:
        line, col = self.getpos()
        return self._line_starts[line - 1] + col

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        self.cell = tag in ("td", "th")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        self.cell = False

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            start = self._offset()
            self.nodes.append((start, start + len(data), self.cell))


def _scan(page: str) -> list[tuple[int, int, str, str]]:
    """Every finding as (start, end, what, replacement) offsets into the page."""
    parser = _Text(page)
    parser.feed(page)
    parser.close()
    appendix = APPENDIX.search(page)
    body_end = appendix.start() if appendix else len(page)
    found = []
    for start, end, cell in parser.nodes:
        text = page[start:end]
        if cell and EMPTY_CELL.match(text.strip()):
            found.append((start, end, "an empty value written as None or nan", "–"))
            continue
        rules = EVERYWHERE + (IN_THE_BODY if start < body_end else ())
        for what, pattern in rules:
            for m in pattern.finditer(text):
                found.append((start + m.start(), start + m.end(), what, _instead(what, m.group(0))))
    return sorted(found, key=lambda f: (f[0], -f[1]))  # at one place the longest match goes


def _instead(what: str, text: str) -> str:
    """What a reader sees instead: a path's file name, a number written plainly, nothing for the rest."""
    if what == "a path on this machine":
        return text.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    if what == "a number in e-notation":
        x = float(text)
        return f"{x:,.0f}" if abs(x) >= 1 else f"{x:.12f}".rstrip("0")
    return ""


def findings(page: str) -> list[Finding]:
    """Every text of the page (HTML) a reader must not see."""
    return [Finding(what, page[a:b]) for a, b, what, _ in _scan(page)]


def clean_page(page: str) -> tuple[str, list[Finding]]:
    """The page without what a reader must not see, and what was removed (for the run's log)."""
    found = _scan(page)
    out, last = [], 0
    for start, end, _, keep in found:
        if start < last:  # overlapping matches: the first one is removed
            continue
        out += [page[last:start], keep]
        last = end
    out.append(page[last:])
    return "".join(out), [Finding(what, page[a:b]) for a, b, what, _ in found]
