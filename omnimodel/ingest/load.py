"""Source -> adapter -> validation -> workspace, as one step that either completes or changes nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from omnimodel.data import engines
from omnimodel.data.workspace import write_workspace
from omnimodel.exceptions import ParameterError, Problem, ValidationError
from omnimodel.ingest import adapters, validation
from omnimodel.ingest.adapters.source import origin_note


@dataclass
class IngestReport:
    """What was loaded, what the adapter did with quirks, and what validation found."""

    source: str
    adapter: str
    rows: dict[str, int]
    quirks: list[str]
    problems: list[Problem] = field(default_factory=list)
    rejected_rows: int = 0
    rejected_file: str | None = None
    workspace: str | None = None
    #: how the rows were read and checked: "in memory" (pandas) or "in the engine (duckdb|spark)"
    route: str = "in memory"

    @property
    def ok(self) -> bool:
        """True when no problem stopped the load."""
        return not self.problems

    def to_dict(self) -> dict:
        """The report as plain data (for ``--json``)."""
        return {
            "source": self.source,
            "adapter": self.adapter,
            "ok": self.ok,
            "rows": self.rows,
            "quirks": self.quirks,
            "problems": [p.to_dict() for p in self.problems],
            "rejected_rows": self.rejected_rows,
            "rejected_file": self.rejected_file,
            "workspace": self.workspace,
            "route": self.route,
        }

    def text(self) -> str:
        """The report in words, one line per table and problem."""
        lines = [
            f"Source {self.source} (adapter {self.adapter}), read and checked {self.route}",
            "Rows loaded:",
        ]
        lines += [f"  {name:<16} {n:>12,}" for name, n in self.rows.items()]
        if self.quirks:
            lines.append("Quirks handled:")
            lines += [f"  - {q}" for q in self.quirks]
        if self.rejected_rows:
            lines.append(f"Quarantined {self.rejected_rows:,} rows with their reason in {self.rejected_file}")
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  - {p}" for p in self.problems]
        else:
            lines.append("No problems found.")
        if self.workspace:
            lines.append(f"Workspace written: {self.workspace}")
        return "\n".join(lines)


def validate_source(
    source: str | Path,
    adapter: str,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    in_engine: bool = False,
) -> IngestReport:
    """Load and validate a source without writing anything (``encoding``, ``mapping``: see :func:`ingest`).
    ``in_engine``: DuckDB reads and checks the files (canonical exports larger than memory)."""
    if in_engine:
        import tempfile

        import ibis

        from omnimodel.ingest import in_engine as engine

        _engine_adapter(adapter)
        with tempfile.TemporaryDirectory(prefix="omnimodel-validate-") as scratch:
            con = ibis.duckdb.connect(Path(scratch) / "scratch.duckdb")  # a file: DuckDB spills beside it
            try:
                loaded = engine.Loaded(con, Path(source), encoding, mapping)
                problems, checked, notes = engine.check(loaded)
            finally:
                con.disconnect()
        rows = {n: c.rows for n, c in checked.items()}
        quirks = loaded.quirks + notes
        return IngestReport(str(source), adapter, rows, quirks, problems, route="in the engine (duckdb)")
    data = adapters.load(source, adapter, encoding=encoding, mapping=mapping)
    problems, notes = validation.inspect(data.tables, stages=data.stages)
    problems, quirks = origin_note(problems, data.origins), data.quirks + notes
    return IngestReport(str(source), adapter, {k: len(v) for k, v in data.tables.items()}, quirks, problems)


def ingest(
    source: str | Path,
    adapter: str,
    workspace: str | Path | dict,
    quarantine: bool = False,
    data_through: str | None = None,
    encoding: str | None = None,
    mapping: str | Path | None = None,
    currency: str | None = None,
    in_engine: bool | None = None,
) -> IngestReport:
    """Build a workspace from a source. Any problem stops it (nothing written) unless ``quarantine`` is set:
    then rejected rows go with their reason to ``<workspace>.rejected.csv`` and the rest is loaded.
    ``data_through`` records the day the exports are complete to (default: the last order day seen).
    ``encoding`` and ``mapping`` (a mapping file, :mod:`omnimodel.ingest.mapping`) are for the canonical adapter.
    ``currency`` (an ISO 4217 code such as EUR) is what reports write beside money; default: the source's own
    where the adapter knows it, else none (numbers without a unit).
    ``in_engine``: the engine reads, checks and writes the exports itself (:mod:`omnimodel.ingest.in_engine`),
    for exports larger than memory; default: so for canonical exports going to Spark, or to a DuckDB file when
    larger than 1 GiB. False: read and checked in memory (pandas).
    """
    if currency is not None and not re.fullmatch(r"[A-Z]{3}", currency):
        raise ParameterError(
            f"--currency {currency!r} is not a currency code", fix="write it as EUR, USD, GBP ..."
        )
    if data_through is not None:
        try:
            data_through = str(pd.Timestamp(data_through).date())
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                f"--data-through {data_through!r} is not a date", fix="write it as YYYY-MM-DD"
            ) from exc
    location = engines.parse(workspace)
    if location.path is not None:  # before reading anything: a source file given as workspace is refused
        from omnimodel.data.workspace import check_replaceable

        check_replaceable(location.path)
    if in_engine is None:
        from omnimodel.ingest.in_engine import suits

        in_engine = suits(Path(source), adapter, location, encoding, mapping)
    if in_engine:
        return _ingest_in_engine(Path(source), adapter, location, quarantine, data_through, encoding, mapping, currency)  # fmt: skip
    data = adapters.load(source, adapter, encoding=encoding, mapping=mapping)
    problems, notes = validation.inspect(data.tables, stages=data.stages)
    data.quirks += notes
    tables = data.tables
    report = IngestReport(str(source), adapter, {k: len(v) for k, v in tables.items()}, data.quirks)
    if quarantine:
        clean, rejected, table_level = validation.quarantine(tables, stages=data.stages)
        if table_level:
            raise ValidationError(origin_note(table_level, data.origins))
        # Rows whose parent row was rejected are orphans now: quarantine them too, until nothing changes.
        while True:
            more_clean, more_rejected, _ = validation.quarantine(clean, stages=data.stages)
            if more_rejected.empty:
                break
            clean, rejected = more_clean, pd.concat([rejected, more_rejected], ignore_index=True)
        if len(rejected):
            side = _rejected_file(location)
            validation.neutralise(rejected).to_csv(side, index=False)  # formula text shown, not run
            report.rejected_rows, report.rejected_file = len(rejected), str(side)
        tables = clean
        report.rows = {k: len(v) for k, v in tables.items()}
    elif problems:
        raise ValidationError(origin_note(problems, data.origins))
    meta = {
        "source": str(source),
        "adapter": adapter,
        "quirks": data.quirks,
        "rows": report.rows,
        "stages": data.stages,
        "funnel": data.funnel,
        "data_through": data_through,
        "currency": currency or data.currency,
        "rejected_rows": report.rejected_rows,
    }
    report.workspace = str(write_workspace(workspace, tables, meta))
    return report


def _rejected_file(location: engines.Location) -> Path:
    """Where quarantined rows go: beside a DuckDB file, else in the working folder."""
    return location.path.with_suffix(".rejected.csv") if location.path else Path.cwd() / "rejected.csv"


def _engine_adapter(adapter: str) -> None:
    if adapter != "canonical":
        raise ParameterError(
            f"the engine reads canonical exports, not the {adapter} adapter's",
            fix="leave out --in-engine (the adapter's data is read in memory)",
        )


def _ingest_in_engine(source, adapter, location, quarantine, data_through, encoding, mapping, currency):
    from omnimodel.ingest import in_engine

    _engine_adapter(adapter)
    if location.kind not in in_engine.ENGINES:
        raise ParameterError(
            f"{location.name}: the engine route reads files with DuckDB or Spark only",
            fix="leave out --in-engine (the exports are read in memory, then written to the engine)",
        )
    meta = {"source": str(source), "adapter": adapter, "data_through": data_through, "currency": currency}
    side = _rejected_file(location) if quarantine else None
    done = in_engine.load_into(source, location, meta, encoding=encoding, mapping=mapping, rejected_file=side)
    route = f"in the engine ({location.kind})"
    report = IngestReport(str(source), adapter, done["rows"], done["quirks"], route=route)
    if done["rejected_rows"]:
        report.rejected_rows, report.rejected_file = done["rejected_rows"], str(side)
    report.workspace = location.name
    return report
