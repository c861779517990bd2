# The two set-up commands: `make demo` (install, then the main job on the embedded default)
# and `make test`. Both create .venv on first use and install from constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EXTRAS ?= dev,paper,docs

.PHONY: demo embedded test test-slow test-all lint format docs docs-serve docs-numbers lock install clean

# The workflow's default target on the embedded default: every table, figure and ablation.
demo: $(INSTALLED)
	$(BIN)/snakemake
	@echo "tables and figures: results/*.csv, results/*.png (see results/README.md); the report: results/report.html"

# The embedded benchmark: data, codecs and evaluators under results/embedded (about 3 minutes).
embedded: $(INSTALLED)
	$(BIN)/python -m bench.embedded --out results/embedded

# `make test`: the unit tests and the tiny workflow end to end, report included. `make
# test-slow`: the tests that train the embedded benchmark's codecs and models for minutes; CI runs
# both. The report's browser test runs Chromium (Debian: `apt-get install chromium`) and is
# skipped, with that reason, where /usr/bin/chromium is absent.
test: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow"

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -m slow

test-all: $(INSTALLED)
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(BIN)/snakemake --lint

# The documentation site (mkdocs.yml, docs/): built into site/, strict, so a broken link, a missing
# page or a docstring naming an argument its function lacks fails the build. Material's banner
# about its successor is not a warning about these docs: NO_MKDOCS_2_WARNING silences it.
docs: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "the site: site/index.html"

docs-serve: $(INSTALLED)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The measured tables of the docs and the README's claims block, from the run in results/.
docs-numbers: $(INSTALLED)
	$(BIN)/python -m bench.docs_numbers --readme README.md

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/snakefmt Snakefile workflow/rules

install: $(INSTALLED)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no python3.11 or python3 on PATH; install Python 3.11 or pass PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: $(PYTHON) is older than Python 3.11; pass PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --upgrade-strategy only-if-needed -c constraints.txt -e '.[$(EXTRAS)]'
	@echo "$(EXTRAS)" > $@

# Re-resolve every pinned version (core + dev + paper) in a scratch environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -e '.[dev,paper,docs]'
	{ sed -n '1,3p' constraints.txt; .lock-venv/bin/python -m pip freeze --exclude-editable | sort -f; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .snakemake
