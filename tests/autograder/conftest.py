"""One graded batch of every sample submission, shared by the end-to-end tests (kernels are slow)."""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from autograder import prepare, release, report, runner
from autograder.settings import SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, Settings

# Small limits keep the hostile cases quick; the production values live in nbgrader_config.py.
TEST_LIMITS = dict(cell_timeout=6, notebook_timeout=90, memory_mb=1024, jobs=2)


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode() + f.read_bytes())
    return h.hexdigest()


def open_up(path: Path) -> None:
    """Make the test's temp folders world-traversable, like a checkout in /home or /work: only the
    grader's own protections may stand between student code and the gradebook."""
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *path.parents]:
        if str(p).startswith("/tmp/") or str(p) == "/tmp":
            if p != Path("/tmp"):
                os.chmod(p, 0o755)


def _make_settings(base: Path, **kw) -> Settings:
    open_up(base)
    values = dict(TEST_LIMITS, source=SAMPLE_SOURCE, build=base / "build", release=base / "release")
    values.update(kw)
    return Settings.from_config(**values)


@pytest.fixture(scope="session")
def settings_factory():
    return _make_settings


@pytest.fixture
def make_settings():
    return _make_settings


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    settings = _make_settings(base)
    before = {"source": tree_digest(SAMPLE_SOURCE), "submitted": tree_digest(SAMPLE_SUBMISSIONS)}
    release.release(settings, ["sample"])
    subs = prepare.discover(SAMPLE_SUBMISSIONS, ["sample"])
    start = time.monotonic()
    entries = runner.grade(settings, subs)
    elapsed = time.monotonic() - start
    rows = report.cell_rows(settings)
    after = {"source": tree_digest(SAMPLE_SOURCE), "submitted": tree_digest(SAMPLE_SUBMISSIONS)}
    return {"settings": settings, "entries": {e["student"]: e for e in entries}, "rows": rows,
            "totals": report.totals(rows), "elapsed": elapsed, "before": before, "after": after}


@pytest.fixture
def small_submissions(tmp_path):
    """complete, partial and blank, copied (some tests write next to them)."""
    root = tmp_path / "submitted"
    for student in ("complete", "partial", "blank"):
        shutil.copytree(SAMPLE_SUBMISSIONS / student, root / student)
    return root
