"""Run one notebook: papermill execution, then the code-free HTML. Used as a worker process by the runner.

``python -m omnimodel.reporting.execute JOB.json`` reads a job (notebook, output folder, name, parameters),
writes ``NAME.ipynb`` and ``NAME.html`` there, and prints one JSON line with the status. A separate process per
notebook gives real parallelism for the CPU-bound HTML export and lets Ctrl-C stop everything cleanly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omnimodel import exceptions
from omnimodel.environment import KERNEL, sigterm_exits
from omnimodel.exceptions import explain, explain_named
from omnimodel.notice import ReportStopped

if TYPE_CHECKING:
    from nbformat import NotebookNode

#: omnimodel's own errors: their text already says what is wrong and how to fix it
_OWN_ERRORS = {
    n for n, v in vars(exceptions).items() if isinstance(v, type) and issubclass(v, exceptions.OmnimodelError)
}


#: seconds a kernel may take to answer its first request (papermill's default of 60 s was seen to pass on two busy
#: cores running four kernels)
START_TIMEOUT = 180


def _never_started(exc: Exception) -> bool:
    """A kernel that died before it answered its first request ran none of the notebook: starting it again is
    safe (seen once in a test run while other processes took ports and cores), as is one that did not answer
    within :data:`START_TIMEOUT` on a machine busy with other reports."""
    said = str(exc)
    return isinstance(exc, RuntimeError) and (
        "before replying to kernel_info" in said
        or "Kernel didn't respond in" in said  # slow start, no cell run
    )


def run_notebook(notebook: Path, out_dir: Path, name: str, parameters: dict, cwd: Path | None = None) -> dict:
    """Execute and export one notebook; never raises for a notebook error, returns it in the result."""
    import papermill as pm

    from omnimodel.reporting.html import notebook_to_html

    started = time.time()
    ipynb = out_dir / f"{name}.ipynb"
    html = out_dir / f"{name}.html"
    result: dict[str, Any] = {
        "name": name,
        "status": "OK",
        "error": None,
        "ipynb": ipynb.name,
        "html": html.name,
    }
    for attempt in (1, 2):
        try:
            pm.execute_notebook(
                str(notebook),
                str(ipynb),
                parameters=parameters,
                kernel_name=os.environ.get("OMNIMODEL_KERNEL", KERNEL),
                cwd=str(cwd or notebook.parent),
                progress_bar=False,
                start_timeout=START_TIMEOUT,
                log_output=False,
                report_mode=False,
            )
        except pm.PapermillExecutionError as exc:
            if exc.ename == ReportStopped.__name__ and _tidy_stopped(ipynb, result):
                pass  # the report says in one line which data it lacks; it is still a good report
            else:
                result.update(status="FAILED", error=_said(exc.ename, exc.evalue, name))
                print(str(exc), file=sys.stderr)  # the traceback, for the log only
        except Exception as exc:  # kernel died, notebook unreadable, disk full, ...
            if attempt == 1 and _never_started(exc):
                print(f"{name}: the kernel did not start ({exc}); starting it again", file=sys.stderr)
                continue
            result.update(status="FAILED", error=explain(exc)[0])
            traceback.print_exc(file=sys.stderr)
        break
    if ipynb.exists() and result["status"] == "OK":
        result["summary"] = _summary(ipynb)
        result["ledger"] = _ledger_entries(ipynb)
    if ipynb.exists():
        try:
            removed = notebook_to_html(ipynb, html, title=name, error=result["error"])
            if removed:  # said in the log and the manifest; the tests fail on any
                result["removed"] = [str(f) for f in removed]
                print(f"{name}: removed from the page: " + "; ".join(result["removed"]), file=sys.stderr)
        except Exception as exc:
            said = f"HTML export: {explain(exc)[0]}"
            result.update(status="FAILED", error=f"{result['error']} | {said}" if result["error"] else said)
    if html.exists():
        result.update(_pdf(html))
    else:
        result["html"] = None
    if not ipynb.exists():
        result["ipynb"] = None
    result["duration_s"] = round(time.time() - started, 2)
    return result


def _pdf(html: Path) -> dict[str, Any]:
    """The report's PDF, or a note why there is none (a missing PDF never fails the report)."""
    from omnimodel.reporting.pdf import NO_BROWSER, print_pdf

    try:
        pdf = print_pdf(html, html.with_suffix(".pdf"))
    except (OSError, exceptions.OmnimodelError, subprocess.TimeoutExpired) as exc:
        return {"pdf": None, "pdf_note": f"no PDF: {explain(exc)[0]}"}
    return {"pdf": pdf.name} if pdf else {"pdf": None, "pdf_note": NO_BROWSER}


