# Local Pulp with the pulp_hugging_face plugin.  `make run`, `make stop`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(VENV)-tools/bin/uv
endif

.PHONY: run stop status venv lint unit functional facehugger-check test bench format clean

$(UV):
	$(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install -q uv

$(BIN)/python: | $(UV)
	$(UV) venv -q --python $(PYTHON) $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml facehugger/pyproject.toml fake_hub/pyproject.toml \
		cli/pyproject.toml cli/pulp-glue-hugging-face/pyproject.toml \
		lint_requirements.txt unittest_requirements.txt functest_requirements.txt
	VIRTUAL_ENV=$(VENV) $(UV) pip install -q -e . -e ./facehugger -e ./fake_hub \
		-e ./cli/pulp-glue-hugging-face -e ./cli -r lint_requirements.txt -r unittest_requirements.txt -r functest_requirements.txt
	touch $@

venv: $(VENV)/.installed

run: venv
	$(BIN)/python scripts/devstack.py run

stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python scripts/devstack.py stop; else echo "Nothing was running."; fi

status: venv
	$(BIN)/python scripts/devstack.py status

lint: venv
	$(BIN)/black --check --diff .
	$(BIN)/flake8
	$(BIN)/check-manifest -q
	cd cli && $(abspath $(BIN))/mypy

# Two checkouts can test side by side: pytest-django's database is test_$(PULP_UNIT_DB_NAME), and
# the functional stacks take the PULP_TEST_* variables of pulp_hugging_face/pytest_plugin.py.
PULP_TEST_DB_PREFIX ?= pulp_hf
PULP_UNIT_DB_NAME ?= $(PULP_TEST_DB_PREFIX)_unit
PULP_UNIT_STATE_DIR ?= .pulp-unit
UNIT_SETTINGS := $(abspath $(PULP_UNIT_STATE_DIR))/settings.py

unit: venv
	PULP_STATE_DIR=$(PULP_UNIT_STATE_DIR) PULP_DB_NAME=$(PULP_UNIT_DB_NAME) \
		$(BIN)/python scripts/devstack.py settings
	PULP_SETTINGS=$(UNIT_SETTINGS) DJANGO_SETTINGS_MODULE=pulpcore.app.settings \
		$(BIN)/pulpcore-manager makemigrations hugging_face --check --dry-run
	PULP_SETTINGS=$(UNIT_SETTINGS) DJANGO_SETTINGS_MODULE=pulpcore.app.settings \
		$(BIN)/pytest -p no:cacheprovider pulp_hugging_face/tests/unit

# One session, one live stack: the plugin's functional tests and the `pulp hugging-face` CLI's.
functional: venv
	$(BIN)/pytest -p no:cacheprovider --durations=25 pulp_hugging_face/tests/functional cli/tests

# facehugger keeps its own uv project and conventions: ruff, ty, 100% line coverage.
facehugger-check: | $(UV)
	cd facehugger && $(abspath $(UV)) sync -q && \
		.venv/bin/ruff format --exit-non-zero-on-format --check . && \
		.venv/bin/ruff check . && \
		.venv/bin/ty check --error-on-warning && \
		.venv/bin/pytest -p no:cacheprovider

test: lint unit facehugger-check functional

bench: venv
	$(BIN)/python bench/benchmark.py

format: venv
	$(BIN)/black .

clean: stop
	rm -rf .pulp .pulp-test .pulp-unit
