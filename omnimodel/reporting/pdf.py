"""A PDF of each report, printed by a headless Chromium already on the machine (Debian: ``apt install
chromium``). No browser is downloaded: without one the run says so and writes the HTML only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from omnimodel.exceptions import OmnimodelError

#: where to look for the browser, first found wins (``OMNIMODEL_CHROMIUM`` names another)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
NO_BROWSER = "no PDFs: they need Chromium on this machine (Debian/Ubuntu: apt install chromium)"
TIMEOUT_S = 180


def find_browser() -> str | None:
    """The Chromium to print with, or None."""
    named = os.environ.get("OMNIMODEL_CHROMIUM")
    if named:
        return named if shutil.which(named) else None
    return next((found for b in BROWSERS if (found := shutil.which(b))), None)


def print_pdf(page: Path, out: Path, browser: str | None = None) -> Path | None:
    """Print an HTML report to PDF; None when no browser is found. The browser sees no network (its proxy is
    a closed loopback port), runs in its own process group and never outlives the call."""
    browser = browser or find_browser()
    if browser is None:
        return None
    tmp = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="omnimodel-pdf-") as profile:
        command = [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", f"--user-data-dir={profile}",
            "--no-pdf-header-footer", f"--print-to-pdf={tmp}", page.resolve().as_uri(),
        ]  # fmt: skip
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            proc.wait(timeout=TIMEOUT_S)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the renderer and GPU helpers too
            except ProcessLookupError:
                pass
            proc.wait()
    if not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise OmnimodelError(
            f"Chromium ({browser}) wrote no PDF of {page.name} (exit code {proc.returncode})",
            fix="check that the browser starts headless; OMNIMODEL_CHROMIUM names another one",
        )
    tmp.replace(out)
    return out
