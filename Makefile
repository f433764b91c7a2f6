# The two entry points of this repository (see README.md):
#   make demo   render the template with defaults and run the generated pipeline
#   make test   the full test suite (what CI runs); make test-fast for the fast tier
# Both need only Python >= 3.11 and git: uv is installed into .tools/ if missing.
# Scripts and benchmarks run as modules from here (`python -m scripts.demo`), so they
# import the shared harness/ package the tests use.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
TOOLS := $(CURDIR)/.tools
# Tests call `uv` themselves: make the one installed here findable.
export PATH := $(TOOLS)/bin:$(PATH)
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(TOOLS)/bin/uv
endif
PYTEST_WORKERS ?= 2
# More pytest options, e.g. PYTEST_ARGS='--durations=30' (not PYTEST_ADDOPTS: that one
# would reach the generated projects' own pytest runs too).
PYTEST_ARGS ?=

.PHONY: demo test test-fast bench bench-serving bench-monitor bench-scaling bench-training bench-large lint

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv

demo: $(UV)
	$(UV) run --frozen python -m scripts.demo $(DEMO_DIR)

test: $(UV)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

test-fast: $(UV)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

bench: $(UV)
	$(UV) run --frozen python -m benchmarks.bench

bench-serving: $(UV)
	$(UV) run --frozen python -m benchmarks.serving

bench-monitor: $(UV)
	$(UV) run --frozen python -m benchmarks.monitor

bench-scaling: $(UV)
	$(UV) run --frozen python -m benchmarks.scaling

bench-training: $(UV)
	$(UV) run --frozen python -m benchmarks.training --local

# PYTHONDONTWRITEBYTECODE unset: the generated project's stages run as a user's
# would, from cached bytecode. 10,000,000 rows: add --rows 10000000 (52 min for one
# task here). Tuning throughput (--trials N) is its own run: at 1,000,000 rows a
# trial is a 5-fold cross-validation of about two minutes.
bench-large: $(UV)
	env -u PYTHONDONTWRITEBYTECODE $(UV) run --frozen python -m benchmarks.large \
		--rows 100000 --rows 1000000 --trials 0

lint: $(UV)
	$(UV) run --frozen ruff check . && $(UV) run --frozen ruff format --check .
