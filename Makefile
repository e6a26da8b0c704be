# newswatch: `make demo` and `make test` work on a fresh machine (Python >= 3.11, no internet
# but the package index).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newswatch demo

# Every test, the crawls included (several minutes).
test: $(STAMP)
	$(BIN)/python -m pytest -q

# Everything but the tests marked `crawl` (real crawls, newswatch child processes): under a minute.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not crawl"

lint: $(STAMP)
	$(BIN)/ruff check crawler pipelines tests samples bench
	$(BIN)/ruff format --check crawler pipelines tests samples bench

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache *.egg-info
