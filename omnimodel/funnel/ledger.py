"""The forecast ledger: every forecast a report run or ``omnimodel pipeline forecast`` made, kept for good.

A DuckDB file beside the reports (default ``reports/forecast-ledger.duckdb``) with two tables, only ever added
to:

- ``forecasts``: one row per run, period and group level (the total, and each channel, region, segment and
  owner): P10, P50, P90, mean and the 1-99 % quantiles of the period's bookings (what it booked by the as-of
  date included), what was booked in the period by then, the
  as-of date, the data fingerprint (what the snapshot knew) and the model version (omnimodel's version and the
  fit code's hash), the fit method;
- ``deals``: the open deals as the forecast saw them (stage, amount, expected close date, chances), so a later
  run can say which deals slipped or changed amount since (:mod:`omnimodel.funnel.changes`).

Rows are appended in one transaction under a file lock, after the forecast succeeded: a run that fails adds
nothing, and nothing is updated or deleted. Reading it back gives the history that accuracy over time and the
"why did the forecast change" breakdown start from.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omnimodel.funnel.forecast import BookingsForecast
    from omnimodel.funnel.model import PipelineModel
    from omnimodel.funnel.snapshot import PipelineSnapshot

import numpy as np
import pandas as pd

#: where report runs and the CLI keep the ledger unless told otherwise: beside the reports
DEFAULT_PATH = Path("reports") / "forecast-ledger.duckdb"
#: the groups recorded beside the total, where the deals have them
GROUPS = ("source_channel", "region", "segment", "owner", "manager", "team")
#: the quantile levels kept of every forecast (1 % to 99 %): enough to score it later (CRPS, PIT)
LEVELS = tuple(round(k / 100, 2) for k in range(1, 100))

FORECAST_COLUMNS = {
    "run_id": "VARCHAR",
    "recorded_at": "TIMESTAMP",
    "source": "VARCHAR",
    "workspace": "VARCHAR",
    "data_fingerprint": "VARCHAR",
    "model_version": "VARCHAR",
    "fit_method": "VARCHAR",
    "funnel": "VARCHAR",
    "measure": "VARCHAR",
    "as_of": "DATE",
    "period": "VARCHAR",
    "slice": "VARCHAR",
    "group_by": "VARCHAR",
    "level": "VARCHAR",
    "booked": "DOUBLE",
    "p10": "DOUBLE",
    "p50": "DOUBLE",
    "p90": "DOUBLE",
    "mean": "DOUBLE",
    "quantiles": "DOUBLE[]",
}
DEAL_COLUMNS = {
    "run_id": "VARCHAR",
    "as_of": "DATE",
    "period": "VARCHAR",
    "opportunity_id": "VARCHAR",
    "stage": "VARCHAR",
    "amount": "DOUBLE",
    "expected_close_date": "DATE",
    "win_probability": "DOUBLE",
    "p_book_in_period": "DOUBLE",
    "category": "VARCHAR",
}


#: a report's forecast as data in the executed notebook, for the runner to record once the run succeeded
MIME = "application/vnd.omnimodel.forecast-ledger+json"


@dataclass
class Entry:
    """One forecast to record: the rows for ``forecasts`` and ``deals`` (without the run's own columns)."""

    forecasts: pd.DataFrame
    deals: pd.DataFrame

    def to_dict(self) -> dict:
        """Plain data (dates as ISO text), as a notebook displays it."""
        return {
            name: json.loads(frame.to_json(orient="records", date_format="iso"))
            for name, frame in (("forecasts", self.forecasts), ("deals", self.deals))
        }

    @classmethod
    def from_dict(cls, data: dict) -> Entry:
        """The entry a notebook displayed."""
        frames = {}
        for name in ("forecasts", "deals"):
            frame = pd.DataFrame(data.get(name, []))
            for column in ("as_of", "expected_close_date"):
                if column in frame:
                    frame[column] = pd.to_datetime(frame[column]).dt.date
            frames[name] = frame
        return cls(frames["forecasts"], frames["deals"])

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        note = "This forecast goes into the forecast ledger when the report run succeeds."
        return {MIME: self.to_dict(), "text/plain": note}  # the HTML report leaves it out


def slice_name(where: dict | None) -> str:
    """A forecast's slice as text: "" for the whole pipeline, else "region=North,source_channel=webshop"."""
    return ",".join(f"{k}={v}" for k, v in sorted((where or {}).items()) if v is not None)


def entry(
    fc: BookingsForecast,
    snapshot: PipelineSnapshot,
    model: PipelineModel,
    workspace: str,
    source: str,
    where: dict | None = None,
) -> Entry:
    """The ledger rows of a :class:`~omnimodel.funnel.forecast.BookingsForecast` made on ``snapshot`` by
    ``model``; ``workspace`` names the data (a path or URL), ``source`` what made it ("report", "cli"),
    ``where`` the slice it was limited to."""
    from omnimodel.funnel.fits import model_version, snapshot_key

    common = {
        "source": source,
        "workspace": workspace,
        "data_fingerprint": snapshot_key(snapshot),
        "model_version": model_version(),
        "fit_method": model.diagnostics_.method,
        "funnel": snapshot.funnel.name,
        "measure": model.measure,
        "as_of": snapshot.as_of.date(),
        "period": str(fc.period),
        "slice": slice_name(where),
    }
    rows = [
        {
            "group_by": "total",
            "level": "total",
            "booked": fc.booked,
            **fc.quantiles(),
            "quantiles": np.quantile(fc.total, LEVELS).tolist(),
        }
    ]
    for group in GROUPS:
        if group in fc.by_group:
            so_far = fc.booked_by.get(group, pd.Series(dtype=float))
            for level, draws in fc.by_group[group].items():
                rows.append(
                    {
                        "group_by": group,
                        "level": str(level),
                        "booked": float(so_far.get(str(level), 0.0)),
                        **fc.quantiles(draws.to_numpy()),
                        "quantiles": np.quantile(draws.to_numpy(), LEVELS).tolist(),
                    }
                )
    forecasts = pd.DataFrame([{**common, **r} for r in rows])
    d = fc.deals
    deals = pd.DataFrame(
        {
            "as_of": snapshot.as_of.date(),
            "period": str(fc.period),
            "opportunity_id": d["opportunity_id"].astype(str),
            "stage": d["stage"].astype(str),
            "amount": d["amount"].astype(float),
            "expected_close_date": pd.to_datetime(d["expected_close_date"]).dt.date,
            "win_probability": d["win_probability"].astype(float),
            "p_book_in_period": d["p_book_in_period"].astype(float),
            "category": d["category"].astype(str),
        }
    )
    return Entry(forecasts, deals)


def record(path: str | Path, entries: list[Entry], run_id: str | None = None) -> str:
    """Append ``entries`` as one run (all or nothing) and return its run id (``run_id``: a report run's)."""
    import duckdb
    from filelock import FileLock

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    run_id = run_id or uuid.uuid4().hex[:16]
    now = datetime.now(UTC).replace(tzinfo=None)
    forecasts = pd.concat([e.forecasts for e in entries], ignore_index=True).assign(
        run_id=run_id, recorded_at=now
    )
    deals = pd.concat([e.deals for e in entries], ignore_index=True).assign(run_id=run_id)
    forecasts, deals = forecasts[list(FORECAST_COLUMNS)], deals[list(DEAL_COLUMNS)]
    with FileLock(str(path) + ".lock"), duckdb.connect(str(path)) as con:
        for name, columns in (("forecasts", FORECAST_COLUMNS), ("deals", DEAL_COLUMNS)):
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})"
            )
        con.execute("BEGIN TRANSACTION")
        con.register("new_forecasts", forecasts)
        con.register("new_deals", deals)
        con.execute("INSERT INTO forecasts SELECT * FROM new_forecasts")
        con.execute("INSERT INTO deals SELECT * FROM new_deals")
        con.execute("COMMIT")
    return run_id


