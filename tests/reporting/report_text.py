"""What a reader must never see in a report: e-notation or long decimals in a table, a pandas index column,
warnings, tracebacks, Python reprs. Used by the runner tests on every generated report."""

from __future__ import annotations

import re
from html.parser import HTMLParser

E_NOTATION = re.compile(r"\d[eE][+-]?\d")
LONG_DECIMALS = re.compile(r"\d\.\d{5,}")
REPR = re.compile(
    r"^\s*['\"\[(].*['\"\])]\s*$|<[a-z_.]+ object at 0x|\bdtype[:=]|\bDataFrame\b|\bSeries\(|^array\("
)
NOISE = re.compile(r"(Warning|Traceback)\b")


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells: list[str] = []  # table cells
        self.outputs: list[str] = []  # text outputs (pre blocks)
        self.index_columns = 0
        self._cell: list[str] | None = None
        self._pre: list[str] | None = None
        self._row_first = False
        self._in_tbody = False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "tbody":
            self._in_tbody = True
        elif tag == "tr":
            self._row_first = True
        elif tag in ("td", "th"):
            if (
                self._in_tbody
                and self._row_first
                and tag == "th"
                and ("row_heading" in classes or not classes)
            ):
                self.index_columns += 1  # pandas writes the index as a header cell in each body row
            self._row_first = False
            self._cell = []
        elif tag == "pre":
            self._pre = []
        if "blank" in classes.split() and "level0" in classes.split():
            self.index_columns += 1

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "pre" and self._pre is not None:
            self.outputs.append("".join(self._pre))
            self._pre = None
        elif tag == "tbody":
            self._in_tbody = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._pre is not None:
            self._pre.append(data)


def reader_problems(page: str) -> list[str]:
    """Everything in one report page a client should not see, as short descriptions."""
    parser = _Cells()
    parser.feed(page)
    found = []
    for cell in parser.cells:
        if E_NOTATION.search(cell) and not re.fullmatch(r"[A-Za-z0-9_-]+", cell):  # ids like 2E5 stay
            found.append(f"e-notation in a table cell: {cell!r}")
        if LONG_DECIMALS.search(cell):
            found.append(f"more than four decimals in a table cell: {cell!r}")
    if parser.index_columns:
        found.append(f"{parser.index_columns} pandas index cells")
    for text in parser.outputs:
        for line in text.splitlines():
            if NOISE.search(line):
                found.append(f"warning or traceback text: {line.strip()[:120]!r}")
            elif REPR.search(line):
                found.append(f"Python repr: {line.strip()[:120]!r}")
    return found
