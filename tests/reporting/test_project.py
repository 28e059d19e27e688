"""`omnimodel init`: a project folder filled from the workspace's own names, never overwriting anything."""

import pytest
import yaml

from omnimodel.cli import main
from omnimodel.exceptions import ConfigError
from omnimodel.funnel.definition import load_funnel
from omnimodel.reporting.project import NOTEBOOKS, init_project
from omnimodel.reporting.suite import load_report_suite
from omnimodel.targets.goals import load_strategy_goals


@pytest.fixture
def client_workspace(tmp_path, demo_small):
    tables, _ = demo_small
    exports = tmp_path / "exports"
    exports.mkdir()
    for name, frame in tables.items():
        frame = frame.copy()
        for column in ("channel", "acquisition_channel", "source_channel"):
            if column in frame:
                frame[column] = frame[column].replace({"stores": "Filiale: Mitte", "webshop": "Online-Shop"})
        frame.to_csv(exports / f"{name}.csv", index=False)
    (exports / "funnel.yaml").write_text("name: Acme B2B\nstages: [lead, qualified, proposal, negotiation]\n")
    assert (
        main(["ingest", str(exports), "--adapter", "canonical", "--workspace", str(tmp_path / "acme.duckdb")])
        == 0
    )
    return tmp_path / "acme.duckdb"


def test_init_fills_the_templates_from_the_workspace(tmp_path, client_workspace):
    written = init_project(tmp_path / "acme", client_workspace)
    assert {p.name for p in written} == {"reports.yaml", "goals.yaml", "funnel.yaml", "notebooks"}
    goals = load_strategy_goals(tmp_path / "acme" / "goals.yaml")
    assert goals.year == 2026  # the year after the data's latest complete year
    assert (
        "Filiale: Mitte" in goals.channel_cost and "Online-Shop" in goals.channel_cost
    )  # quoted, kept as is
    assert set(goals.growth) >= {"default", "Central", "North", "West"}
    assert goals.pipeline == "added"
    assert load_funnel(tmp_path / "acme" / "funnel.yaml").name == "Acme B2B"
    suite = load_report_suite(tmp_path / "acme" / "reports.yaml")
    assert suite.workspace == client_workspace.resolve() and suite.demo is None
    assert suite.notebooks_dir == (tmp_path / "acme" / "notebooks").resolve()
    assert sorted(p.name for p in suite.notebooks_dir.glob("*.ipynb")) == sorted(
        p.name for p in NOTEBOOKS.glob("*.ipynb")
    )
    assert [r.notebook for r in suite.runs][-1] == "05_what_if"


def test_init_never_overwrites(tmp_path, client_workspace, capsys):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "goals.yaml").write_text("mine")
    with pytest.raises(ConfigError, match="already has goals.yaml"):
        init_project(tmp_path / "acme", client_workspace)
    assert (tmp_path / "acme" / "goals.yaml").read_text() == "mine" and not (
        tmp_path / "acme" / "reports.yaml"
    ).exists()
    assert main(["init", str(tmp_path / "acme"), "--workspace", str(client_workspace)]) == 2
    assert "nothing was written" in capsys.readouterr().err


def test_the_demo_project_and_a_config_without_notebooks_use_the_shipped_ones(tmp_path):
    init_project(tmp_path / "demo")
    raw = yaml.safe_load((tmp_path / "demo" / "reports.yaml").read_text())
    assert raw["demo"]["size"] == "default" and raw["workspace"] == "data/demo.duckdb"
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "reports.yaml").write_text("workspace: w.duckdb\nnotebooks: [01_customer_profile]\n")
    assert load_report_suite(bare / "reports.yaml").notebooks_dir == NOTEBOOKS


