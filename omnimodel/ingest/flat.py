"""Flat exports: one file (or sheet) feeding several canonical tables, as shops and spreadsheets export them.

A flat order export has one row per order line with the order's, the customer's and the product's attributes
repeated on every row (Shopify leaves the order's fields blank on an order's follow-on rows). The mapping reads
it once per table; this module does what that needs:

- **one row per key**: customers, products and orders repeat; their rows are merged by key, each attribute taken
  from the rows that give one. Rows of one key that disagree stop the load naming both rows, unless the mapping
  declares a rule (``conflicts: first``, ``last`` or ``most_frequent``);
- **blank order fields** on follow-on rows are filled from the order's first row;
- **line numbers** where the export has none: the rows of each order numbered in file order;
- **derived columns** from safe expressions over columns (:class:`Expression`): ``"{Sales} / {Quantity}"``,
  ``"{First name} & ' ' & {Last name}"``, a constant ``"'online'"``, a value from another sheet or file
  (``"lookup({State}, 'Regions', 'State', 'Region')"``); arithmetic, text and lookups only, never code;
- **returns from a list or a flag**: ``where: {Returned: "Yes"}`` keeps the rows flagged, and
  ``whole_orders: true`` makes each listed order a return of all its lines (their quantities).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from omnimodel.exceptions import ConfigError, OmnimodelError

CONFLICT_RULES = ("first", "last", "most_frequent")
_FIELD = re.compile(r"\{([^{}]+)\}")
_ARITHMETIC = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}


class Expression:
    """A derived column: export columns in braces, numbers, quoted text, ``+ - * /``, parentheses, ``&`` to
    join text (``+`` joins too where one side is quoted text) and ``lookup(key, 'sheet or file', 'key column',
    'value column')``. Anything else is refused when the mapping is read.
    """

    def __init__(self, text: str, where: str):
        self.text, self.where = text, where
        self.columns: list[str] = []

        def placeholder(match: re.Match) -> str:
            name = match.group(1).strip()
            if name not in self.columns:
                self.columns.append(name)
            return f"_c{self.columns.index(name)}"

        try:
            self._tree = ast.parse(_FIELD.sub(placeholder, text).strip(), mode="eval").body
        except SyntaxError as exc:
            raise self._refused(f"{text!r} is not an expression ({exc.msg})") from None
        self._check(self._tree)

    def _refused(self, message: str) -> ConfigError:
        return ConfigError(
            f"{self.where}: {message}",
            fix='write columns in braces, numbers, quoted text, + - * / ( ) and &, e.g. "{Sales} / {Quantity}"',
        )

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.BinOp) and (type(node.op) in _ARITHMETIC or isinstance(node.op, ast.BitAnd)):
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self._check(node.operand)
        elif isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float)):
            pass
        elif isinstance(node, ast.Name) and re.fullmatch(r"_c\d+", node.id):
            pass
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "lookup"
            and len(node.args) == 4
            and not node.keywords
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[1:])
        ):
            self._check(node.args[0])
        elif isinstance(node, ast.Call):
            raise self._refused(
                f"{ast.unparse(node)!r} is not allowed: the one function is "
                "lookup({Column}, 'sheet or file', 'its key column', 'its value column')"
            )
        elif isinstance(node, ast.Name):
            raise self._refused(f"{node.id!r} is not allowed: put column names in braces, e.g. {{{node.id}}}")
        else:
            raise self._refused(f"{ast.unparse(node)!r} is not allowed")

    def evaluate(
        self,
        source: pd.DataFrame,
        decimal: str,
        file: str,
        table: str,
        column: str,
        lookups: Callable[[str], pd.DataFrame] | None = None,
    ) -> pd.Series:
        """The derived column for every row of ``source`` (text, as validation reads every column);
        ``lookups(name)`` reads the sheet or file a ``lookup`` names."""
        missing = [c for c in self.columns if c not in source.columns]
        if missing:
            raise OmnimodelError(
                f"{file} has no column(s) {', '.join(missing)} used in {self.where}",
                table=table,
                column=column,
                fix=f"correct the expression; the file's columns are {', '.join(map(str, source.columns))}",
            )
        context = _Context(source, self.columns, decimal, file, table, column, lookups)
        value, kind = context.value(self._tree)
        if kind == "number":
            return _number_text(value, source.index)
        if not isinstance(value, pd.Series):
            return pd.Series(str(value), index=source.index, dtype="string")
        return value.astype("string")


class _Context:
    """One evaluation: values are (series or constant, kind), kind "text", "number" or "column" (either)."""

    def __init__(self, source, columns, decimal, file, table, column, lookups):
        self.source, self.columns, self.decimal = source, columns, decimal
        self.file, self.table, self.column, self.lookups = file, table, column, lookups

    def lookup(self, node: ast.Call):
        """``lookup(key, where, key column, value column)``: the value of the row of ``where`` whose key column
        holds the key (keys trimmed; a key given twice with different values is an error)."""
        keys = self.text(self.value(node.args[0]))
        where, key, value = (a.value for a in node.args[1:])  # type: ignore[attr-defined]
        other = self.lookups(where) if self.lookups else None
        if other is None or key not in other.columns or value not in other.columns:
            raise OmnimodelError(
                f"lookup in {self.table}.{self.column}: no sheet or file {where!r} with columns {key!r} and "
                f"{value!r}"
                + (f" (it has {', '.join(map(str, other.columns))})" if other is not None else ""),
                table=self.table,
                column=self.column,
                fix="name a sheet of the same workbook, or a file in the export folder, and two of its columns",
            )
        pairs = other[[key, value]].dropna(subset=[key]).astype("string")
        pairs[key] = pairs[key].str.strip()
        twice = pairs.drop_duplicates().loc[lambda f: f[key].duplicated(), key]
        if len(twice):
            raise OmnimodelError(
                f"lookup in {self.table}.{self.column}: {where!r} gives {key} {twice.iloc[0]!r} more than one "
                f"{value}",
                table=self.table,
                column=self.column,
                fix=f"keep one {value} per {key} in {where!r}",
            )
        table = pairs.drop_duplicates(key).set_index(key)[value]
        if not isinstance(keys, pd.Series):
            keys = pd.Series(keys, index=self.source.index, dtype="string")
        return keys.str.strip().map(table).astype("string")

    def value(self, node):
        if isinstance(node, ast.Call):
            return self.lookup(node), "column"
        if isinstance(node, ast.Constant):
            return node.value, "text" if isinstance(node.value, str) else "number"
        if isinstance(node, ast.Name):
            return self.source[self.columns[int(node.id[2:])]].astype("string"), "column"
        if isinstance(node, ast.UnaryOp):
            return -self.number(self.value(node.operand), node.operand), "number"
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.BitAnd) or (
            isinstance(node.op, ast.Add) and "text" in (left[1], right[1])
        ):
            return self.text(left) + self.text(right), "text"
        if "text" in (left[1], right[1]):
            raise ConfigError(
                f"{self.table}.{self.column}: {ast.unparse(node)!r} does arithmetic with text",
                fix="join text with &; compute only with columns and numbers",
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ARITHMETIC[type(node.op)](
                self.number(left, node.left), self.number(right, node.right)
            ), "number"

    @staticmethod
    def text(value):
        data, kind = value
        if kind == "number" and isinstance(data, pd.Series):
            return _number_text(data, data.index)
        return data if isinstance(data, pd.Series) else str(data)

    def number(self, value, node):
        data, kind = value
        if kind == "number":
            return data
        text = data.str.strip()
        if self.decimal == ",":
            text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = numbers.isna() & text.notna() & (text != "")
        if bad.any():
            name = self.columns[int(node.id[2:])] if isinstance(node, ast.Name) else ast.unparse(node)
            raise OmnimodelError(
                f"{int(bad.sum()):,} value(s) of {self.file} column {name!r} are not numbers, e.g. "
                f"{', '.join(repr(v) for v in text[bad].head(3))}",
                table=self.table,
                column=self.column,
                rows=[f"line {i + 2}" for i in bad[bad].index[:5]],
                fix=f"correct the values, or the expression that derives {self.column}",
            )
        return numbers


def _number_text(values, index) -> pd.Series:
    """Numbers as the text validation reads: whole numbers without a decimal point; not finite -> blank."""
    series = pd.Series(values, index=index, dtype="float64")
    finite = np.isfinite(series)
    whole = finite & (series == np.floor(series)) & (series.abs() < 2**53)  # vectorised, no row loop
    text = series.round(12).astype("string")
    text = text.mask(whole, series.where(whole).astype("Int64").astype("string"))
    return text.where(finite)


def where_rows(source: pd.DataFrame, where: dict[str, list[str]], file: str, table: str) -> pd.Series:
    """The rows a ``where:`` keeps: each named column holding one of its values (trimmed, any case)."""
    keep = pd.Series(True, index=source.index)
    for column, values in where.items():
        if column not in source.columns:
            raise OmnimodelError(
                f"{file} has no column {column!r} named under `where:`",
                table=table,
                fix=f"correct the mapping; the file's columns are {', '.join(map(str, source.columns))}",
            )
        wanted = {v.strip().casefold() for v in values}
        keep &= source[column].astype("string").str.strip().str.casefold().isin(wanted).fillna(False)
    return keep


def fill_order_fields(source: pd.DataFrame, order_columns: list[str], columns: list[str]) -> pd.DataFrame:
    """Blank ``columns`` of an order's follow-on rows filled from the order's rows that give them (Shopify gives
    the order's fields on its first row only)."""
    present = [c for c in columns if c in source.columns and c not in order_columns]
    if not present or not all(c in source.columns for c in order_columns):
        return source
    filled = source.copy()
    first = source.groupby(order_columns, sort=False, dropna=True)[present].transform("first")
    filled[present] = source[present].fillna(first)
    return filled


def line_numbers(order_id: pd.Series) -> pd.Series:
    """Each order's rows numbered 1, 2, ... in file order (as text)."""
    return (order_id.groupby(order_id, sort=False, dropna=True).cumcount() + 1).astype("string")


def one_row_per_key(
    frame: pd.DataFrame, key: list[str], rule: str | None, file: str, table: str
) -> tuple[pd.DataFrame, str | None]:
    """Rows merged by ``key``, each column's value from the rows that give one; disagreement is an error naming
    the rows, or settled by ``rule``. Returns the frame and a note (None when every key was once)."""
    complete = frame[key].notna().all(axis=1)
    keyed, unkeyed = frame[complete], frame[~complete]  # rows without a key stay for validation to name
    if not keyed.duplicated(key).any():
        return frame, None
    values = [c for c in frame.columns if c not in key]
    if rule is None and values:
        counts = keyed.groupby(key, sort=False)[values].nunique()
        wrong = counts[(counts > 1).any(axis=1)]
        if len(wrong):
            at = wrong.index[0] if len(key) > 1 else (wrong.index[0],)
            column = str((wrong.iloc[0] > 1).idxmax())
            rows = keyed[(keyed[key] == pd.Series(at, index=key)).all(axis=1)]
            rows = rows.dropna(subset=[column]).drop_duplicates(column)
            shown = ", ".join(f"{v!r} (line {i + 2})" for i, v in rows[column].head(3).items())
            raise OmnimodelError(
                f"{len(wrong):,} {' + '.join(key)} value(s) of {file} have rows that disagree, e.g. "
                f"{' + '.join(map(str, at))} has {column} {shown}",
                table=table,
                column=column,
                rows=[f"line {i + 2}" for i in rows.index[:5]],
                fix=f"correct the export, or say which row counts with `conflicts: first` (or last, "
                f"most_frequent) under tables.{table} in the mapping",
            )
    merged = _merge(keyed, key, values, rule or "first")
    note = f"{file} -> {table}: {len(keyed):,} rows merged into {len(merged):,} by {' + '.join(key)}" + (
        f" (where rows disagree: the {rule.replace('_', ' ')} value)" if rule else ""
    )
    return pd.concat([merged, unkeyed], ignore_index=True)[frame.columns], note


def _merge(keyed: pd.DataFrame, key: list[str], values: list[str], rule: str) -> pd.DataFrame:
    groups = keyed.groupby(key, sort=False)
    if rule != "most_frequent" or not values:
        merged = groups[values].last() if rule == "last" else groups[values].first()
        return merged.reset_index()
    merged = groups.size().rename("_n").reset_index()[key]
    for column in values:  # the most frequent value, ties to the one seen first
        counts = keyed.dropna(subset=[column]).groupby([*key, column], sort=False).size().rename("_n")
        best = counts.reset_index().sort_values("_n", ascending=False, kind="stable").drop_duplicates(key)
        merged = merged.merge(best[[*key, column]], on=key, how="left")
    return merged


def whole_order_returns(returned: pd.DataFrame, lines: pd.DataFrame | None, file: str) -> pd.DataFrame:
    """Each listed order returned in full: a return per order line (the line's number and quantity), its id the
    order's and the line's; the listed order's date and reason carried over."""
    if lines is None or not {"order_id", "line_no", "quantity"} <= set(lines.columns):
        raise OmnimodelError(
            f"returns of whole orders ({file}) need the order lines",
            table="returns",
            fix="map order_lines too, or list returned lines with their quantity",
        )
    listed = returned.dropna(subset=["order_id"]).drop_duplicates("order_id")
    carried = [c for c in ("order_id", "return_date", "reason") if c in listed.columns]
    out = lines[["order_id", "line_no", "quantity"]].merge(listed[carried], on="order_id", how="inner")
    out.insert(0, "return_id", out["order_id"] + "-" + out["line_no"].astype("string"))
    return out.reset_index(drop=True)
