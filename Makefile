# The binding commands (see ../shared/DESIGN.md "Commands"): demo, test, check, bench.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test check bench addon clean venv soak fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,gateway]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/simulator demo

# --durations: CI's log names the slowest tests (CI time is watched, aim < 15 min).
# TEST_WORKERS: pytest-xdist processes, one per core plus one by default (most tests wait on
# sockets and subprocesses; ADR 0035), a test file stays on one worker; TEST_WORKERS=0 runs
# the suite in this process.
TEST_WORKERS ?= $(shell expr $$(nproc) + 1)
test: $(STAMP)
	bash scripts/ensure-services.sh
	rm -f build/reliability.txt
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=25 $(PYTEST_ARGS)

# `make test` runs the gateway's own tests on uvloop (its supported option) and the rest,
# with the gateway processes and end-to-end tests, on asyncio's loop (TEST_LOOP=split,
# tests/support/loops.py, ADR 0027).
# These two run the gateway's and the tunnel's tests all on one loop instead: asyncio's (the
# gateway's fallback without uvloop) or uvloop's. Browser tests stay on asyncio's loop.
.PHONY: test-asyncio test-uvloop
test-asyncio test-uvloop: $(STAMP)
	bash scripts/ensure-services.sh
	TEST_LOOP=$(@:test-%=%) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile \
		$(PYTEST_ARGS) tests/cloud_gateway tests/tunnel tests/test_support.py

# The reliability suite at full size (tests/reliability, and the exactly-once test at 100,000
# readings); its figures end up in docs/reliability.md.
soak: $(STAMP)
	bash scripts/ensure-services.sh
	rm -f build/reliability.txt
	RELIABILITY_SIZE=full $(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) \
		tests/reliability tests/e2e/test_telemetry_exactly_once.py
	$(BIN)/python -m tests.reliability.write_doc

# Every parser fuzz target at full volume (>= 1,000,000 executions each).
fuzz: $(STAMP)
	RELIABILITY_SIZE=full $(BIN)/python -m tests.reliability.fuzz --all

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python -m bench --all

addon: $(STAMP)
	$(BIN)/python packaging/ccu/build_addon.py --output-dir dist --arch none --arch armhf --arch x86-64

# Three gateway nodes on PostgreSQL behind HAProxy on loopback (docs/operations.md).
.PHONY: cluster
cluster: $(STAMP)
	bash scripts/ensure-services.sh
	$(BIN)/simulator cluster --nodes 3

clean:
	rm -rf $(VENV) dist build state .pytest_cache .mypy_cache .ruff_cache
