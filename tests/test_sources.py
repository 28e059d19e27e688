"""The code a cached fit is keyed by: the modules it runs, followed through the package's imports."""

from omnimodel import sources


def test_a_fit_runs_the_modules_it_imports_and_no_others():
    used = sources.used_modules("omnimodel.funnel.fits")
    for module in ("model", "advance", "timing", "arrivals", "calibration", "forecast", "snapshot"):
        assert f"omnimodel.funnel.{module}" in used
    assert {"omnimodel.laplace", "omnimodel.saved", "omnimodel.diagnostics", "omnimodel.data.periods"} <= set(
        used
    )
    assert not [m for m in used if m.startswith(("omnimodel.reporting", "omnimodel.charts", "omnimodel.cli"))]
    assert "omnimodel.funnel.ledger" not in used  # the ledger reads fits, not the other way round


def test_a_lazily_exported_name_counts_as_its_module():
    graph = sources.import_graph()
    # omnimodel.data.periods is imported as `from omnimodel.data import periods`, the workspace lazily
    assert "omnimodel.data.workspace" in sources.used_modules("omnimodel.funnel.snapshot")
    assert all(target in graph for targets in graph.values() for target in targets)


def test_the_hash_changes_with_the_code_a_fit_runs_only(tmp_path, monkeypatch):
    before = sources.code_hash("omnimodel.funnel.fits")
    assert before == sources.code_hash("omnimodel.funnel.fits")  # the same code, the same hash
    files = sources.module_files()

    def changed(name):
        copy = tmp_path / f"{name}.py"
        copy.write_bytes(files[name].read_bytes() + b"\n# changed\n")
        monkeypatch.setattr(sources, "module_files", lambda: {**files, name: copy})
        return sources.code_hash("omnimodel.funnel.fits")

    assert changed("omnimodel.funnel.timing") != before  # a module the fit runs
    assert changed("omnimodel.reporting.html") == before  # a module it never runs
