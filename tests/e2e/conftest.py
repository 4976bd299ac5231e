"""Shared by the end-to-end tests: where their output goes, and the student release they run on."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "output"     # screenshots and logs; ignored by git
SECRET_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                  "BEGIN MARK SCHEME")


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


def first_student_notebook(release: Path) -> Path:
    """The notebook the Binder badge opens: the first notebook of act2_practice."""
    notebooks = sorted((release / "act2_practice").glob("*.ipynb"))
    assert notebooks, f"no act2_practice notebooks in the student release {release}"
    return notebooks[0]
