# Two commands do all the set-up on a fresh machine:
#   make lab    JupyterLab on notebooks/          make test   unit tests + every notebook (nbval)
# Each creates .venv, installs the pinned dependencies and the helpers package (editable) and
# fetches the bundled models into models/ on the first run; later runs skip what is done.

SHELL := /bin/bash
# The first Python 3.10+ found; override with `make test PYTHON=/path/to/python3.12`.
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3.10 python3; do \
            command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# Jupyter refuses to run as root unless told; containers and CI often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Tests and notebooks run offline; only `make models` (set-up) talks to a package index or hub.
OFFLINE := HF_HUB_OFFLINE=1 HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error \
           TOKENIZERS_PARALLELISM=false HF_DATASETS_DISABLE_PROGRESS_BARS=1

.PHONY: help setup venv models lab test lint notebooks check-notebooks html bench bench-suite clean distclean

help:
	@echo "make lab        set up (first run only) and start JupyterLab on notebooks/"
	@echo "make test       set up (first run only), then lint, unit tests and every notebook (nbval)"
	@echo "make notebooks  re-execute every notebook in place (refreshes the stored outputs)"
	@echo "make check-notebooks"
	@echo "                re-execute into a temp folder; fail if more than timing cells changed"
	@echo "make html       write site/: every executed notebook as a static page, readable offline"
	@echo "make bench      run benchmarks/ and print one table of measured figures"
	@echo "make bench-suite  time set-up and make test (twice; SUITE_RUNS=1 once) in a fresh clone"
	@echo "make models     fetch the bundled models (and \$$LLM_LAB_MODEL if it is a hub id)"
	@echo "make distclean  delete .venv and models/ (set-up will redo them)"

setup: venv models

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no python3 found; install Python 3.10 or newer" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else \
	  "error: Python 3.10 or newer is needed, $(PYTHON) is " + sys.version.split()[0] + \
	  "; run make with PYTHON=/path/to/python3.11")'
	@# Recreate only a venv this Makefile made (it has pyvenv.cfg); never delete another environment.
	@if ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  if [ -e "$(VENV)" ] && [ ! -f "$(VENV)/pyvenv.cfg" ]; then \
	    echo "error: $(VENV) exists but has no working python with pip; not touching it" >&2; exit 1; fi; \
	  echo "creating $(VENV) with $$($(PYTHON) --version)"; rm -rf "$(VENV)"; \
	  if ! { $(PYTHON) -m venv "$(VENV)" && $(BIN)/python -m pip --version >/dev/null 2>&1; }; then \
	    rm -rf "$(VENV)"; \
	    echo "error: could not create a virtual environment with pip; on Debian/Ubuntu install python3-venv" >&2; \
	    exit 1; fi; fi
	@echo "installing the pinned dependencies into $(VENV) (first run: a few minutes)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

models: $(STAMP)
	@$(BIN)/python -m helpers.fetch

lab: setup
	$(OFFLINE) $(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG)

lint: $(STAMP)
	$(BIN)/ruff check helpers tests benchmarks

test: setup lint
	$(OFFLINE) $(BIN)/python -m pytest

# Executes each notebook in a fresh kernel, in its own folder, offline behind the network guard.
EXECUTE := $(OFFLINE) PYTHONPATH=$(CURDIR)/tests/netguard $(BIN)/jupyter nbconvert --to notebook --execute \
	  --ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.record_timing=False

notebooks: setup
	$(EXECUTE) --inplace $(NOTEBOOKS)
	$(BIN)/python tests/strip_widget_views.py $(NOTEBOOKS)

# Re-executes every notebook into a temporary folder and compares: byte-identical apart from the
# outputs of cells tagged `varying` (timings). Run it after `make notebooks` before committing.
check-notebooks: setup
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	LLM_LAB_OUTPUTS="$$out/outputs" $(EXECUTE) --output-dir="$$out" $(NOTEBOOKS) && \
	$(BIN)/python tests/strip_widget_views.py "$$out"/*.ipynb && \
	$(BIN)/python tests/compare_notebooks.py notebooks "$$out"

html: $(STAMP)
	$(BIN)/python -m helpers.site

# `make bench BENCH_ARGS="--notebooks ch03*"` times only those notebooks; --quick skips notebooks and browser.
bench: setup
	$(OFFLINE) $(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# Set-up and test-suite times as a new user sees them: a fresh clone of HEAD, set up, then `make test`
# SUITE_RUNS times (2: also a warm run). See BENCHMARKS.md for how long each part takes.
SUITE_RUNS ?= 2
bench-suite: $(STAMP)
	$(BIN)/python benchmarks/run.py --suite --runs $(SUITE_RUNS)

clean:
	rm -rf .pytest_cache .ruff_cache site
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) models
