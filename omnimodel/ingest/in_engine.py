"""Loading exports through the engine: it reads the files, checks them and writes the workspace's tables itself.

For exports larger than memory, into a DuckDB file or a Spark cluster: nothing of the rows passes through
pandas (:mod:`omnimodel.ingest.checks` runs the validation as queries). The folder is read as
:mod:`omnimodel.ingest.adapters.canonical` reads it (file names, ``mapping.yaml``, ``funnel.yaml``); CSV and
Parquet only (a workbook is read in memory). On Spark the server reads the files: they must be at the same path
there (the same machine, or a disk both see).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
from ibis.expr import datatypes as dt

from omnimodel.data import engines
from omnimodel.data.schema import TABLES
from omnimodel.exceptions import OmnimodelError, ValidationError
from omnimodel.ingest import checks, findings, rules
from omnimodel.ingest.adapters import canonical
from omnimodel.ingest.adapters.source import origin_note
from omnimodel.ingest.mapping import TableMapping, channels_frame, named_columns
from omnimodel.ingest.readers import WORKBOOKS, check_csv_head

#: a DuckDB workspace is loaded through the engine when its exports are larger than this (unless told)
IN_ENGINE_BYTES = 1 << 30
#: text encodings each engine reads (Python's names -> the engine's); any other is read in memory
ENCODINGS = {
    "duckdb": {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1", "latin1": "latin-1",
               "iso-8859-1": "latin-1"},
    "spark": {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "utf-16-le": "utf-16le",
              "utf-16-be": "utf-16be", "utf-32": "utf-32", "latin-1": "iso-8859-1", "latin1": "iso-8859-1",
              "iso-8859-1": "iso-8859-1", "ascii": "us-ascii", "us-ascii": "us-ascii"},
}  # fmt: skip
ENGINES = tuple(ENCODINGS)


def engine_encoding(engine: str, encoding: str) -> str | None:
    """The engine's name for a text encoding, or None when it does not read it."""
    return ENCODINGS[engine].get(encoding.lower().replace("_", "-"))


def suits(
    source: Path,
    adapter: str,
    location: engines.Location,
    encoding: str | None = None,
    mapping: str | Path | None = None,
) -> bool:
    """Whether ``omnimodel ingest`` loads through the engine by itself: canonical exports going to Spark, or to
    a DuckDB file when they are larger than :data:`IN_ENGINE_BYTES`; not when a table is a workbook or in a
    text encoding the engine does not read (those are read in memory)."""
    if adapter != "canonical" or location.kind not in ENGINES or not Path(source).is_dir():
        return False
    plan = canonical.plan_for(Path(source), mapping)
    if plan is not None and plan.is_flat and location.kind == "duckdb":
        return False  # a flat export's merging and deriving are done in memory
    files, _ = canonical.table_files(Path(source), plan)
    default = encoding or (plan.encoding if plan else "utf-8")
    for path, spec in files.values():
        text = (spec.encoding if spec else None) or default
        if path.suffix.lower() in WORKBOOKS or engine_encoding(location.kind, text) is None:
            return False
    size = sum(path.stat().st_size for path, _ in files.values() if path.exists())
    return location.kind == "spark" or size > IN_ENGINE_BYTES


class Loaded:
    """The exports as tables the engine reads (not yet read), with what the folder says about them."""

    def __init__(self, con: Any, source: Path, encoding: str | None, mapping: str | Path | None):
        #: (mapping, column, file's table, the text, rows whose text misses the format) per mapped date column
        self.date_checks: list[tuple] = []
        plan = canonical.plan_for(source, mapping)
        if plan is not None and plan.is_flat:
            raise OmnimodelError(
                f"{plan.path} reads a flat export (one file feeding several tables, derived columns, rows kept by "
                "a flag or whole-order returns): the engine does not do that yet",
                fix="ingest into a DuckDB workspace without --in-engine (the flat export is read in memory), or "
                "split the export into one file per table",
            )
        files, self.quirks = canonical.table_files(source, plan)
        default = encoding or (plan.encoding if plan else "utf-8")
        self.files = {name: path.name for name, (path, _) in files.items()}
        self.tables = {}
        for name, (path, spec) in files.items():
            self.tables[name] = _read(con, path, name, (spec.encoding if spec else None) or default, spec)
            if spec is not None:
                self.tables[name] = self._mapped(con, self.tables[name], spec)
        declared = channels_frame(plan) if plan else None
        if declared is not None:
            self.tables["channels"] = ibis.memtable(declared)
            self.files["channels"] = "the mapping's channels"
        funnel = canonical.read_funnel(source / "funnel.yaml")
        self.stages = funnel.stage_names if funnel else None
        self.funnel = funnel.to_dict() if funnel else None
        self.origins = canonical.origins(plan)

    def _mapped(self, con, t, spec: TableMapping):
        """The mapping's renames, keys, value maps, date formats and decimal commas, as the engine's columns."""
        named = named_columns(spec, list(t.columns))
        out = {}
        for col in TABLES[spec.table].column_names:
            if col in spec.keys:
                parts = [t[c].cast("string") for c in spec.keys[col]]
                joined = parts[0]
                for part in parts[1:]:
                    joined = joined + "-" + part
                out[col] = ibis.ifelse(ibis.or_(*[p.isnull() for p in parts]), ibis.null("string"), joined)
            elif col in spec.columns:
                out[col] = t[spec.columns[col]]
            elif col in t.columns and col not in named:
                out[col] = t[col]
        left_out = [c for c in t.columns if c not in named and c not in out]
        if left_out:
            self.quirks.append(f"{spec.file}: column(s) {', '.join(left_out)} not in the mapping, left out")
        for col, values in spec.values.items():
            if col in out:
                out[col] = out[col].substitute(values)
        for col in list(out):
            dtype = TABLES[spec.table].column(col).dtype
            if col in spec.dates:
                text = rules.strip(out[col].cast("string"))
                out[col] = _parse_dates(con, text, spec.dates[col])
                miss = text.notnull() & (text != "") & out[col].isnull()
                self.date_checks.append((spec, col, t, text, miss))
            elif dtype in ("float", "int") and spec.decimal == "," and out[col].type().is_string():
                out[col] = out[col].replace(".", "").replace(",", ".")
        mapped = t.select(**out)
        self.quirks.append(f"{spec.file} -> {spec.table}: mapped in the engine")
        return mapped


