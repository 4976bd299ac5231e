"""Run every student notebook once at image build time, so a student's first cells are fast.

    python binder/warm_caches.py release
    WARM_CACHES_ONLY="act2_practice/1_*.ipynb" python binder/warm_caches.py release   # a subset (tests)

What a first run pays for, and what this leaves in the image:
- the numba backend's compiled kernels (minigraph caches them under ~/.cache/minigraph; numba keys
  them on the generated file and on the CPU, so a node with another CPU just compiles again);
- matplotlib's font cache (~/.cache/matplotlib), IPython's profile, Python's bytecode.

Only the *released* notebooks run, never the instructor's: a kernel compiled from a reference solution
would leave the solution's formula in the cache folder. The notebooks run on a throw-away copy (a cell
may write files) with errors allowed: an unanswered exercise raises, the cells after it still run.
Warming is best-effort: a failure here is printed and does not fail the image build.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def numba_backend_present() -> bool:
    return importlib.util.find_spec("minigraph.backends.numba_cpu") is not None


def main(release: Path) -> int:
    notebooks = sorted(release.rglob("*.ipynb"))
    notebooks = [nb for nb in notebooks if ".ipynb_checkpoints" not in nb.parts]
    only = os.environ.get("WARM_CACHES_ONLY", "").split()
    if only:
        notebooks = [nb for nb in notebooks if any(nb.relative_to(release).match(p) for p in only)]
    if numba_backend_present():
        # The default `auto` backend compiles a function once it is hot, ten times sooner when its
        # kernel is already cached: compile every graph the given code builds, now.
        os.environ.setdefault("MINIGRAPH_BACKEND", "numba")
    else:
        print("warm_caches: minigraph has no numba backend yet; warming fonts and imports only")
    # The notebooks' own quick mode (what the autograder uses): long training loops run a few steps,
    # which compiles the same graphs in a fraction of the time.
    os.environ.setdefault("NBGRADER_EXECUTION", "autograde")
    with tempfile.TemporaryDirectory(prefix="warm-") as tmp:
        copy = Path(tmp) / "release"
        shutil.copytree(release, copy)
        for src in notebooks:
            path = copy / src.relative_to(release)
            start = time.monotonic()
            nb = nbformat.read(path, as_version=4)
            try:
                NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute()
                errors = sum(1 for c in nb.cells if c.cell_type == "code"
                             for o in c.get("outputs", []) if o.get("output_type") == "error")
                print(f"warm_caches: ran {src.relative_to(release)} in {time.monotonic() - start:.1f} s "
                      f"({errors} cell(s) raised: unanswered exercises and what depends on them)")
            except Exception as exc:  # noqa: BLE001 - warming must never break the build
                print(f"warm_caches: {src} could not be run ({type(exc).__name__}: {exc}); skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "release").resolve()))
