"""End to end in a real browser: Voila serves notebook 05 on 127.0.0.1, headless Chromium (the Debian package,
driven by Playwright) drags the growth-goal slider, and the panel's chart and headline change.

Skipped when no Chromium is installed, except under ``OMNIMODEL_REQUIRE_BROWSER=1`` (set by ``.ci/run``, which
installs Debian's chromium); Playwright never downloads a browser.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import papermill
import pytest

from omnimodel.environment import project_kernel, pytensor_environment
from omnimodel.whatif.voila import voila_command, voila_environment

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
MISSING = CHROMIUM is None and not os.environ.get("OMNIMODEL_REQUIRE_BROWSER")  # CI requires the browser
pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING, reason="Debian chromium is not installed")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila(tmp_path_factory, demo_workspace):
    """Notebook 05 with test parameters injected (as papermill does), served by Voila on a free local port."""
    folder = tmp_path_factory.mktemp("voila")
    notebook = folder / "05_what_if.ipynb"
    params = {
        "workspace": str(demo_workspace),
        "goals": str(ROOT / "goals.yaml"),
        "draws": 200,
        "choose_origins": 1,
        "score_origins": 1,
    }
    papermill.execute_notebook(
        ROOT / "notebooks" / "05_what_if.ipynb", notebook, params, prepare_only=True, progress_bar=False
    )
    project_kernel()  # the notebook declares the project's kernel; Voila starts that one
    port = _free_port()
    log = (folder / "voila.log").open("w")
    env = voila_environment({**pytensor_environment(), "PYTHONPATH": str(ROOT)})
    server = subprocess.Popen(  # as `omnimodel panel` serves it
        [*voila_command(notebook, port, browser=False), "--show_tracebacks=True"],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.5)
    yield url, folder / "voila.log"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def test_dragging_a_slider_changes_the_shown_figure(voila):
    from playwright.sync_api import sync_playwright

    url, log = voila
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        # Nothing leaves the machine: every request not to the local server is refused, and recorded.
        elsewhere: list[str] = []

        def local_only(route):
            if route.request.url.startswith(url) or route.request.url.startswith("data:"):
                return route.continue_()
            elsewhere.append(route.request.url)
            return route.abort()

        page.route("**/*", local_only)
        # Voila runs the whole notebook while the page loads: wait for the panel, not for the load event.
        page.goto(url, wait_until="commit", timeout=120_000)
        try:
            page.wait_for_selector(".omnimodel-whatif img", timeout=300_000)
        except Exception:
            pytest.fail(f"the panel never showed; Voila log:\n{log.read_text()[-3000:]}")
        image = page.locator(".omnimodel-whatif img").first
        headline = page.locator(".omnimodel-whatif .widget-html").first
        before_src, before_text = image.get_attribute("src"), headline.inner_text()
        assert "P(hit)" in before_text

        slider = page.locator(".widget-slider", has_text="growth goal").first
        handle = slider.locator(".noUi-handle").first
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()

        deadline = time.time() + 30
        while time.time() < deadline and image.get_attribute("src") == before_src:
            time.sleep(0.2)
        after_src, after_text = image.get_attribute("src"), headline.inner_text()
        readout = slider.locator(".widget-readout").inner_text()
        page.unroute_all(behavior="ignoreErrors")  # no route callback may race the closing browser
        browser.close()
    assert not elsewhere, f"the panel asked other hosts: {elsewhere}"  # fonts, icons, MathJax all local
    assert readout != "0.0%", "the slider did not move"
    assert after_src != before_src, "the chart did not change after the slider moved"
    # A higher growth goal raises the company target shown in the headline.
    target = lambda text: float(text.split("target ")[1].split(":")[0].replace(",", ""))  # noqa: E731
    assert target(after_text) > target(before_text)
