# The only entry points: make run, make test, make lint, make bench, make clean.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint pytest install clean

run: $(STAMP)
	$(BIN)/hubscope demo

test: $(STAMP) lint pytest

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check proxy viewer tests
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .deps node_modules .mypy_cache .ruff_cache .pytest_cache test-artifacts
