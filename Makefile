# Quick start: `make run` serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test bench install system-deps-run system-deps-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

system-deps-run:
	@bash .ci/system-deps.sh run

system-deps-test:
	@bash .ci/system-deps.sh test

# axe-core for the accessibility tests (a dev tool; nothing from npm is served).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "Note: npm not found; the accessibility tests will be skipped (failed with CI=true)."; fi

run: install system-deps-run
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving on http://127.0.0.1:5000 with a background worker beside it (Ctrl+C stops both)"
	@$(BIN)/flask worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install system-deps-test node_modules/.installed
	@bash tests/run.sh

# Figures, not pass/fail tests: each script prints ratios against a baseline of the same run.
bench: install
	$(BIN)/python bench/shopper_page.py
	$(BIN)/python bench/report_data.py
	$(BIN)/python bench/report_pdf.py
	$(BIN)/python bench/lighthouse.py
	$(BIN)/python bench/server_load.py
	$(BIN)/python bench/chain_load.py

clean:
	rm -rf $(VENV) instance .pytest_cache
