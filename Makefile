# Entry points. `make demo` and `make test` install everything they need first.
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install system-deps demo test test-unit lint up down bench bench-dag clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv>=0.9"
	$(UV) sync --frozen --all-extras
	@touch $@

# Debian packages the tests start for real (PostgreSQL, Redis, Pushgateway, Chromium).
system-deps:
	@bash scripts/system-deps.sh

demo: install  ## run the whole pipeline on the NOAA rainfall data (real Airflow + MLflow)
	$(BIN)/retrainer demo

test: install system-deps  ## all tests: unit, integration (MLflow, dag.test, moto S3), e2e (real scheduler)
	$(BIN)/python -m pytest tests --durations=20

test-unit: install
	$(BIN)/python -m pytest tests/unit

lint: install
	$(BIN)/ruff check src tests dags plugins benchmarks
	$(BIN)/ruff format --check src tests dags plugins benchmarks
	$(BIN)/mypy
	cd src && ../$(BIN)/lint-imports ../pyproject.toml --no-logo

up: install  ## Airflow UI on :8080 (admin/admin) and MLflow UI on :5000 over the local state
	$(BIN)/retrainer up

down:
	$(BIN)/retrainer down

bench: install
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/validation.py
	$(BIN)/python benchmarks/reference_build.py

bench-dag: install  ## per-task latency of the DAG runs on the embedded stack, against a warm floor
	$(BIN)/python benchmarks/dag_latency.py --out dag_latency.json

clean: down
	rm -rf .retrainer
