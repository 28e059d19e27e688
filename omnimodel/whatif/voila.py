"""Serving the what-if panel (notebook 05) as a dashboard without code: Voila on 127.0.0.1 with the project's
kernel and omnimodel's own template, which keeps every request on the serving host."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: the folder holding ``voila/templates/omnimodel`` (a Jupyter data directory of its own)
TEMPLATES = Path(__file__).resolve().parent / "jupyter"


def voila_command(notebook: Path | str, port: int, browser: bool = True) -> list[str]:
    """The Voila command line serving ``notebook`` on 127.0.0.1:``port`` with the offline template."""
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--Voila.ip=127.0.0.1",
           "--template=omnimodel"]  # fmt: skip
    return cmd if browser else [*cmd, "--no-browser"]


def voila_environment(base: dict[str, str]) -> dict[str, str]:
    """``base`` with the template's folder first on JUPYTER_PATH, where Voila looks templates up."""
    paths = [str(TEMPLATES), *filter(None, base.get("JUPYTER_PATH", "").split(os.pathsep))]
    return {**base, "JUPYTER_PATH": os.pathsep.join(paths)}
