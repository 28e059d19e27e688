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


def _cell(kind: str, source: str, tags: list[str], outputs: list | None = None):
    cell = nbformat.v4.new_markdown_cell(source) if kind == "md" else nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = tags
    if outputs is not None:
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_a_report_stopped_in_its_first_cell_says_so_under_the_title_not_in_the_appendix():
    """The trap: the cell that opens the workspace sits under "Data used" in the appendix; a workspace without
    customers stops it, and the one line must not read as an appendix note."""
    from omnimodel.reporting.execute import report_note
    from omnimodel.reporting.html import appendix_last

    stop = {
        "output_type": "error",
        "ename": "ReportStopped",
        "evalue": "No customers in this workspace",
        "traceback": [],
    }
    nb = nbformat.v4.new_notebook(
        cells=[
            _cell("md", "# Customer profile", []),
            _cell("md", "## Data used", ["appendix"]),
            _cell("code", "review = CustomerReview(workspace)", ["appendix"], [stop]),
            _cell("md", "## Channel mix", []),
            _cell("code", "show.channel_mix(review)", []),
        ]
    )
    assert report_note(nb) == "No customers in this workspace"
    assert [c.source[:20] for c in nb.cells] == ["# Customer profile", "review = CustomerRev"]
    assert appendix_last(nb) == 0  # nothing left for an appendix
    assert "No customers in this workspace" in nb.cells[1].outputs[0]["data"]["text/html"]
