"""Reading source files without surprises: every column as text, clear errors for broken files.

Values are read as text on purpose: types are checked and converted by validation, which can then name the
rows that do not parse instead of pandas guessing silently.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd

from omnimodel.exceptions import OmnimodelError


def read_table_file(
    path: str | Path,
    table: str | None = None,
    encoding: str = "utf-8",
    separator: str = ",",
    sheet: str | None = None,
) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel file into a frame of text columns, or raise a clear :class:`OmnimodelError`.

    Detects: missing or empty files, text not in ``encoding``, a delimiter other than ``separator``, ragged
    rows. ``sheet`` names the Excel sheet (default the first).
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
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_excel(path, name, sheet)
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise OmnimodelError(
            f"{path} is not valid {encoding} text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})",
            table=name,
            fix="save the file as UTF-8, or pass the file's encoding (e.g. --encoding latin-1)",
        ) from exc
    text = text.removeprefix("\ufeff")  # Excel's byte-order mark
    header = text.splitlines()[0] if text.strip() else ""
    if not header.strip():
        raise OmnimodelError(
            f"{path} has no header row", table=name, fix="the first line must name the columns"
        )
    if "\x00" in text:  # pandas would cut the value at the NUL without a word
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if "\x00" in line)
        fields = next(csv.reader([lines[at]], delimiter=separator))
        names = next(csv.reader([header], delimiter=separator))
        hit = next((i for i, f in enumerate(fields) if "\x00" in f), 0)
        raise OmnimodelError(
            f"NUL characters inside values ({text.count(chr(0)):,} in {path.name}, first in line {at + 1})",
            table=name,
            column=names[hit].strip() if hit < len(names) else None,
            fix="export again; the file is damaged or binary where text is expected",
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
    names = next(csv.reader([header], delimiter=separator))
    repeated = sorted({c.strip() for c in names if [n.strip() for n in names].count(c.strip()) > 1})
    if repeated:  # pandas would silently call the second one "quantity.1"
        raise OmnimodelError(
            f"{path} names the column(s) {', '.join(repeated)} more than once",
            table=name,
            column=repeated[0],
            fix="keep one column of each name (or rename the other, e.g. quantity_returned)",
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


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
