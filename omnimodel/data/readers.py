"""Reading source files without surprises: every column as text, clear errors for broken files.

Values are read as text on purpose: types are checked and converted by validation, which can then name the
rows that do not parse instead of pandas guessing silently.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from omnimodel.exceptions import OmnimodelError


def read_table_file(path: str | Path, table: str | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a CSV or Parquet file into a frame of text columns, or raise a clear :class:`OmnimodelError`.

    Detects: missing or empty files, non-UTF-8 text, a delimiter other than the comma, ragged rows.
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
    if "," not in header:
        try:
            sep = csv.Sniffer().sniff(header, delimiters=";\t|").delimiter
        except csv.Error:
            sep = None
        if sep:
            raise OmnimodelError(
                f"{path} is separated by {sep!r}, not commas",
                table=name,
                fix=f"export with comma separators (or convert: the header reads {header[:80]!r})",
            )
    try:
        frame = pd.read_csv(
            path,
            dtype="string",
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
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
