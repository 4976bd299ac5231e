"""Shared by the end-to-end tests: where their output goes, and the student release they run on."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from e2e_support import OUTPUT, ROOT


@pytest.fixture(scope="session")
def e2e_output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture(scope="session")
def student_release(tmp_path_factory) -> Path:
    """The student release, built the way binder/postBuild builds it, in a throw-away folder."""
    tmp = tmp_path_factory.mktemp("student")
    release, build = tmp / "release", tmp / "build"
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--build", str(build),
                           "--release-dir", str(release)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"autograder release failed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
    shutil.copy(ROOT / "binder" / "welcome.ipynb", release / "welcome.ipynb")
    return release
