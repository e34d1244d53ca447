# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export REGOVAR_DATA_DIR ?= $(CURDIR)/.regovar

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/regovar demo

lint: setup
	$(BIN)/ruff check regovar tests bench migrations
	$(BIN)/mypy regovar bench
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/import_breakdown.py
	$(BIN)/python bench/query_bench.py
	$(BIN)/python bench/analysis_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
