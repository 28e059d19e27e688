"""How long the live what-if panel (notebook 05 under Voila) takes to show its first chart after a report run.

A report run leaves the plan (backtest and draws) in ``.cache/plans``; the panel with the same settings loads
it instead of refitting. The script runs notebook 05 once through the runner if asked (``--warm``), then starts
Voila on a free loopback port and opens it in Debian's Chromium (Playwright, nothing downloaded), timing from
the request to the first chart, three times. Wall and CPU seconds (the Voila server and its kernels) are shown.

    python benchmarks/whatif_panel.py [--warm] [--workspace data/demo.duckdb]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import papermill
import psutil

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(proc: psutil.Process) -> float:
    """CPU seconds of a process and its children (the kernels Voila started)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def main() -> None:
    from playwright.sync_api import sync_playwright

    from omnimodel.environment import project_kernel, pytensor_environment

    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--workspace", default="data/demo.duckdb")
    args.add_argument("--warm", action="store_true", help="run notebook 05 through the runner first")
    args.add_argument("--repeat", type=int, default=3)
    opts = args.parse_args()
    workspace = str((ROOT / opts.workspace).resolve())
    if opts.warm:
        subprocess.run(
            [sys.executable, "-m", "omnimodel.cli", "report", "--only", "05_what_if"], cwd=ROOT, check=True
        )
    folder = Path(tempfile.mkdtemp(prefix="whatif-panel-"))
    notebook = folder / "05_what_if.ipynb"
    params = {"workspace": workspace, "goals": str(ROOT / "goals.yaml")}
    papermill.execute_notebook(ROOT / "notebooks" / "05_what_if.ipynb", notebook, params, prepare_only=True,
                               progress_bar=False)  # fmt: skip
    project_kernel()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    port = _port()
    env = {**os.environ, **pytensor_environment(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}",
                               "--Voila.ip=127.0.0.1"], cwd=folder, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.3)
        proc = psutil.Process(server.pid)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            for i in range(opts.repeat):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(url) else r.abort())
                cpu, wall = _cpu(proc), time.perf_counter()
                page.goto(url, wait_until="commit", timeout=300_000)
                page.wait_for_selector(".omnimodel-whatif img", timeout=300_000)
                took, used = time.perf_counter() - wall, _cpu(proc) - cpu
                top = page.locator(".omnimodel-whatif").first.bounding_box()["y"]
                if i == 0 and os.environ.get("PANEL_SHOT"):
                    page.screenshot(path=os.environ["PANEL_SHOT"])
                print(f"open {i + 1}: first chart after {took:.1f} s wall, {used:.1f} s CPU (server and kernel); "
                      f"panel starts {top:.0f} px down")  # fmt: skip
                page.unroute_all(behavior="ignoreErrors")
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