def _read(con, path: Path, table: str, encoding: str, spec: TableMapping | None):
    """One export as a table the engine reads (columns as text where the file is text)."""
    view = f"_omni_src_{table}"
    suffix = path.suffix.lower()
    if not path.exists():
        raise OmnimodelError(
            f"file {path} not found", table=table, fix="check the path or `file:` in the mapping"
        )
    if suffix in WORKBOOKS:
        raise OmnimodelError(
            f"{path.name} is a workbook: the engine reads CSV and Parquet",
            table=table,
            fix="save the sheet as CSV or Parquet, or load with --in-memory",
        )
    if suffix in (".parquet", ".pq"):
        try:
            return con.read_parquet(str(path), table_name=view)
        except Exception as exc:
            raise OmnimodelError(
                f"cannot read {path} as Parquet: {findings.first_line(exc)}",
                table=table,
                fix="export it again or as CSV",
            ) from exc
    separator = spec.separator if spec else ","
    names = check_csv_head(path, table, encoding, separator)
    engine = "duckdb" if con.name == "duckdb" else "spark"
    text = engine_encoding(engine, encoding)
    if text is None:
        readable = ", ".join(sorted(set(ENCODINGS[engine].values())))
        raise OmnimodelError(
            f"{path.name} is {encoding} text: {engine.title()} reads {readable}",
            table=table,
            fix="save the file as UTF-8, or load with --in-memory",
        )
    if engine == "duckdb":
        options = dict(all_varchar=True, delim=separator, encoding=text)
    else:  # quoted fields may hold line breaks: multiLine, which reads a file in one task
        options = dict(inferSchema=False, sep=separator, multiLine=True, mode="FAILFAST", encoding=text)
    try:
        t = con.read_csv(str(path), table_name=view, header=True, quote='"', escape='"', **options)
    except Exception as exc:  # the engine cannot open it: on a cluster, the path is not there
        raise OmnimodelError(
            f"the engine could not open {path}: {findings.first_line(exc)}",
            table=table,
            fix="the engine reads the files itself: put them at this path where it runs (the same machine, "
            "or a disk both see), or load with --in-memory",
        ) from exc
    renames = {
        new: old for new, old in zip(names, t.columns, strict=True) if new != old
    }  # padded or BOM-led names
    return t.rename(renames) if renames else t


#: strftime codes and the Java patterns Spark parses with
_JAVA = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%I": "hh", "%M": "mm", "%S": "ss",
         "%f": "SSSSSS", "%p": "a", "%b": "MMM", "%B": "MMMM", "%%": "%"}  # fmt: skip


def java_pattern(fmt: str) -> str:
    """A strftime format as a Java date pattern (Spark's), literal text quoted; unknown codes are an error."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i : i + 2]
            if code not in _JAVA:
                raise OmnimodelError(
                    f"the date format {fmt!r} uses {code}, which the engine does not read",
                    fix=f"use {', '.join(_JAVA)}, or load with --in-memory",
                )
            out.append(_JAVA[code])
            i += 2
        else:
            literal = fmt[i:].split("%", 1)[0]
            letters = re.sub(r"([A-Za-z]+)", r"'\1'", literal.replace("'", "''"))
            out.append(letters)
            i += len(literal)
    return "".join(out)


@ibis.udf.scalar.builtin(name="try_strptime")
def _duckdb_try_strptime(value: str, pattern: str) -> dt.timestamp:
    """DuckDB's strptime that gives NULL for a value that misses the format."""


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _spark_try_to_timestamp(value: str, pattern: str) -> dt.timestamp:
    """Spark's to_timestamp (a Java pattern) that gives NULL for a value that misses it."""


def _parse_dates(con, text, fmt: str):
    """Text in a strftime format as timestamps, parsed by the engine (NULL where a value does not fit)."""
    if con.name == "duckdb":
        return _duckdb_try_strptime(text, fmt)
    return _spark_try_to_timestamp(text, java_pattern(fmt))


