"""Generic CRM export (Salesforce-style Opportunity + OpportunityHistory) -> opportunities and stage events.

The column mapping lives in a YAML file the user edits (default: ``crm_export.yaml`` beside this module; a
``mapping.yaml`` in the export folder wins). Salesforce's ``CloseDate`` means the expected close date while a
deal is open and the actual close date once it is closed; the adapter splits it accordingly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from omnimodel.config import parse_yaml
from omnimodel.exceptions import ConfigError, OmnimodelError
from omnimodel.ingest.adapters import LoadedData
from omnimodel.ingest.readers import read_table_file

DEFAULT_MAPPING = Path(__file__).with_name("crm_export.yaml")
_TRUE = {"true", "1", "yes", "y", "t"}


def read_mapping(source: Path) -> tuple[dict, Path]:
    """The export's ``mapping.yaml`` (else the bundled default) and the path it was read from."""
    path = source / "mapping.yaml" if (source / "mapping.yaml").exists() else DEFAULT_MAPPING
    mapping = parse_yaml(path.read_text(), str(path))
    for key in ("files", "opportunities", "stage_history", "stages"):
        if key not in (mapping or {}):
            raise ConfigError(f"{path} lacks the section {key!r}", fix=f"start from {DEFAULT_MAPPING}")
    return mapping, path


def _rename(frame: pd.DataFrame, columns: dict, table: str, path: Path) -> pd.DataFrame:
    missing = [src for src in columns.values() if src not in frame.columns]
    if missing:
        raise OmnimodelError(
            f"the export has no column(s) {', '.join(missing)} named in the mapping",
            table=table,
            fix=(
                f"edit {path}"
                if path != DEFAULT_MAPPING
                else f"copy {path} to mapping.yaml in the export folder and edit it"
            )
            + f" (delete optional lines or name your columns); the export has "
            f"{', '.join(frame.columns)}",
        )
    return frame[list(columns.values())].set_axis(list(columns), axis=1)


def load(source: Path) -> LoadedData:
    """Read a Salesforce-style opportunity export into opportunities and stage events."""
    if source.is_file():
        source = source.parent
    mapping, mapping_path = read_mapping(source)
    quirks = [f"column mapping from {mapping_path}"]
    opp = _rename(
        read_table_file(source / mapping["files"]["opportunities"], "opportunities"),
        mapping["opportunities"],
        "opportunities",
        mapping_path,
    )
    hist = _rename(
        read_table_file(source / mapping["files"]["stage_history"], "stage_history"),
        mapping["stage_history"],
        "stage_events",
        mapping_path,
    )
    open_stages = dict(mapping["stages"])
    won, lost = set(mapping.get("won_stages", [])), set(mapping.get("lost_stages", []))
    to_canonical = {**open_stages, **{s: "won" for s in won}, **{s: "lost" for s in lost}}

    stage = opp["stage"].map(to_canonical).fillna(opp["stage"])  # unknown stages stay for validation to name
    if "is_closed" in opp and "is_won" in opp:
        closed = opp["is_closed"].str.strip().str.lower().isin(_TRUE)
        is_won = opp["is_won"].str.strip().str.lower().isin(_TRUE)
        outcome = pd.Series("open", index=opp.index).where(~closed, "lost").where(~(closed & is_won), "won")
    else:
        outcome = stage.where(stage.isin(["won", "lost"]), "open")
    # Dates stay text here: validation names the rows whose dates do not parse.
    close = opp["close_date"] if "close_date" in opp else pd.Series(pd.NA, index=opp.index, dtype="string")
    out = opp.drop(columns=[c for c in ("close_date", "is_closed", "is_won") if c in opp])
    out["stage"] = stage
    out["outcome"] = outcome
    out["expected_close_date"] = close.where(outcome == "open")
    out["closed_date"] = close.where(outcome != "open")

    hist["stage"] = hist["stage"].map(to_canonical).fillna(hist["stage"])
    order = pd.to_datetime(hist["entered_at"], errors="coerce", format="mixed")
    hist = hist.assign(_t=order).sort_values(["opportunity_id", "_t"], kind="stable").drop(columns="_t")
    repeat = hist["stage"].eq(hist.groupby("opportunity_id")["stage"].shift())
    if repeat.any():
        quirks.append(
            f"{repeat.sum():,} history rows repeat the stage before them (amount or date edits): merged"
        )
    events = hist[~repeat].reset_index(drop=True)
    origins = {
        f"{table}.{canonical}": f"{mapping['files'][key]} column {column}"
        for table, key in (("opportunities", "opportunities"), ("stage_events", "stage_history"))
        for canonical, column in mapping[key].items()
    }
    origins["opportunities.closed_date"] = origins.get("opportunities.close_date", "")
    origins["opportunities.expected_close_date"] = origins.get("opportunities.close_date", "")
    return LoadedData(
        {"opportunities": out, "stage_events": events},
        quirks,
        stages=list(open_stages.values()),
        origins={k: v for k, v in origins.items() if v},
    )
