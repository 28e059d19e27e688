"""Parameters are checked before anything runs: unknown names and wrong types name notebook and parameter."""

from pathlib import Path

import pytest

from omnimodel.exceptions import ParameterError
from omnimodel.reporting.parameters import check_parameters, notebook_parameters, parse_assignments

NB = Path(__file__).resolve().parents[2] / "notebooks"


def test_reads_declared_parameters_with_types_and_help():
    params = notebook_parameters(NB / "03_pipeline_forecast.ipynb")
    assert params["backtest_freq"].type == "str" and params["draws"].type == "int"
    assert params["period"].type == params["region"].type == "str | None"  # None: from the data
    assert "quarter" in params["period"].help


def test_unknown_parameter_is_rejected_naming_notebook_and_parameter():
    with pytest.raises(ParameterError) as err:
        check_parameters(NB / "03_pipeline_forecast.ipynb", {"perod": "2026Q1"})
    assert "03_pipeline_forecast" in str(err.value) and "'perod'" in str(err.value)
    assert "period" in err.value.fix


@pytest.mark.parametrize("value", ["next year", "2026.5", True])
def test_wrong_type_is_rejected(value):
    with pytest.raises(ParameterError) as err:
        check_parameters(NB / "04_channel_targets.ipynb", {"year": value})
    assert "04_channel_targets" in str(err.value) and "'year'" in str(err.value) and "int" in str(err.value)


def test_text_from_the_command_line_is_converted_to_the_declared_type():
    typed = check_parameters(NB / "04_channel_targets.ipynb", {"year": "2027", "region": "none"})
    assert typed == {"year": 2027, "region": None}
    typed = check_parameters(NB / "01_customer_profile.ipynb", {"show_personal_data": "yes"})
    assert typed == {"show_personal_data": True}


def test_none_is_refused_where_the_type_does_not_allow_it():
    with pytest.raises(ParameterError):
        check_parameters(NB / "04_channel_targets.ipynb", {"draws": None})


def test_parse_assignments():
    assert parse_assignments(["period=2026Q1", "region=North=x"]) == {"period": "2026Q1", "region": "North=x"}
    with pytest.raises(ParameterError):
        parse_assignments(["period"])
