"""`omnimodel lab` starts JupyterLab on loopback with the omnimodel kernel registered."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_serves_on_loopback_with_the_named_kernel(tmp_path):
    port = _free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omnimodel.cli",
            "lab",
            "--port",
            str(port),
            "--no-browser",
            "--",
            "--IdentityProvider.token=omnitest",
            "--ServerApp.open_browser=False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        specs = None
        for _ in range(120):
            time.sleep(0.5)
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/kernelspecs", headers={"Authorization": "token omnitest"}
                )
                specs = json.load(urllib.request.urlopen(req, timeout=5))
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert specs is not None, "JupyterLab did not answer within 60 s"
        assert "omnimodel" in specs["kernelspecs"]
        assert specs["kernelspecs"]["omnimodel"]["spec"]["display_name"] == "Python (omnimodel)"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