def _summary(ipynb: Path) -> dict | None:
    """The summary cards the notebook displayed, as data for the index and the deck."""
    import nbformat

    from omnimodel.reporting.summary import from_notebook

    found = from_notebook(nbformat.read(ipynb, as_version=4))
    return found.to_dict() if found else None


def _ledger_entries(ipynb: Path) -> list[dict]:
    """The forecasts the notebook displayed for the forecast ledger (the runner records them once the whole
    run succeeded)."""
    import nbformat

    from omnimodel.funnel.ledger import MIME

    nb = nbformat.read(ipynb, as_version=4)
    return [o["data"][MIME] for c in nb.cells for o in c.get("outputs", []) if MIME in o.get("data", {})]


def _said(ename: str, evalue: str, name: str) -> str:
    """A notebook's error for the index and the console: omnimodel's own as it is (it names the fix), any
    other as one line with what to do, as the CLI says it."""
    if ename in _OWN_ERRORS:
        return f"{ename}: {evalue}"[:2000]
    message, kind = explain_named(ename, evalue)
    return (
        message.replace("run again with --debug for", f"{name}.ipynb in the run folder shows")
        if kind == "internal"
        else message
    )


def report_note(nb: NotebookNode) -> str | None:
    """Turn an executed notebook that stopped with :class:`ReportStopped` into a clean report: papermill's
    error banners and the sections after the stop go, the stopping cell shows the message as one line.
    Returns the message (None if the notebook did not stop that way)."""
    from nbformat import from_dict

    note = None
    keep = []
    for cell in nb.cells:
        if note is not None:
            break  # the sections after the stop have nothing to show: they go, headings included
        if "papermill-error-cell-tag" in cell.get("metadata", {}).get("tags", []):
            continue  # papermill's red "An Exception was encountered" banners
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == ReportStopped.__name__:
                note = str(output.get("evalue", ""))
                text = escape(note)
                line = {"text/html": f'<p class="omnimodel-skipped"><b>{text}</b></p>', "text/plain": note}
                cell["outputs"] = [from_dict({"output_type": "display_data", "metadata": {}, "data": line})]
                break
        keep.append(cell)
    if note is not None:
        tags = keep[-1].get("metadata", {}).get("tags", [])
        if "appendix" in tags:  # stopped at once (no customers, no orders): the line goes under the title,
            tags.remove("appendix")  # not into the appendix, and the heading above it goes
            while (
                len(keep) > 1
                and keep[-2].cell_type == "markdown"
                and "appendix" in keep[-2].metadata.get("tags", [])
            ):
                del keep[-2]
        nb.cells = keep
    return note


def _tidy_stopped(ipynb: Path, result: dict[str, Any]) -> bool:
    """A notebook stopped for want of data: keep it OK, with the note, and clean its error cells."""
    import nbformat

    if not ipynb.exists():
        return False
    nb = nbformat.read(ipynb, as_version=4)
    note = report_note(nb)
    if note is None:
        return False
    nbformat.write(nb, ipynb)
    result["note"] = note
    return True


def _die_with_parent() -> None:
    """A worker never outlives its run: on Linux the kernel sends it SIGTERM when the runner dies (even by
    SIGKILL), and SIGTERM ends it through Python's clean-up, which shuts its notebook kernel down."""
    import signal

    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the runner died before the line above
            sys.exit(143)


def main(argv: list[str] | None = None) -> int:
    """Run one notebook into its report (the worker behind each report of a run); returns the exit code."""
    with sigterm_exits():
        return _work(argv)


def _work(argv: list[str] | None) -> int:
    _die_with_parent()
    job = json.loads(Path((argv or sys.argv[1:])[0]).read_text())
    result = run_notebook(
        Path(job["notebook"]),
        Path(job["out_dir"]),
        job["name"],
        job["parameters"],
        Path(job["cwd"]) if job.get("cwd") else None,
    )
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
