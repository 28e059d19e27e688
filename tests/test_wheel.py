"""The package is self-contained: its built wheel, installed apart from the checkout, runs `omnimodel init`,
`omnimodel demo` and `omnimodel report` in an empty folder (notebooks and templates are package data)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
CLI = "import sys; from omnimodel.cli import main; sys.exit(main())"


def _omnimodel(args: list[str], cwd: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}  # the suite's PyTensor cache: compiles are not under test
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout's sources (offline: the build backend is in the dev environment),
    installed into a folder of its own; the dependencies are the environment's. Built from a copy of the package
    and its project files: a checkout's stale build/ folder (modules since moved) must not reach the wheel."""
    import shutil

    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT / "omnimodel", source / "omnimodel", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(tmp),
        str(source),
    ]
    subprocess.run(build, check=True, capture_output=True, cwd=source)
    wheel = next(tmp.glob("omnimodel-*.whl"))
    site = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    return wheel, site


def test_the_wheel_holds_the_notebooks_templates_and_configs(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"omnimodel/notebooks/{nb.name}" in names
    for path in (
        "templates/goals.yaml",
        "py.typed",
        "funnel/definitions/demo.yaml",
        "ingest/adapters/crm_export.yaml",
        "whatif/jupyter/voila/templates/omnimodel/index.html.j2",  # the offline live panel's page
        "whatif/jupyter/voila/templates/omnimodel/conf.json",
    ):
        assert f"omnimodel/{path}" in names, path


def test_init_demo_and_report_run_in_an_empty_folder(installed, tmp_path):
    _, site = installed
    where = _omnimodel(["--help"], tmp_path, site)
    assert where.returncode == 0, where.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "import omnimodel; print(omnimodel.__file__)"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert probe.stdout.startswith(str(site)), probe.stdout  # the installed copy, not the checkout
    out = _omnimodel(["init", "acme"], tmp_path, site)
    assert out.returncode == 0, out.stderr
    project = tmp_path / "acme"
    assert {p.name for p in project.iterdir()} >= {"reports.yaml", "goals.yaml", "notebooks"}
    out = _omnimodel(["demo", "--size", "small", "--workspace", "data/demo.duckdb"], project, site)
    assert out.returncode == 0, out.stderr
    small = ["--param", "draws=200", "--param", "clv_draws=150", "--param", "backtest_snapshots=1"]
    small += ["--param", "choose_origins=1", "--param", "score_origins=2"]
    out = _omnimodel(["report", "--jobs", "2", *small], project, site)
    assert out.returncode == 0, out.stdout + out.stderr
    assert (project / "reports" / "latest" / "index.html").exists()
    assert not (project.parent / "reports").exists()  # everything stays in the project
