"""Errors that say what is wrong, where, and how to fix it.

Every error raised on purpose by omnimodel is an :class:`OmnimodelError` (a ``ValueError``), so callers can
catch one type. The context (table, column, example rows, fix) is kept as attributes for programs and folded
into the message for people.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class OmnimodelError(ValueError):
    """Base error with optional context: table, column, example row ids and a suggested fix."""

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        column: str | None = None,
        rows: Sequence | None = None,
        fix: str | None = None,
    ):
        self.table, self.column, self.fix = table, column, fix
        self.rows = list(rows) if rows is not None else []
        parts = []
        where = ".".join(p for p in (table, column) if p)
        if where:
            parts.append(f"[{where}] ")
        parts.append(message)
        if self.rows:
            parts.append(f" (e.g. rows {', '.join(map(str, self.rows[:5]))})")
        if fix:
            parts.append(f". Fix: {fix}")
        super().__init__("".join(parts))


class ConfigError(OmnimodelError):
    """A YAML config or a parameter is wrong."""


class ParameterError(ConfigError):
    """A notebook parameter is unknown or has the wrong type."""


class WorkspaceError(OmnimodelError):
    """The workspace is missing, incomplete or cannot be opened."""


class OmnimodelWarning(UserWarning):
    """Something a reader should know that does not stop the analysis; reports show it as a one-line note."""


class NotFittedError(OmnimodelError):
    """A model was used before ``fit``."""


@dataclass(frozen=True)
class Problem:
    """One validation finding: what is wrong with which rows, and how to fix it."""

    table: str
    column: str | None
    message: str
    rows: tuple = ()
    count: int = 0
    fix: str = ""

    def __str__(self) -> str:
        where = self.table
        if (
            self.column
        ):  # a source file is named as the user sees it: "sales_pipeline.csv, column close_value"
            where += f", column {self.column}" if "." in self.table else f".{self.column}"
        text = f"{where}: {self.message}"
        if self.count:
            text += f" ({self.count} rows)"
        if self.rows:
            text += f"; e.g. rows {', '.join(map(str, self.rows[:5]))}"
        return text + (f". Fix: {self.fix}" if self.fix else "")

    def to_dict(self) -> dict:
        """The error as plain data (message, table, column, rows, fix) for ``--json``."""
        return {
            "table": self.table,
            "column": self.column,
            "message": self.message,
            "rows": [str(r) for r in self.rows[:5]],
            "count": self.count,
            "fix": self.fix,
        }


class ValidationError(OmnimodelError):
    """All problems found in the input at once; ``problems`` holds them for programs."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} problem(s) in the input data:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
        self.table = self.problems[0].table if self.problems else None


#: foreign errors by the library they come from: the data engine (a damaged or unreadable workspace)
_ENGINE_MODULES = ("duckdb", "ibis", "sqlglot", "pyarrow")
_ENGINE_ERRORS = ("IOException", "CatalogException", "BinderException", "InvalidInputException",
                  "TransactionException", "InternalException", "ConversionException")  # fmt: skip
_DISK_FULL = "No space left on device"


def explain(exc: BaseException) -> tuple[str, str]:
    """An error that is not omnimodel's own as one line with what to do, and its kind: ``system`` (the disk or
    the permissions), ``engine`` (the workspace's data engine) or ``internal`` (a bug). The CLI and the report
    runner both say it this way."""
    import errno

    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            doing = f" writing{where}" if where else ""
            return f"no space left on the disk{doing}. Fix: free space or write elsewhere", "system"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return (
                f"not allowed to write{where} ({exc.strerror}). Fix: choose a folder you can write to",
                "system",
            )
        return f"{exc.strerror or exc}{where}. Fix: check the path and the disk", "system"
    module = type(exc).__module__.split(".")[0].lstrip("_")  # duckdb's errors live in _duckdb
    return explain_named(type(exc).__name__, str(exc), engine=module in _ENGINE_MODULES)


def explain_named(name: str, text: str, engine: bool = False) -> tuple[str, str]:
    """:func:`explain` for an error known by its class name and text only (a notebook's, from its kernel)."""
    first = text.strip().splitlines()[0][:300] if text.strip() else name
    if _DISK_FULL in text:
        return f"no space left on the disk ({first}). Fix: free space or write elsewhere", "system"
    if name in ("PermissionError", "OSError", "FileNotFoundError", "IsADirectoryError"):
        return f"{first}. Fix: check the path, its permissions and the disk", "system"
    if engine or name in _ENGINE_ERRORS:
        return (
            f"the data engine failed: {first}. Fix: if the workspace file is damaged, build it again "
            "with `omnimodel ingest` (the source exports are untouched)",
            "engine",
        )
    return (
        f"internal error ({name}: {first}). Fix: run again with --debug for the traceback and report it",
        "internal",
    )
