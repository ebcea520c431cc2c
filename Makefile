# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench

$(BIN)/nexus: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/nexus

install: $(BIN)/nexus

demo: install
	$(BIN)/nexus demo

lint: install
	$(BIN)/ruff check src tests bench

# Every store-touching test runs on DuckDB and on PostgreSQL (see tests/conftest.py).
test: lint
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: install
	$(BIN)/python bench/ingest.py
