# minigraph course — every target installs what it needs first, so a fresh clone needs only
# `make course` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUBMISSIONS ?= autograder/samples/submitted
JOBS ?= $(shell nproc)

.PHONY: install test test-fast test-gpu e2e chromium course release autograde feedback export lab bench bench-notebooks clean binder-badge \
	postgres dask-certs exchange-release collect-and-grade exchange-feedback

# Byte-compiled once here, for every process after: graded kernels and test children run with
# PYTHONDONTWRITEBYTECODE=1 (so they never write into the tree) and would otherwise compile the
# library's ~60 modules from source each time (0.1 s per process).
install: $(STAMP)
	@$(PY) -m compileall -q minigraph autograder > /dev/null

# Re-install only when the dependency list changes: quick and idempotent otherwise.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## test: the whole suite (library, course notebooks, autograder), then the CUDA-simulator tests, then e2e
test: install
	$(PY) -m pytest tests -q -p no:cacheprovider --ignore=tests/gpu --ignore=tests/gpu_ptx --ignore=tests/e2e
	@if [ -d tests/gpu ]; then NUMBA_ENABLE_CUDASIM=1 $(PY) -m pytest tests/gpu -q -p no:cacheprovider; fi
	@# the CUDA kernels compiled to PTX for real GPUs (libNVVM from PyPI, no GPU needed), no simulator
	@if [ -d tests/gpu_ptx ]; then NUMBA_ENABLE_CUDASIM=0 $(PY) -m pytest tests/gpu_ptx -q -p no:cacheprovider; fi
	@$(MAKE) --no-print-directory e2e

## e2e: a student's session in headless Chromium (JupyterLab on the release), and binder/postBuild in a
## fresh venv; screenshots and logs in tests/e2e/output/
e2e: install chromium
	$(PY) -m pytest tests/e2e -q -p no:cacheprovider

# Debian's Chromium, which Playwright drives (never `playwright install`: it downloads its own browser).
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## postgres: Debian's PostgreSQL (installed when missing) and a private server for the gradebook in
## /var/lib/autograder/postgres (Unix socket only, runs as an unprivileged user); prints the --db URL
postgres: install
	$(PY) -m autograder postgres install
	$(PY) -m autograder postgres start

## dask-certs: a throw-away CA and the certificate of a TLS Dask cluster, in .build/dask-certs
dask-certs: install
	$(PY) -m autograder dask-certs .build/dask-certs

# nbgrader exchange, instructor side: make collect-and-grade ASSIGNMENT=act2_practice [EXCHANGE=...]
EXCHANGE ?= /srv/nbgrader/exchange
exchange-release: install
	$(PY) -m autograder exchange-release $(ASSIGNMENT) --exchange $(EXCHANGE)
collect-and-grade: install
	$(PY) -m autograder collect-and-grade $(ASSIGNMENT) --exchange $(EXCHANGE) --jobs $(JOBS)
exchange-feedback: install
	$(PY) -m autograder exchange-feedback $(ASSIGNMENT) --exchange $(EXCHANGE)

## course: build the student release, autograde reference solutions and sample submissions, print grades
course: install
	rm -rf .build/course-check     # a fresh gradebook: the check must not depend on earlier runs
	$(PY) -m autograder course --jobs $(JOBS) --build .build/course-check

release: install
	$(PY) -m autograder release

autograde: install
	$(PY) -m autograder autograde $(SUBMISSIONS) --jobs $(JOBS)

feedback: install
	$(PY) -m autograder feedback

export: install
	$(PY) -m autograder export

## binder-badge: point the README's Binder badge at this repository (derived from `git remote get-url origin`)
binder-badge:
	@url=$$(git remote get-url origin 2>/dev/null) || { echo "make binder-badge: this clone has no 'origin' remote, so the Binder link cannot be derived. Add the public repository first: git remote add origin https://github.com/OWNER/REPO" >&2; exit 1; }; \
	slug=$$(printf '%s\n' "$$url" | sed -E -n 's#^(https?://([^@/]+@)?|ssh://git@|git@)github\.com[:/]([^/]+/[^/]+)/?$$#\3#p' | sed -E 's#\.git$$##'); \
	test -n "$$slug" || { echo "make binder-badge: origin is '$$url', not a GitHub repository; Binder's badge needs github.com/OWNER/REPO" >&2; exit 1; }; \
	line="[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/$$slug/HEAD?urlpath=lab%2Ftree%2Frelease%2Fact1_theory%2F1_three_ways.ipynb)"; \
	sed -i -E 's#^\[!\[Binder\]\(https://mybinder\.org/badge_logo\.svg\)\]\(.*\)$$#'"$$line"'#' README.md; \
	grep -qxF "$$line" README.md || { echo "make binder-badge: README.md has no Binder badge line to update" >&2; exit 1; }; \
	echo "README.md badge: $$line"

# Builds the release only when there is none: rebuilding would overwrite a student's answers.
lab: install
	@test -d release || $(MAKE) --no-print-directory release
	@test -f release/welcome.ipynb || cp binder/welcome.ipynb release/welcome.ipynb
	$(VENV)/bin/jupyter lab --notebook-dir=release

## bench: minigraph (numba) vs numpy, hand-written numba, and JAX/PyTorch CPU (PEERS=1 installs them),
## each ratio next to its issue-#20 target. Without PEERS=1 the peers' columns say "not installed".
## THREADS=n gives every system n threads (default: all cores).
# torch==2.13.0 resolves to the local +cpu wheel (pip's find-links); the check refuses the CUDA build.
PEER_PINS := jax==0.10.2 jaxlib==0.10.2 torch==2.13.0
bench: install
	@if [ "$(PEERS)" = 1 ]; then $(PY) -m pip install --quiet $(PEER_PINS) && $(PY) -c "import sys, torch; \
	  sys.exit(None if torch.__version__.endswith('+cpu') else 'make bench: torch ' + torch.__version__ + \
	  ' is not the +cpu build: pip install torch==2.13.0+cpu (download.pytorch.org/whl/cpu)')"; fi
	BENCH_THREADS=$(THREADS) $(PY) bench/run.py

## bench-notebooks: every course notebook's full run under auto (empty, warm cache), numba, numpy (10-20 min)
bench-notebooks: install
	$(PY) bench/notebooks.py

clean:
	rm -rf $(VENV) release .build .pytest_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