def _check_date_formats(loaded: Loaded) -> None:
    """A value that does not fit its mapped date format stops the load, as in memory, naming examples."""
    for spec, col, t, text, miss in loaded.date_checks:
        n = int(t.aggregate(n=miss.cast("int64").sum()).execute()["n"].fillna(0).iloc[0])
        if n:
            examples = t.filter(miss).select(v=text).limit(3).execute()["v"]
            raise OmnimodelError(
                f"{n:,} value(s) of {spec.file} do not match the date format {spec.dates[col]!r}, "
                f"e.g. {', '.join(repr(v) for v in examples)}",
                table=spec.table,
                column=col,
                fix="correct the format under `dates:` in the mapping (strftime codes) or the values",
            )


def check(loaded: Loaded) -> tuple[list, dict, list[str]]:
    """Run every check in the engine: (problems, checked tables, notes on free text kept)."""
    _check_date_formats(loaded)
    return _check_tables(loaded.tables, loaded)


def _check_tables(tables: dict, loaded: Loaded) -> tuple[list, dict, list[str]]:
    outside, checked = checks.check_tables(tables, stages=loaded.stages)
    problems = outside + findings.findings(checked, loaded.files)
    return origin_note(problems, loaded.origins), checked, findings.formula_notes(checked)


def quarantine(loaded: Loaded, problems: list, checked: dict) -> tuple[dict, list]:
    """Split rejected rows off, in the engine: (the clean tables, checked; the rejected rows as queries, with
    their table and reason). Rows whose parent row was rejected are orphans then: checked again until none is
    rejected. A problem of a whole table (a required column missing, no rows) cannot be quarantined: it stops
    the load."""
    table_level = [p for p in problems if not p.count]
    if table_level:
        raise ValidationError(table_level)
    rejected = []
    while True:  # a table left empty by the quarantine is loaded empty, as in memory
        clean = {}
        for name, c in checked.items():
            t = c.flagged
            clean[name] = t.filter(~c.bad()).select(*c.columns)
            if c.rejected:
                rejected.append(
                    t.filter(c.bad()).select(
                        rejected_from=ibis.literal(name),
                        rejected_because=c.reasons(),
                        **{col: t[col].cast("string") for col in c.columns},
                    )
                )
        if not any(c.rejected for c in checked.values()):
            return checked, rejected
        _, checked, _ = _check_tables(clean, loaded)


def write_rejected(queries: list, path: Path) -> int:
    """The rejected rows to a CSV, batch by batch (formula text shown, not run); returns how many."""
    from omnimodel.data.cells import neutralise

    header = ["rejected_from", "rejected_because"]
    for q in queries:
        header += [c for c in q.columns if c not in header]
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        pd.DataFrame(columns=header).to_csv(f, index=False)
        for q in queries:
            for batch in q.to_pyarrow_batches():
                frame = neutralise(batch.to_pandas().astype("string").reindex(columns=header))
                frame.to_csv(f, index=False, header=False)
                n += len(frame)
    return n


def load_into(
    source: Path,
    location: engines.Location,
    meta: dict,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    rejected_file: Path | None = None,
) -> dict:
    """Read, check and write the exports in the engine; the workspace changes only when all is written.

    Any problem stops it (``ValidationError``, nothing written) unless ``rejected_file`` is given: then the
    rejected rows go there with their reason and the rest is loaded. Returns what was loaded: ``rows`` per
    table, ``quirks`` and ``rejected_rows``; ``meta`` gets the rows and quirks too.
    """
    from omnimodel.data.workspace import META_TABLE, atomic_file, meta_rows, swap_in

    result: dict = {}

    def load(con) -> dict:
        loaded = Loaded(con, source, encoding, mapping)
        problems, checked, notes = check(loaded)
        quirks = loaded.quirks + notes
        rows = {n: c.rows for n, c in checked.items()}
        rejected = 0
        if rejected_file is not None:
            checked, queries = quarantine(loaded, problems, checked)
            rows = {n: c.rows for n, c in checked.items()}
            rejected = write_rejected(queries, rejected_file) if queries else 0
        elif problems:
            raise ValidationError(problems)
        meta.update(
            quirks=quirks, rows=rows, stages=loaded.stages, funnel=loaded.funnel, rejected_rows=rejected
        )
        result.update(rows=rows, quirks=quirks, rejected_rows=rejected)
        return {n: c.typed() for n, c in checked.items()}

    if location.kind == "duckdb":

        def fill(tmp: Path) -> None:
            con = ibis.duckdb.connect(str(tmp))
            try:
                for name, table in load(con).items():
                    con.create_table(name, table)
                con.create_table(META_TABLE, pd.DataFrame(meta_rows(meta), columns=["key", "value"]))
                con.raw_sql("CHECKPOINT")
            finally:
                con.disconnect()

        assert location.path is not None
        atomic_file(location.path, fill)
    else:
        con = engines.connect(location, read_only=False)
        swap_in(con, location.database, load(con), meta)
    return result
