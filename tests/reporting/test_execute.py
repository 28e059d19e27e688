"""Running one notebook: a kernel that died before it started is started once more; one that died while
running is not (the notebook may have done part of its work)."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from omnimodel.reporting.execute import run_notebook


@pytest.fixture()
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A report")])
    path = tmp_path / "report.ipynb"
    nbformat.write(nb, path)
    return path


def _papermill_that_fails(monkeypatch, errors: list[Exception]):
    calls = []

    def execute(source, target, **kwargs):
        calls.append(source)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        nbformat.write(nbformat.read(source, as_version=4), target)  # what a good run leaves

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def test_a_kernel_that_never_started_is_started_again(monkeypatch, notebook, tmp_path):
    calls = _papermill_that_fails(monkeypatch, [RuntimeError("Kernel died before replying to kernel_info")])
    result = run_notebook(notebook, tmp_path, "report", {})
    assert len(calls) == 2 and result["status"] == "OK", result


def test_twice_or_a_kernel_that_died_while_running_is_a_failure(monkeypatch, notebook, tmp_path):
    never = RuntimeError("Kernel died before replying to kernel_info")
    calls = _papermill_that_fails(monkeypatch, [never, never])
    assert run_notebook(notebook, tmp_path, "report", {})["status"] == "FAILED" and len(calls) == 2
    calls = _papermill_that_fails(monkeypatch, [RuntimeError("Kernel died")])
    assert run_notebook(notebook, tmp_path, "report", {})["status"] == "FAILED" and len(calls) == 1
