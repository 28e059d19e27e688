"""Default periods come from the data: its span, its latest complete year, the quarter after the as-of date."""

import pandas as pd
import pytest

from omnimodel import Workspace
from omnimodel.data import periods
from omnimodel.data.workspace import write_workspace
from omnimodel.exceptions import ParameterError


def _orders_until(tmp_path, first: str, last: str, meta: dict | None = None):
    days = pd.date_range(first, last, freq="7D").append(pd.DatetimeIndex([pd.Timestamp(last)]))
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(days))],
            "customer_id": "c1",
            "order_date": days,
            "channel": "Shop",
        }
    )
    return write_workspace(
        tmp_path / f"ws{first}{last}.duckdb", {"orders": orders}, meta or {"adapter": "canonical"}
    )


def test_the_latest_complete_year_is_the_datas_own(tmp_path):
    with Workspace(_orders_until(tmp_path, "2020-03-01", "2023-12-31")) as ws:
        assert periods.latest_complete_year(ws) == 2023
        assert periods.default_window(ws) == ("2023-01-01", "2023-12-31")
        assert periods.default_target_year(ws) == 2024
        assert periods.default_holdout(ws) == ("2022-12-31", "2023-12-31")
        assert periods.window(ws, "2021-01-01", None) == ("2021-01-01", "2023-12-31")
        assert periods.target_year(ws, 2022) == 2022


def test_a_year_ends_with_its_last_usual_order_day_or_where_the_ingest_says(tmp_path):
    """The trap: orders once a week, the last on 30 December. Such a year ends with the data (no order was due
    on the 31st); it used to be taken as cut short, so `omnimodel init` set targets for the year just ended. A
    year whose last order lies further from its end than the usual gap is still cut short; a data_through
    date from the ingest decides."""
    with Workspace(_orders_until(tmp_path, "2021-01-04", "2023-12-30")) as ws:
        assert periods.usual_gap_days(ws, pd.Timestamp("2023-12-30")) == 7
        assert periods.latest_complete_year(ws) == 2023 and periods.default_target_year(ws) == 2024
    with Workspace(
        _orders_until(tmp_path, "2021-01-04", "2023-12-20")
    ) as ws:  # 11 days short of a 7-day rhythm
        assert periods.latest_complete_year(ws) == 2022
    declared = _orders_until(
        tmp_path, "2021-01-05", "2023-12-30", {"adapter": "canonical", "data_through": "2023-12-30"}
    )
    with Workspace(declared) as ws:  # the export says its data stops on the 30th: the year is cut short
        assert periods.latest_complete_year(ws) == 2022
    declared = _orders_until(
        tmp_path, "2021-01-06", "2023-12-20", {"adapter": "canonical", "data_through": "2023-12-31"}
    )
    with Workspace(declared) as ws:
        assert periods.latest_complete_year(ws) == 2023


def test_a_year_the_data_starts_late_in_is_no_complete_year(tmp_path):
    # UCI Online Retail: 2010-12-01 to 2011-12-09, so 2010 holds one month and 2011 is cut short
    with Workspace(_orders_until(tmp_path, "2010-12-01", "2011-12-09")) as ws:
        assert periods.latest_complete_year(ws) is None
        assert periods.default_window(ws) == ("2010-12-10", "2011-12-09")


def test_less_than_a_year_of_data_gives_the_last_days_and_a_clear_error_for_targets(tmp_path):
    with Workspace(_orders_until(tmp_path, "2024-03-01", "2024-08-31")) as ws:
        assert periods.latest_complete_year(ws) is None
        assert periods.default_window(ws) == ("2024-03-01", "2024-08-31")
        cal, end = periods.default_holdout(ws)
        assert end == "2024-08-31" and pd.Timestamp("2024-03-01") < pd.Timestamp(cal) < pd.Timestamp(end)
        with pytest.raises(ParameterError, match="not one complete calendar year"):
            periods.default_target_year(ws)


def test_the_pipeline_forecasts_the_quarter_after_its_as_of_date():
    assert periods.next_quarter("2025-12-30") == "2026Q1"
    assert periods.next_quarter(pd.Timestamp("2017-06-30")) == "2017Q3"


def test_ingest_records_the_data_through_date(tmp_path, capsys):
    from omnimodel.cli import main

    folder = tmp_path / "exports"
    folder.mkdir()
    pd.DataFrame(
        {
            "order_id": ["a", "b"],
            "customer_id": ["1", "2"],
            "order_date": ["2022-01-03", "2023-12-29"],
            "channel": "Shop",
            "country": "DE",
        }
    ).to_csv(folder / "orders.csv", index=False)
    ws_path = tmp_path / "ws.duckdb"
    argv = ["ingest", str(folder), "--adapter", "canonical", "--workspace", str(ws_path)]
    assert main([*argv, "--data-through", "2023-12-31"]) == 0
    with Workspace(ws_path) as ws:
        assert ws.meta()["data_through"] == "2023-12-31" and periods.latest_complete_year(ws) == 2023
    assert main([*argv, "--data-through", "end of year"]) == 2
    assert "not a date" in capsys.readouterr().err


def test_a_target_year_without_a_complete_prior_year_fails_at_once_saying_what_to_change(tmp_path):
    from omnimodel.exceptions import ConfigError
    from omnimodel.targets.plan import check_year

    with Workspace(_orders_until(tmp_path, "2021-01-04", "2023-12-20")) as ws:  # 11 days short, weekly orders
        check_year(ws, 2023)  # 2022 is complete
        with pytest.raises(ConfigError) as err:
            check_year(ws, 2024)
    assert "through December 2023" in str(err.value) and "2023-12-20" in str(err.value)
    assert "set `year` to 2023" in err.value.fix and "--data-through 2023-12-31" in err.value.fix
