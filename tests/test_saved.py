"""Saved models: the kind and the layout are checked on load, with a clear error."""

import numpy as np
import pytest

from omnimodel.exceptions import OmnimodelError
from omnimodel.saved import load_fit, save_fit


def _idata():
    import arviz as az

    return az.from_dict(posterior={"a": np.zeros((1, 5))}, sample_stats={"diverging": np.zeros((1, 5), bool)})


def test_a_saved_fit_loads_with_its_state(tmp_path):
    path = save_fit(_idata(), tmp_path / "m.nc", "clv_model", {"groups": ["a", "b"]})
    idata, state = load_fit(path, "clv_model")
    assert state["groups"] == ["a", "b"] and state["model_type"] == "clv_model"
    assert "omnimodel_version" in state
    assert not (tmp_path / "m.nc.part").exists()


def test_loading_another_kind_of_model_says_which_it_is(tmp_path):
    path = save_fit(_idata(), tmp_path / "m.nc", "pipeline_model", {})
    with pytest.raises(OmnimodelError, match="holds a saved pipeline model, not a clv model"):
        load_fit(path, "clv_model")
    from omnimodel.profile.clv import CLVModel

    with pytest.raises(OmnimodelError, match="not a clv model"):
        CLVModel.load(path)


def test_a_file_of_an_older_layout_is_refused(tmp_path):
    import json

    idata = _idata()
    idata.posterior.attrs["omnimodel_clv_model"] = json.dumps({"model_type": "clv_model", "format": 1})
    idata.to_netcdf(str(tmp_path / "old.nc"))
    with pytest.raises(OmnimodelError, match="older layout"):
        load_fit(tmp_path / "old.nc", "clv_model")


def test_a_file_that_is_no_model_at_all(tmp_path):
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(OmnimodelError, match="cannot read"):
        load_fit(tmp_path / "junk.nc", "clv_model")


def test_a_cached_computation_runs_once_per_key_and_code(tmp_path, monkeypatch):
    import json

    from omnimodel import saved, sources

    calls = []

    def compute():
        calls.append(1)
        return {"value": len(calls)}

    def save(value, path):
        path.write_text(json.dumps(value))

    def load(path):
        return json.loads(path.read_text())

    def run(key, **kw):
        return saved.cached(
            "kind", {"data": key}, compute, save, load, code="omnimodel.saved", cache_dir=tmp_path, **kw
        )

    first, again = run("a"), run("a")
    assert (first.reused, again.reused) == (False, True) and again.value == first.value == {"value": 1}
    assert run("b").value == {"value": 2}  # other data: computed
    assert run("a", refresh=True).value == {"value": 3}  # refresh: computed again and kept
    assert run("a").value == {"value": 3}
    monkeypatch.setattr(sources, "code_hash", lambda *entries: "changed code")
    assert run("a").value == {"value": 4}  # changed code never reuses a value
