# The few verbs a newcomer needs. `make run` starts a demo; `make test` runs every check.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes: most tests wait on servers, browsers and databases rather than compute,
# so twice the cores keeps both cores busy.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) * 2 )))

.PHONY: setup run test lint format services browser lock clean

$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

setup: $(BIN)/.installed  ## virtual environment with the service and its tools

run: setup  ## demo account on SQLite (API key, staff and portal logins), then serve on $(HOST):$(PORT)
	$(BIN)/fulfilment demo --host $(HOST) --port $(PORT)
	$(BIN)/fulfilment serve --host $(HOST) --port $(PORT)

services:  ## start PostgreSQL and Redis where they are not running
	scripts/services.sh

browser:  ## Debian's chromium, for the portal's browser tests
	scripts/browser.sh

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

test: setup services browser lint  ## the whole suite: lint, types, tests on SQLite and PostgreSQL, a browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not serial"
	$(BIN)/python -m pytest -m serial

format: setup  ## ruff, the customer structs written from the field table, the blocking client from the asyncio one
	$(BIN)/python scripts/structs.py
	$(BIN)/python scripts/unasync.py
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

lock: setup  ## refresh requirements.lock from the installed environment
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-output
