# minigraph course — every target installs what it needs first, so a fresh clone needs only
# `make course` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?= autograder/samples/submitted
JOBS ?= $(shell nproc)

.PHONY: install test test-fast test-gpu course release autograde feedback export lab bench clean

install: $(STAMP)

# Re-install only when the dependency list changes: quick and idempotent otherwise.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## test: the whole suite (library, course notebooks, autograder), then the CUDA-simulator tests
test: install
	$(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/gpu
	@if [ -d tests/gpu ]; then NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest tests/gpu -q -p no:cacheprovider; fi

## course: build the student release, autograde reference solutions and sample submissions, print grades
course: install
	$(PY) -m autograder course --jobs $(JOBS)

release: install
	$(PY) -m autograder release

autograde: install
	$(PY) -m autograder autograde $(SUBMISSIONS) --jobs $(JOBS)

feedback: install
	$(PY) -m autograder feedback

export: install
	$(PY) -m autograder export

lab: install release
	$(VENV)/bin/jupyter lab --notebook-dir=release

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) release .build .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
