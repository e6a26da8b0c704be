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
	@# Byte-code for the project's own modules, as pip writes it for installed packages:
	@# every newswatch process starts without compiling them (even under
	@# PYTHONDONTWRITEBYTECODE, which stops writing the cache, not reading it).
	$(BIN)/python -m compileall -q crawler pipelines samples >/dev/null
	@# The language model's uncompressed copy in the cache folder (pipelines/extract/langmodel.py):
	@# written now, not by the first pass, whose start it would hold up by ~0.6 s.
	$(BIN)/python -c 'from pipelines.extract.langmodel import load_identifier; load_identifier()'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/newswatch demo

# Debian's chromium for the rendering checks (tests/browser.py): apt-get as root, or through
# sudo without a password; where it cannot be installed, those tests skip with one line
# saying why (or fail, with NEWSWATCH_REQUIRE_BROWSER=1, as .ci/run sets it).
APT_INSTALL_CHROMIUM = apt-get install -y -qq chromium >/dev/null 2>&1 \
	|| { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && { $(APT_INSTALL_CHROMIUM); }; } \
	  || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
	       && sudo -n sh -c '$(APT_INSTALL_CHROMIUM)'; } \
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
