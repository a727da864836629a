# PAR Index campaign orchestrator — the two commands of the README, and the stack for the UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-live rehearse test lint up down clean

## Create .venv from the committed lock (uv bootstrapped with pip when missing).
install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check "$$(grep -E '^uv==' requirements.lock)"; }
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

## Run the 2023 Hà Tĩnh campaign on the sample inbox on an embedded Airflow, print the summary, stop.
demo: install
	$(BIN)/python tools/stack.py demo

## The same campaign compressed into a few minutes: watch sensors wait and mail land as deadlines pass.
demo-live: install
	$(BIN)/python tools/stack.py demo --live

## The real 2023 campaign through its whole calendar (19/12/2023 → 22/01/2024) on a simulated clock: every Airflow
## process under libfaketime, files dropped at their planned moments, the leader approving on 19/01/2024.
rehearse: install
	tools/debian_packages.sh
	$(BIN)/python tools/rehearse.py

## Lint, then the whole test suite twice: on SQLite with the LocalExecutor, then on a private PostgreSQL (metadata
## DB and campaign store) with the CeleryExecutor and Redis. Installs the Debian packages the tests drive.
test: install lint
	tools/debian_packages.sh
	$(BIN)/python -m pytest --durations=12
	$(BIN)/python tools/postgres_pass.py -m "not rehearsal and not ui" --durations=12

lint: install
	$(BIN)/ruff check .

## Keep the stack running for the UI at http://localhost:8080 (make down stops it), with a trial campaign dated from
## today (out/campaigns/ha_tinh_thu_nghiem.yaml; kept while it lives; NEW_TRIAL=1 starts it afresh).
up: install
	$(BIN)/python tools/stack.py up $(if $(NEW_TRIAL),--new-trial)

down:
	@test -x $(BIN)/python && $(BIN)/python tools/stack.py down || true

clean: down
	rm -rf out .airflow
