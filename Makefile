# newswatch: `make demo` and `make test` work on a fresh machine (Python >= 3.11, no internet
# but the package index).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck check bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newswatch demo

# Debian's chromium for the rendering checks; where it cannot be installed, those tests
# skip with one line saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	       && { apt-get install -y -qq chromium >/dev/null 2>&1 \
	            || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } ; } \
	  || echo "chromium not installed: the rendering checks will be skipped"

# Every test, the crawls included (several minutes).
test: $(STAMP) browser
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
