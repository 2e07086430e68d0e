# Everything a newcomer types. `make run` and `make test` set up .venv/ on a fresh machine first.
SHELL := /bin/bash
PY := .venv/bin/python
KEDRO := .venv/bin/kedro

.PHONY: run test install chromium viz viz-build jupyter dbt-docs mlflow bench lint snowflake-emulated snowflake-smoke

.venv/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --disable-pip-version-check uv
	# constraints.txt: the versions this project was last tested with (regenerate: see README)
	# --compile-bytecode: PYTHONDONTWRITEBYTECODE=1 (containers, CI) would otherwise make every
	# command recompile ~3,400 modules from source (12 s of each `kedro run`, measured)
	.venv/bin/uv pip install --quiet --compile-bytecode --python $(PY) -c constraints.txt -e '.[test]'
	touch $@

install: .venv/.installed

## The whole pipeline, bootstrap to scoring, on the embedded DuckDB engine.
run: install
	$(KEDRO) run

## The test suite (fails on zero tests collected: pytest exits 5), on two workers: the fixtures are
## per process (each worker starts its own fakesnow and moto servers on free ports). --dist loadscope
## keeps a module on one worker, so a module-scoped `kedro run` fixture runs once, not once per worker;
## --no-loadscope-reorder hands modules out in the order tests/conftest.py gives (longest first).
test: install chromium lint
	.venv/bin/pytest -n 2 --dist loadscope --no-loadscope-reorder

# Headless Chromium for the kedro-viz screenshot test (Debian package; needs root or sudo).
chromium:
	@{ command -v chromium && command -v chromedriver; } >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
	  || echo "WARNING: could not install chromium; the kedro-viz screenshot test will be skipped"

## kedro-viz on http://127.0.0.1:4141, opened on the features stage (dbt's layers): kedro-viz itself
## opens on the whole run (__default__, ~70 datasets at ~20 % zoom). Deep links: docs/tools.md.
VIZ_URL := http://127.0.0.1:4141/?pid=features
viz: install
	@echo "kedro-viz: $(VIZ_URL) (the whole run: ?pid=__default__; one stage: ?pid=train, ...)"
	@# the browser opens on the deep link once the port answers (bash's /dev/tcp), for 10 minutes
	@( for _ in $$(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/4141) 2>/dev/null \
	  && exec $(PY) -m webbrowser -t "$(VIZ_URL)" >/dev/null; sleep 1; done ) &
	$(KEDRO) viz run --autoreload --no-browser --host 127.0.0.1 --port 4141

## The same page as a static site in build/ (previews of what data/ holds now): any web server.
viz-build: install
	$(KEDRO) viz build --include-previews

## JupyterLab with the "Kedro (f1_kedro)" kernel: notebooks/ get `catalog`, `context`, `pipelines`.
# The kernel starts in notebooks/: the logging config is named absolutely so its log reads as a
# run's. Jupyter refuses root without --allow-root (containers run as root), so only then add it.
jupyter: install
	KEDRO_LOGGING_CONFIG=$(CURDIR)/conf/logging.yml \
	  $(KEDRO) jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root)

## dbt's docs site on http://127.0.0.1:8081. It reads the built tables: `make run` first.
dbt-docs: install
	@test -f data/warehouse/FORMULA1.duckdb || { echo "No warehouse yet: run 'make run' (or" \
	  "'kedro run --pipelines bootstrap,ingest,features') first."; exit 1; }
	.venv/bin/dbt docs generate --project-dir dbt --profiles-dir dbt --target duckdb
	.venv/bin/dbt docs serve --project-dir dbt --profiles-dir dbt --host 127.0.0.1 --port 8081

## The MLflow UI on http://127.0.0.1:5000 (`kedro mlflow ui`: host, port and store from
## conf/base/mlflow.yml): the runs of every `kedro run`, and the registry the register stage writes.
mlflow: install
	@test -f data/06_models/mlflow.db || { echo "No runs yet: run 'make run' (or" \
	  "'kedro run --pipelines train,register') first."; exit 1; }
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(KEDRO) mlflow ui

## the benchmarks, a package run as modules: `python -m bench.<script>` (docs/benchmarks.md)
bench: install
	$(PY) -m bench.run

## ruff (lint, with RUF100, and format) over everything Python; `make test` runs it first, so CI fails
## on a lint error. The import layers (node code imports no engine) are tests/test_layers.py.
lint: install
	.venv/bin/ruff check src tests bench dbt/models
	.venv/bin/ruff format --check src tests bench dbt/models

## `kedro run --env snowflake --pipelines bootstrap,ingest,features` on the fakesnow emulator
## (bench/snowflake_emulated.py: starts it, runs, checks RAW and FEATURES row counts, stops it).
snowflake-emulated: install
	$(PY) -m bench.snowflake_emulated

## The whole chain on a real Snowflake account in F1_SMOKE_<UTC timestamp>, everything dropped at
## the end (bench/snowflake_smoke.py). `make snowflake-smoke DRY_RUN=1` prints it, connecting to none.
snowflake-smoke: install
	$(PY) -m bench.snowflake_smoke $(if $(DRY_RUN),--dry-run)
