# PAR Index campaign orchestrator — the two commands of the README, and the stack for the UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV ?= $(BIN)/uv

.PHONY: install lock demo demo-live rehearse test test-fast lint typecheck system-deps up down clean

## Create .venv from the committed dev lock (uv bootstrapped with pip when missing): runtime + test and lint tools.
install: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -oE '^uv==[^ ]+' requirements-dev.lock)"; }
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## Regenerate both locks from pyproject.toml (Python 3.11, with hashes; current pins kept unless UPGRADE=1):
##   requirements.lock      what the production image installs (Dockerfile): the runtime dependencies only;
##   requirements-dev.lock  what `make install` syncs: the runtime ones plus the [dev] extra (tests, lint, types).
## Apache Airflow's published constraints for 3.3.2 are not reachable from the project's machines (only package
## registries are), so the runtime lock pins what pyproject.toml asks (apache-airflow==3.3.2 and its providers)
## as uv resolves it; where the constraints file can be had, add `-c constraints-3.11.txt` to both commands.
## The runtime lock is compiled from the dev lock's pins, so the two agree on every version they share.
lock: $(STAMP)
	$(UV) pip compile --quiet pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
		$(if $(UPGRADE),--upgrade) -o requirements-dev.lock
	cp requirements-dev.lock requirements.lock
	$(UV) pip compile --quiet pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock

## Run the 2023 Hà Tĩnh campaign on the sample inbox on an embedded Airflow, print the summary, stop.
demo: install
	$(BIN)/python tools/stack.py demo

## The same campaign compressed into a few minutes: watch sensors wait and mail land as deadlines pass.
demo-live: install
	$(BIN)/python tools/stack.py demo --live

## The real 2023 campaign through its whole calendar (19/12/2023 → 22/01/2024) on a simulated clock: every Airflow
## process under libfaketime, files dropped at their planned moments, the leader approving on 19/01/2024.
rehearse: install system-deps
	$(BIN)/python tools/rehearse.py

## Lint, then the whole test suite twice: on SQLite with the LocalExecutor, then on a private PostgreSQL (metadata
## DB and campaign store) with the CeleryExecutor and Redis. Installs the Debian packages the tests drive.
test: install lint system-deps
	$(BIN)/python -m pytest --durations=12
	$(BIN)/python tools/postgres_pass.py -m "not rehearsal and not ui" --durations=12

## The daily loop: lint, then the tests that start no real Airflow component, on SQLite.
test-fast: install lint
	$(BIN)/python -m pytest -m "not slow"

## Install the Debian packages the tests drive (LibreOffice, Poppler, Chromium, PostgreSQL, Redis, faketime…);
## does nothing when they are all present (needs root or sudo otherwise).
system-deps:
	tools/debian_packages.sh

## What CI checks before the tests: ruff's lint, the code's format, then the type check (.pre-commit-config.yaml runs
## the same before each commit).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory typecheck

## mypy on include/par_index and dev/par_index_dev, as configured in pyproject.toml ([tool.mypy]).
typecheck: install
	$(BIN)/mypy

## Keep the stack running for the UI at http://localhost:8080 (make down stops it), with a trial campaign dated from
## today (out/campaigns/ha_tinh_thu_nghiem.yaml; kept while it lives; NEW_TRIAL=1 starts it afresh).
up: install
	$(BIN)/python tools/stack.py up $(if $(NEW_TRIAL),--new-trial)

down:
	@test -x $(BIN)/python && $(BIN)/python tools/stack.py down || true

clean: down
	rm -rf out .airflow
