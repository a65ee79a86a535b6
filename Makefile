# Quick start: `make run` serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test test-sqlite bench install system-deps-run system-deps-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

system-deps-run:
	@bash .ci/system-deps.sh run

system-deps-test:
	@bash .ci/system-deps.sh test

run: install system-deps-run
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C to stop)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install system-deps-test
	@bash tests/run.sh

bench: install
	$(BIN)/python bench/shopper_page.py

clean:
	rm -rf $(VENV) instance .pytest_cache
