"""Where the project is, and the environment its processes run in (one PyTensor compile cache per project)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """The project folder: ``OMNIMODEL_PROJECT`` (set for report kernels and JupyterLab), else the nearest parent
    with ``reports.yaml`` or ``pyproject.toml``, else the cwd."""
    if start is None and os.environ.get("OMNIMODEL_PROJECT"):
        return Path(os.environ["OMNIMODEL_PROJECT"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "reports.yaml").exists() or (folder / "pyproject.toml").exists():
            return folder
    return Path.cwd().resolve()


def resolve_path(path: str | os.PathLike) -> Path:
    """A workspace path as given, or relative to the project root when it does not exist from the cwd."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p.resolve()
    return (project_root() / p).resolve()


def pytensor_environment(root: Path | None = None) -> dict[str, str]:
    """Environment for kernels: the project folder (notebooks shipped in the package run elsewhere) and one
    PyTensor compile cache in it, shared by every kernel and run."""
    env = dict(os.environ)
    env.setdefault("OMNIMODEL_PROJECT", str(root or project_root()))
    flags = env.get("PYTENSOR_FLAGS", "")
    if "base_compiledir" not in flags:
        cache = (root or project_root()) / ".cache" / "pytensor"
        cache.mkdir(parents=True, exist_ok=True)
        env["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"base_compiledir={cache}") if f)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


#: the Jupyter kernel of this environment: the notebooks open on it, reports run on it
KERNEL = "omnimodel"
KERNEL_DISPLAY_NAME = "Python (omnimodel)"


def register_kernel() -> str:
    """Register this environment as the Jupyter kernel "omnimodel" (inside the environment, not the user's)."""
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL,
         "--display-name", KERNEL_DISPLAY_NAME],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return KERNEL


def project_kernel() -> str:
    """The kernel name reports and JupyterLab use: "omnimodel", registered first when it is missing or runs
    another environment's Python (a kernel from an older checkout)."""
    import sys

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        return register_kernel()
    # Compared unresolved: a venv's python is a symlink to the same interpreter as every other venv's.
    if os.path.abspath(spec.argv[0]) != os.path.abspath(sys.executable):
        return register_kernel()
    return KERNEL


@contextlib.contextmanager
def sigterm_exits() -> Iterator[None]:
    """Within the block, SIGTERM ends the process like Ctrl-C does: through its clean-up (``finally`` blocks,
    stopped workers, removed temporary files), with exit code 143. Outside the main thread it does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminated(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
