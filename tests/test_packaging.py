"""The project's own files: dependencies in step, notebooks clean, docs generated, README quickstart."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from omnimodel.reporting.parameters import notebook_parameters

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        _name(r): r.replace(" ", "")
        for r in project["dependencies"] + project["optional-dependencies"]["dev"]
    }
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_deps = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_deps = [
        d for d in env["dependencies"] if isinstance(d, str) and not re.match(r"(python|pip)([=<>]|$)", d)
    ]
    listed = {}
    for dep in pip_deps + conda_deps:
        if dep.startswith("-e"):
            continue
        listed[_name(dep)] = dep.replace(" ", "")
    assert set(listed) == set(wanted), (
        f"only in pyproject: {set(wanted) - set(listed)}; only in environment.yml: {set(listed) - set(wanted)}"
    )
    for name, spec in wanted.items():
        # conda writes `pkg>=1,<2` the same way; extras only exist on the pip side
        assert re.sub(r"\[.*?\]", "", listed[name]) == re.sub(r"\[.*?\]", "", spec), name


def test_five_notebooks_exist():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_customer_profile",
        "02_segments_regions",
        "03_pipeline_forecast",
        "04_channel_targets",
        "05_what_if",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_parameters_are_typed_and_commented(path):
    params = notebook_parameters(path)
    assert "workspace" in params
    for p in params.values():
        assert p.type and p.help, f"{path.stem}: parameter {p.name} needs a type and a comment"


#: a notebook is one call per section: the logic is in the package (omnimodel.app)
MAX_NOTEBOOK_CODE_LINES = 60
BRANCHES = (
    ast.For,
    ast.While,
    ast.If,
    ast.IfExp,
    ast.Try,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.GeneratorExp,
)


def notebook_code(path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_one_call_per_section(path):
    code = notebook_code(path)
    lines = [
        line
        for cell in code
        for line in cell.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert len(lines) <= MAX_NOTEBOOK_CODE_LINES, f"{path.stem}: {len(lines)} lines of code"
    logic = [
        type(node).__name__
        for cell in code
        for node in ast.walk(ast.parse(cell))
        if isinstance(node, BRANCHES)
    ]
    assert not logic, f"{path.stem}: loops or branches belong in the package: {logic}"


def test_the_notebook_check_can_fail(tmp_path):
    planted = tmp_path / "x.ipynb"
    planted.write_text(
        json.dumps({"cells": [{"cell_type": "code", "source": ["for x in y:\n", "    print(x)\n"]}]})
    )
    assert [
        type(n).__name__ for n in ast.walk(ast.parse(notebook_code(planted)[0])) if isinstance(n, BRANCHES)
    ] == ["For"]


def test_data_model_doc_is_generated_from_the_schema():
    from omnimodel.data.schema import data_model_markdown

    doc = (ROOT / "docs" / "data-model.md").read_text()
    assert doc.strip() == data_model_markdown().strip(), (
        "run: python -m omnimodel.data.schema > docs/data-model.md"
    )


def test_readme_quickstart_shows_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make report" in first_block and "make test" in first_block
    assert "make test" in (ROOT / ".ci" / "run").read_text()
