"""A full disk and a read-only folder, for real: a small tmpfs (mounted where the machine allows it, as root in
CI; otherwise skipped, the simulated errors of test_cli_errors.py still run). ``demo``, ``ingest`` and ``report``
each end in one line with the fix and the system exit code, leave nothing half-written, and keep what was there.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from omnimodel.cli import EXIT_CODES, main

ROOT = Path(__file__).resolve().parents[1]


def _mount(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.fixture(params=["full", "read-only"])
def disk(request, tmp_path):
    """A folder on a 256 KB tmpfs holding one earlier file: full (the file fills most of it) or read-only."""
    where = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    if not _mount(where, "size=256k"):
        pytest.skip("cannot mount a tmpfs here (needs root); the simulated disk errors are tested instead")
    (where / "earlier.txt").write_bytes(b"x" * 200_000)
    if request.param == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
    yield request.param, where
    subprocess.run(["umount", "-l", str(where)], check=False)


def _state(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}  # fmt: skip


def _one_line_error(capsys, kind: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "Fix:" in err and len(err.splitlines()) == 1, err
    assert ("no space left on the disk" if kind == "full" else "not allowed to write") in err, err
    return err


def test_demo_on_a_full_or_read_only_disk(disk, capsys):
    kind, where = disk
    before = _state(where)
    assert (
        main(["demo", "--size", "small", "--workspace", str(where / "demo.duckdb")]) == EXIT_CODES["system"]
    )
    _one_line_error(capsys, kind)
    assert _state(where) == before, "nothing half-written, the earlier file untouched"


def test_ingest_on_a_full_or_read_only_disk(disk, capsys, tmp_path):
    from tests.data.test_malformed import GOOD, _write

    kind, where = disk
    _write(tmp_path / "src", dict(GOOD))
    before = _state(where)
    code = main(
        ["ingest", str(tmp_path / "src"), "--adapter", "canonical", "--workspace", str(where / "w.duckdb")]
    )
    assert code == EXIT_CODES["system"]
    _one_line_error(capsys, kind)
    assert _state(where) == before


@pytest.mark.slow
def test_report_on_a_full_or_read_only_disk(disk, capsys, tmp_path, demo_workspace):
    kind, where = disk
    config = tmp_path / "reports.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "workspace": str(demo_workspace),
                "notebooks_dir": str(ROOT / "omnimodel" / "notebooks"),
                "output": str(where / "reports"),
                "notebooks": ["01_customer_profile"],
            }
        )
    )
    before = _state(where)
    assert main(["report", "--config", str(config)]) == EXIT_CODES["system"]
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert "Traceback" not in captured.out + captured.err and "Fix:" in last
    assert ("no space left on the disk" if kind == "full" else "not allowed to write") in last, last
    assert _state(where) == before, "the run folder goes; the earlier file stays"
    assert not list(where.glob("reports/.*partial")) and not (where / "reports" / "latest").exists()
