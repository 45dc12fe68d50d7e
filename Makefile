# The front door: every target installs what it needs into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export AWS_MAX_ATTEMPTS ?= 1

.DEFAULT_GOAL := help
.PHONY: help install test lint format demo bench build clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ## create .venv with the project and its dev tools

test: $(STAMP) ## run every test tier (unit, integration, blueprints, e2e)
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

lint: $(STAMP) ## ruff, mypy and cfn-lint over every template
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/cfn-lint blueprints/*.yaml

format: $(STAMP) ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP) ## provision a pipeline against an embedded AWS emulator, no account needed
	$(BIN)/python -m mlops_cli.demo

bench: $(STAMP) ## cold import, package sizes and per-request latency
	$(BIN)/python -m mlops_cli.bench

clean: ## remove build output and caches
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