def read(path: str | Path | None, table: str = "forecasts") -> pd.DataFrame:
    """A ledger table as a frame (empty, with its columns, when there is no ledger yet or ``path`` is None)."""
    import duckdb

    columns = {"forecasts": FORECAST_COLUMNS, "deals": DEAL_COLUMNS}[table]
    if path is None or not Path(path).is_file():
        return pd.DataFrame(columns=list(columns))
    order = {
        "forecasts": "recorded_at, run_id, period, slice, group_by, level",
        "deals": "as_of, run_id, period, opportunity_id",
    }[table]  # one order, whatever the engine's: a run's rows come back as they always do
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT * FROM {table} ORDER BY {order}").df()


def runs(path: str | Path | None, workspace: str | None = None, where: dict | None = None) -> pd.DataFrame:
    """One row per recorded run and period (total only, of the slice ``where``; the whole pipeline by default):
    run id, when, as-of date, period, P50, mean, booked."""
    f = read(path)
    f = f[(f["group_by"] == "total") & (f["slice"] == slice_name(where))]
    if workspace is not None:
        f = f[f["workspace"] == workspace]
    return f[
        ["run_id", "recorded_at", "source", "as_of", "period", "booked", "p10", "p50", "p90", "mean"]
    ].reset_index(drop=True)


def last_before(
    path: str | Path | None, workspace: str, period: str, as_of: str | pd.Timestamp, where: dict | None = None
) -> tuple[pd.Series, pd.DataFrame] | None:
    """The last recorded forecast of ``period`` (same workspace and slice) made as of a date before ``as_of``,
    with the deals it saw: (run row, deals frame), or None when there is none."""
    r = runs(path, workspace, where)
    r = r[(r["period"] == str(period)) & (pd.to_datetime(r["as_of"]) < pd.Timestamp(as_of))]
    if r.empty:
        return None
    last = r.sort_values(["as_of", "recorded_at"]).iloc[-1]
    deals = read(path, "deals")
    same = (deals["run_id"] == last["run_id"]) & (deals["period"] == str(period))
    return last, deals[same & (pd.to_datetime(deals["as_of"]) == pd.Timestamp(last["as_of"]))]
