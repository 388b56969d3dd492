# Developer entry points. Quick start: `make demo`, `make test` (see README.md).
#
#   make demo  [ARGS="..."]         run the demo on embedded defaults (SQLite in ./var, local RabbitMQ)
#   make test  [PYTEST_ARGS="..."]  run the whole test suite (needs RabbitMQ and PostgreSQL)
#   make lint                       ruff check, ruff format --check, mypy, import contracts
#   make services                   check (and start, if installed locally) RabbitMQ and PostgreSQL
#   make venv                       create .venv and install the project with its dev extras
#   make clean / make distclean     remove caches and build output / and the virtualenv

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
PYTEST_ARGS ?=
# The demo runs on SQLite by default, so it only needs RabbitMQ.
DEMO_SERVICES ?= rabbitmq
MYPY_PATHS ?= schemas broker adapters bench

.DEFAULT_GOAL := help
.PHONY: help venv services demo test lint clean distclean

help:
	@sed -n 's/^#   //p' Makefile

venv: $(STAMP)

# A failed `python3 -m venv` (no ensurepip) leaves a half-made directory: remove it.
$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV): install the venv module (Debian: apt-get install python3-venv)." >&2; \
	  exit 1; }

# Re-install only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the project into $(VENV) (pip install -e \".[dev]\")"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

services:
	@bash scripts/ensure-services.sh

demo: venv
	@bash scripts/ensure-services.sh $(DEMO_SERVICES)
	$(BIN)/cme-broker demo $(ARGS)

test: venv services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy $(MYPY_PATHS) || status=1; \
	if [ -x $(BIN)/lint-imports ]; then $(BIN)/lint-imports --no-cache || status=1; fi; \
	exit $$status

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
