# Two commands on a machine with only python3:  make report  |  make test
# Both create .venv on first use and reinstall only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One PyTensor compile cache in the project, shared by every kernel, test process and run.
export PYTENSOR_FLAGS ?= base_compiledir=$(CURDIR)/.cache/pytensor
# Plugins other packages register cost ~8 s per pytest process; the ones we use are named below.
export PYTEST_DISABLE_PLUGIN_AUTOLOAD = 1
# Spark (engine-parity tests) binds to loopback only.
export SPARK_LOCAL_IP = 127.0.0.1
# Work runs in parallel processes (pytest workers, report jobs), each on small matrices: OpenBLAS's own threads
# only spin and steal the other process's core (an ETS backtest ran 3.5x slower beside another worker).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
JOBS ?= 2
PYTEST_ARGS ?=

.PHONY: report test test-fast lab whatif lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

report: $(VENV)/.installed
	$(BIN)/omnimodel report --jobs $(JOBS)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -p xdist.plugin -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

# The unit tests only: no model sampling, notebook runs, Spark or browser (tests marked slow are left out).
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -p xdist.plugin -n $(JOBS) --dist loadfile -m "not slow" $(PYTEST_ARGS)

lab: $(VENV)/.installed
	$(BIN)/omnimodel lab

# The what-if panel (notebook 05) as a dashboard without code, on http://127.0.0.1:8866
whatif: $(VENV)/.installed
	$(BIN)/omnimodel panel --port 8866

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check omnimodel tests benchmarks
	$(BIN)/ruff format --check omnimodel tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf reports/2* reports/.2* reports/latest .cache .pytest_cache .ruff_cache build *.egg-info
	rm -f data/*.duckdb data/*.duckdb.wal data/*.truth.json data/*.rejected.csv
