# Two commands for a fresh machine with Python 3.11+: `make serve` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint typecheck imports migrations-check pytest venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed-runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-runtime

venv: $(VENV)/.installed-dev

serve: $(VENV)/.installed-runtime
	$(BIN)/pers serve

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src

imports: $(VENV)/.installed-dev
	$(BIN)/lint-imports

migrations-check: $(VENV)/.installed-dev
	$(BIN)/python -m tests.alembic_check

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

test: lint typecheck imports migrations-check pytest

clean:
	rm -rf $(VENV) .pers-test
