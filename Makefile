# The binding commands (see ../shared/DESIGN.md "Commands"): demo, test, check, bench.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test check bench addon clean venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/simulator demo

test: $(STAMP)
	bash scripts/ensure-services.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python -m bench --all

addon: $(STAMP)
	$(BIN)/python packaging/ccu/build_addon.py --output-dir dist --arch none --arch armhf --arch x86-64

clean:
	rm -rf $(VENV) dist build state .pytest_cache .mypy_cache .ruff_cache
