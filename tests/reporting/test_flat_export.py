"""The README's four commands for a flat export, read from the README and run as written, on a legacy `.xls`
built from the public column list of Tableau's "Sample - Superstore" (tests/data/shop_exports.py): the unedited
suggestion, ingest, init, report. Five reports OK, with the source's revenue per year in the workspace."""

from __future__ import annotations

import json
import re
import shlex

import duckdb
import pytest
import yaml

from omnimodel.cli import main
from omnimodel.reporting.summary import compact
from tests.conftest import ROOT
from tests.data.shop_exports import write_flat_export
from tests.reporting.report_text import reader_problems
from tests.reporting.test_own_data import SMALL

pytestmark = pytest.mark.slow


def readme_commands() -> list[str]:
    """The commands of the README's flat-export block, comments dropped, `a && b` as two."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### A flat export") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    return [part.strip() for line in lines if line for part in line.split("&&")]


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("flat")
    export = write_flat_export(tmp / "exports", ".xls")
    commands = readme_commands()
    assert len(commands) <= 5, commands
    cwd = tmp
    for command in commands:
        words = shlex.split(command)
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        assert words[0] == "omnimodel", command
        if words[1] == "report":  # the one edit, as in every report test: small sampler settings
            config = yaml.safe_load((cwd / "reports.yaml").read_text())
            config["parameters"] = SMALL
            (cwd / "reports.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(cwd)
            assert main(words[1:]) == 0, command
    return tmp, cwd, export


def test_the_readme_commands_give_five_reports(flat_run):
    _, project, _ = flat_run
    manifest = json.loads((project / "reports" / "latest" / "manifest.json").read_text())
    reports = manifest["reports"]
    assert [r["status"] for r in reports] == ["OK"] * 5, [(r["name"], r.get("error")) for r in reports]
    notes = {r["name"]: r.get("note") or "" for r in reports}
    assert notes["03_pipeline_forecast"].startswith("No pipeline data in this workspace")
    pages = {r["name"]: (project / "reports" / "latest" / r["html"]).read_text() for r in reports}
    assert "no unit costs in the data" in pages["04_channel_targets"]  # no profit stated without costs
    for name, page in pages.items():
        assert not reader_problems(page), (name, reader_problems(page))
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style).*?</\1>", "", page, flags=re.S))
        assert not re.search(r"\bnan\b|\binf\b", visible), name
    assert not [r["name"] for r in reports if r.get("removed")]


def test_the_workspace_holds_the_sources_revenue_per_year(flat_run):
    tmp, project, export = flat_run
    con = duckdb.connect(str(tmp / "shop.duckdb"), read_only=True)
    got = con.sql(
        "select year(order_date), sum(quantity * unit_price * (1 - coalesce(discount, 0))) "
        "from orders join order_lines using (order_id) group by 1 order by 1"
    ).fetchall()
    truth = export.revenue_by_year
    assert [y for y, _ in got] == list(truth.index)
    assert [v for _, v in got] == pytest.approx(list(truth), rel=1e-9)
    # 04's headline compares the target with the whole of the last year (the export ends on 30 December)
    manifest = json.loads((project / "reports" / "latest" / "manifest.json").read_text())
    targets = next(r for r in manifest["reports"] if r["name"] == "04_channel_targets")["summary"]
    assert f"on 2023 ({compact(truth[2023])})" in targets["cards"][0]["detail"]
