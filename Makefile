# Everything a newcomer types. `make run` and `make test` set up .venv/ on a fresh machine first.
SHELL := /bin/bash
PY := .venv/bin/python
KEDRO := .venv/bin/kedro

.PHONY: run test install chromium viz viz-build jupyter dbt-docs mlflow bench lint

.venv/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	# constraints.txt: the versions this project was last tested with (regenerate: see README)
	.venv/bin/uv pip install --quiet --python $(PY) -c constraints.txt -e '.[test]'
	touch $@

install: .venv/.installed

## The whole pipeline, bootstrap to scoring, on the embedded DuckDB engine.
run: install
	$(KEDRO) run

## The test suite (fails on zero tests collected: pytest exits 5).
test: install chromium
	.venv/bin/pytest

# Headless Chromium for the kedro-viz screenshot test (Debian package; needs root or sudo).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
	  || echo "WARNING: could not install chromium; the kedro-viz screenshot test will be skipped"

viz: install
	$(KEDRO) viz run --autoreload

viz-build: install
	$(KEDRO) viz build

jupyter: install
	$(KEDRO) jupyter lab

dbt-docs: install
	cd dbt && ../.venv/bin/dbt docs generate --target duckdb && ../.venv/bin/dbt docs serve --port 8081

mlflow: install
	.venv/bin/mlflow ui --backend-store-uri sqlite:///data/06_models/mlflow.db --port 5000

bench: install
	$(PY) bench/run.py

lint: install
	.venv/bin/ruff check src tests bench
