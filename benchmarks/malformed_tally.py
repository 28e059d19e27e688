"""Tally of the malformed-input battery: every case of tests/data/test_malformed*.py through `omnimodel validate`
and `omnimodel ingest`, counted as a clear error, a traceback or silently accepted; the odd-but-valid controls
counted as loaded or refused.

    .venv/bin/python benchmarks/malformed_tally.py

A clear error exits 1 or 2, says the text the case expects (table or file, column, rows), names a fix, shows no
traceback and writes nothing. The test suite asserts the same per case; this prints the totals for RESULTS.md.
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnimodel.cli import main  # noqa: E402
from tests.data import test_malformed as canonical  # noqa: E402
from tests.data import test_malformed_adapters as real  # noqa: E402


def _outcome(adapter: str, files: dict, expected: str | None, given: str = "") -> str:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        canonical._write(src, files)
        out.mkdir()
        said = []
        for command in (
            ["validate", str(src / given), "--adapter", adapter],
            ["ingest", str(src / given), "--adapter", adapter, "--workspace", str(out / "w.duckdb")],
        ):
            text = io.StringIO()
            with contextlib.redirect_stdout(text), contextlib.redirect_stderr(text):
                code = main(command)
            said.append((code, text.getvalue()))
        if any("Traceback" in t or c == 5 for c, t in said):
            return "traceback"
        if expected is None:  # a control
            return "loaded" if all(c == 0 for c, _ in said) else "refused"
        if any(c == 0 for c, _ in said):
            return "silently accepted"
        clear = all(c in (1, 2) and expected in t and "Fix:" in t for c, t in said) and not list(
            out.iterdir()
        )
        return "clear error" if clear else "unclear error"


def main_tally() -> Counter:
    tally: Counter = Counter()
    for _, change, expected in canonical.CASES:
        files = dict(canonical.GOOD)
        change(files)
        tally[("canonical", _outcome("canonical", files, expected))] += 1
    for _, change, _ in canonical.CONTROLS:
        files = dict(canonical.GOOD)
        change(files)
        tally[("canonical controls", _outcome("canonical", files, None))] += 1
    for adapter, _, change, expected in real.CASES:
        files = real._files(adapter)
        change(files)
        tally[(adapter, _outcome(adapter, files, expected, real.SOURCE.get(adapter, "")))] += 1
    for adapter, _, change, _ in real.CONTROLS:
        files = real._files(adapter)
        change(files)
        tally[(f"{adapter} controls", _outcome(adapter, files, None, real.SOURCE.get(adapter, "")))] += 1
    return tally


if __name__ == "__main__":
    tally = main_tally()
    groups = sorted({g for g, _ in tally})
    kinds = ["clear error", "unclear error", "traceback", "silently accepted", "loaded", "refused"]
    print("| inputs | cases | " + " | ".join(kinds) + " |")
    print("|---|---:|" + "---:|" * len(kinds))
    for g in groups:
        row = [tally[(g, k)] for k in kinds]
        print(f"| {g} | {sum(row)} | " + " | ".join(map(str, row)) + " |")
    total = [sum(tally[(g, k)] for g in groups) for k in kinds]
    print(f"| **all** | {sum(total)} | " + " | ".join(map(str, total)) + " |")