def test_shared_parameters_go_only_to_the_notebooks_that_declare_them(tmp_path):
    from omnimodel.reporting.runner import plan_runs

    config = tmp_path / "reports.yaml"
    config.write_text(
        "workspace: w.duckdb\nparameters: {draws: 200, clv_draws: 100}\n"
        "notebooks: [01_customer_profile, 02_segments_regions, {notebook: 03_pipeline_forecast, parameters: {draws: 50}}]\n"
    )
    planned = {run.notebook: values for run, _, values in plan_runs(load_report_suite(config), None, {})}
    assert "draws" not in planned["01_customer_profile"]  # 01 has no pipeline model
    assert planned["01_customer_profile"]["clv_draws"] == planned["02_segments_regions"]["clv_draws"] == 100
    assert planned["03_pipeline_forecast"]["draws"] == 50  # the notebook's own entry wins


def test_report_list_names_a_missing_notebook(tmp_path, capsys):
    config = tmp_path / "reports.yaml"
    config.write_text("workspace: w.duckdb\nnotebooks: [01_customer_profile, 09_no_such_notebook]\n")
    assert main(["report", "--list", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "09_no_such_notebook.ipynb not found" in err and "Traceback" not in err


@pytest.mark.parametrize("name", ["../../etc/passwd", "sub/report", ".hidden", ""])
def test_a_report_name_that_is_not_a_plain_file_name_is_refused(tmp_path, capsys, name):
    config = tmp_path / "reports.yaml"
    config.write_text(
        f"workspace: w.duckdb\nnotebooks: [{{notebook: 01_customer_profile, name: '{name}'}}]\n"
    )
    assert main(["report", "--list", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "is not a plain file name" in err and "Fix:" in err and "Traceback" not in err


def test_init_in_this_folder_points_the_notebooks_at_the_projects_data(
    tmp_path, client_workspace, monkeypatch, capsys
):
    """`omnimodel init` with no folder works in the one it runs in (the README's promise), and its notebooks,
    opened in JupyterLab or served as the live panel (both run a notebook with its defaults), read the
    project's workspace, not the demo's."""
    import nbformat

    from omnimodel.environment import resolve_path

    project = tmp_path / "acme"
    project.mkdir()
    (project / "data").mkdir()
    (project / "data" / "acme.duckdb").write_bytes(client_workspace.read_bytes())
    monkeypatch.chdir(project)
    assert main(["init", "--workspace", "data/acme.duckdb"]) == 0
    out = capsys.readouterr().out
    assert "into this folder" in out and "funnel.yaml (your stages in order)" in out
    for path in sorted((project / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        assert 'workspace: str | dict = "data/acme.duckdb"' in params.source, path.name
        assert "demo.duckdb" not in params.source
    monkeypatch.chdir(project / "notebooks")  # where JupyterLab runs a notebook
    assert resolve_path("data/acme.duckdb") == (project / "data" / "acme.duckdb").resolve()


def test_init_says_which_periods_it_chose_and_why(tmp_path, client_workspace, capsys):
    assert main(["init", str(tmp_path / "acme"), "--workspace", str(client_workspace)]) == 0
    out = capsys.readouterr().out
    assert "2025 is the latest complete year (its orders run to 31 December); targets are set for 2026" in out
    assert "The pipeline report takes the CRM as of 2025-12-" in out and "forecasts 2026Q1." in out


def test_init_counts_a_year_whose_orders_end_on_30_december_complete_and_says_so(tmp_path, capsys):
    from tests.data.shop_exports import suggest_and_ingest, write_flat_export

    write_flat_export(tmp_path / "exports", ".xlsx")
    workspace = tmp_path / "shop.duckdb"
    suggest_and_ingest(tmp_path / "exports", workspace)
    capsys.readouterr()
    assert main(["init", str(tmp_path / "shop"), "--workspace", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert (
        "to 2023-12-30: 2023 is the latest complete year (its last order day is within the data's usual gap"
        in out
    )
    assert "targets are set for 2024" in out and "funnel.yaml" not in out
    assert load_strategy_goals(tmp_path / "shop" / "goals.yaml").year == 2024
