"""Reading source files without surprises: every column as text, clear errors for broken files.

Values are read as text on purpose: types are checked and converted by validation, which can then name the
rows that do not parse instead of pandas guessing silently.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from omnimodel.exceptions import OmnimodelError

#: workbook files, read sheet by sheet (legacy .xls through xlrd)
WORKBOOKS = (".xlsx", ".xlsm", ".xls")


def read_table_file(
    path: str | Path,
    table: str | None = None,
    encoding: str = "utf-8",
    separator: str = ",",
    sheet: str | None = None,
    required: Sequence[str] = (),
) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a frame of text columns, or raise a clear :class:`OmnimodelError`.

    Detects: missing or empty files, text not in ``encoding``, a delimiter other than ``separator``, ragged
    rows. ``sheet`` names the Excel sheet (default the first). A CSV is checked as it streams: text encoding
    and NUL bytes chunk by chunk, field counts on the first megabyte, so junk stops in its first megabyte
    whatever the file's size; a file whose header has none of the ``required`` columns returns only the rows of
    its first megabyte (the validation names what is missing) without reading the rest.
    """
    path = Path(path)
    name = table or path.stem
    if not path.exists():
        raise OmnimodelError(f"file {path} not found", table=name, fix="check the path")
    if path.stat().st_size == 0:
        raise OmnimodelError(
            f"file {path} is empty", table=name, fix="export the table again; it has no header"
        )
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path)
        except Exception as exc:
            raise OmnimodelError(
                f"cannot read {path} as Parquet: {exc}", table=name, fix="export it again or as CSV"
            ) from exc
    if path.suffix.lower() in WORKBOOKS:
        return _read_excel(path, name, sheet)

    def check_head(text: str) -> None:
        _check_head(path, name, text, separator)
        if required and not set(required) & set(_names(text, separator)):
            raise _Enough(text)  # none of the table's columns: junk or the wrong file; no need to read on

    try:
        head = _check_text(path, name, encoding, separator, check_head)
    except _Enough as enough:  # its first rows are enough for the validation to say what is missing
        sample = _sample(enough.text.removeprefix("\ufeff"), separator, path.stat().st_size > CHUNK)
        sample.columns = [str(c).strip() for c in sample.columns]
        return sample
    stripped = _names(head, separator)
    try:
        frame = pd.read_csv(
            path,
            dtype="string",
            sep=separator,
            keep_default_na=False,
            na_values=[""],
            encoding=encoding,
            encoding_errors="strict",
        )
    except pd.errors.ParserError as exc:
        raise OmnimodelError(
            f"{path} has rows with the wrong number of fields: {exc}",
            table=name,
            fix="quote fields that contain commas, or fix the rows named",
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise OmnimodelError(f"{path} has no data", table=name, fix="export the table again") from exc
    _once(path, name, stripped)  # pandas would silently call the second one "quantity.1"
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


CHUNK = 1 << 20  # the first megabyte decides about junk


def check_csv_head(path: Path, table: str, encoding: str = "utf-8", separator: str = ",") -> list[str]:
    """The checks of :func:`read_table_file` that need only a CSV's first megabyte (a header, its separator, rows
    as wide as it, names given once, text in ``encoding``), for files an engine reads itself; returns the
    header's names, stripped."""
    if not path.exists():
        raise OmnimodelError(f"file {path} not found", table=table, fix="check the path")
    with path.open("rb") as f:
        chunk = f.read(CHUNK)
    if not chunk:
        raise OmnimodelError(
            f"file {path} is empty", table=table, fix="export the table again; it has no header"
        )
    try:  # a character cut by the chunk's end is not an error
        text = chunk.decode(encoding, errors="strict") if len(chunk) < CHUNK else _decode_cut(chunk, encoding)
    except UnicodeDecodeError as exc:
        raise OmnimodelError(
            f"{path} is not valid {encoding} text (byte {exc.start:,}: {chunk[exc.start : exc.start + 1]!r})",
            table=table,
            fix="save the file as UTF-8, or pass the file's encoding (e.g. --encoding cp1252)",
        ) from exc
    _check_head(path, table, text, separator)
    names = _names(text, separator)
    _once(path, table, names)
    return names


def _once(path: Path, table: str, names: list[str]) -> None:
    """Each column named once."""
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise OmnimodelError(
            f"{path} names the column(s) {', '.join(repeated)} more than once",
            table=table,
            column=repeated[0],
            fix="keep one column of each name (or rename the other, e.g. quantity_returned)",
        )


def _decode_cut(chunk: bytes, encoding: str) -> str:
    import codecs

    return codecs.getincrementaldecoder(encoding)().decode(chunk)


class _Enough(Exception):
    """The first megabyte says all there is to say about the file."""

    def __init__(self, text: str):
        self.text = text


def _names(text: str, separator: str) -> list[str]:
    """The header's column names, stripped."""
    header = text.removeprefix("\ufeff").splitlines()[0]
    return [c.strip() for c in next(csv.reader([header], delimiter=separator))]


def _check_text(path: Path, name: str, encoding: str, separator: str, check_head) -> str:
    """Decode the file chunk by chunk (memory stays one chunk) and return its first megabyte as text; a byte
    that is not ``encoding`` or a NUL stops it with the line it is in. ``check_head(text)`` sees the first
    megabyte before the rest is read, so junk stops there."""
    import codecs

    decoder = codecs.getincrementaldecoder(encoding)()
    head, line, offset = "", 1, 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = offset + exc.start
                raise OmnimodelError(
                    f"{path} is not valid {encoding} text (byte {at:,}: {chunk[exc.start : exc.start + 1]!r})",
                    table=name,
                    fix="save the file as UTF-8, or pass the file's encoding (e.g. --encoding cp1252)",
                ) from exc
            if "\x00" in text:  # pandas would cut the value at the NUL without a word
                before = text[: text.index("\x00")]
                header = (head or text).splitlines()[0] if (head or text).strip() else ""
                raise OmnimodelError(
                    f"NUL characters inside values ({path.name}, first in line {line + before.count(chr(10)):,})",
                    table=name,
                    column=_column_at(header, before, separator) if header else None,
                    fix="export again; the file is damaged or binary where text is expected",
                )
            if not head:
                head = text
                check_head(head)
            line += text.count("\n")
            offset += len(chunk)
    return head


def _check_head(path: Path, name: str, text: str, separator: str) -> None:
    """The first megabyte: a header, the separator it uses, and rows as wide as the header."""
    header = text.removeprefix("\ufeff").splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise OmnimodelError(
            f"{path} has no header row", table=name, fix="the first line must name the columns"
        )
    if separator not in header:
        others = "".join(c for c in ",;\t|" if c != separator)
        try:
            sep = csv.Sniffer().sniff(header, delimiters=others).delimiter
        except csv.Error:
            sep = None
        if sep:
            raise OmnimodelError(
                f"{path} is separated by {sep!r}, not {separator!r}",
                table=name,
                fix=f"give `separator: {sep!r}` for this file in a mapping.yaml (omnimodel map --suggest), or "
                f"export with {separator!r} separators (the header reads {header[:80]!r})",
            )
    _check_fields(path, name, text.removeprefix("\ufeff"), separator)


def _column_at(header: str, before: str, separator: str) -> str:
    """The header's name for the field a NUL is in (``before``: the text up to it)."""
    last = before.rsplit("\n", 1)[-1]
    names = next(csv.reader([header], delimiter=separator))
    at = len(next(csv.reader([last], delimiter=separator), [""])) - 1
    return names[at].strip() if 0 <= at < len(names) else "?"


def _check_fields(path: Path, name: str, head: str, separator: str) -> None:
    """Rows of the first megabyte with another number of fields than the header: junk, or unquoted separators."""
    import io

    reader = csv.reader(io.StringIO(head, newline=""), delimiter=separator)
    rows = [(row, reader.line_num) for row in reader]  # each row with the line it ends on
    if path.stat().st_size > CHUNK:
        rows = rows[:-1]  # the last row may be cut by the chunk
    width = len(rows[0][0]) if rows else 0
    for row, number in rows[1:]:
        if row and len(row) != width:
            raise OmnimodelError(
                f"{path} has rows with the wrong number of fields: line {number:,} has {len(row)}, the header "
                f"{width}",
                table=name,
                fix="quote fields that contain the separator, or check that this is the right file",
            )


def _sample(head: str, separator: str, cut: bool) -> pd.DataFrame:
    """The whole rows of the first megabyte as text columns (``cut``: the file goes on after it)."""
    import io

    if cut:
        head = head[: head.rfind("\n") + 1]  # whole lines only (the chunk may end inside one)
    return pd.read_csv(
        io.StringIO(head), dtype="string", sep=separator, keep_default_na=False, na_values=[""]
    )


def _read_excel(path: Path, name: str, sheet: str | None) -> pd.DataFrame:
    """One sheet of a workbook as text columns (dates as ISO text, as a CSV export would give them)."""
    try:
        frame = pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
    except ValueError as exc:  # a sheet that does not exist
        raise OmnimodelError(
            f"{path}: {exc}", table=name, fix="name an existing sheet with `sheet:`"
        ) from exc
    except Exception as exc:
        raise OmnimodelError(
            f"cannot read {path} as an Excel workbook: {exc}",
            table=name,
            fix="save it again as .xlsx, or as CSV",
        ) from exc

    def text(value):
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return pd.NA
        if isinstance(value, dt.datetime):
            return str(value.date()) if value.time() == dt.time() else value.isoformat(sep=" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    out = frame.apply(lambda col: col.map(text)).astype("string")
    out.columns = [str(c).strip() for c in out.columns]
    return out
