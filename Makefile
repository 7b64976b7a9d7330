# The same commands locally and in CI: `make setup`, `make test`, `make lint`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python
CPRBROKER := $(VENV)/bin/cprbroker
PYTEST_ARGS ?=

.PHONY: help setup test test-unit test-integration lint format clean run

help:
	@echo "make run     the whole broker on synthetic data with a live view (Ctrl-C stops it)"
	@echo "make setup   venv with the locked dependencies and the Kafka jars (idempotent)"
	@echo "make test    setup, then the whole suite (unit, service, integration on a local Kafka)"
	@echo "make lint    ruff, mypy --strict on services/, import-linter contracts"

$(UV):
	python3.11 -m pip install --user --quiet uv || python3 -m pip install --user --quiet uv

# The venv is rebuilt only when the lock file changes; uv's cache serves re-runs offline.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python 3.11
	@touch $@

setup: $(VENV)/.synced
	$(CPRBROKER) kafka fetch

# The README's first command: Kafka, every role, a demo subscriber and synthetic
# data, shown live until Ctrl-C. Options: make run DEMO_ARGS="--persons 5000".
DEMO_ARGS ?=
run: setup
	$(CPRBROKER) demo $(DEMO_ARGS)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: setup
	$(PY) -m pytest tests/unit tests/service $(PYTEST_ARGS)

test-integration: setup
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check services tests bench examples
	$(VENV)/bin/ruff format --check services tests bench examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(VENV)/.synced
	$(VENV)/bin/ruff format services tests bench examples
	$(VENV)/bin/ruff check --fix services tests bench examples

clean:
	rm -rf $(VENV) .cache var .mypy_cache .ruff_cache .pytest_cache
