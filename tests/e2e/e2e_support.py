"""What the end-to-end tests share (a module with its own name: `conftest` is ambiguous across tests/)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent / "output"     # screenshots and logs; ignored by git
SECRET_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                  "BEGIN MARK SCHEME")


def first_student_notebook(release: Path, assignment: str | None = None) -> Path:
    """The first notebook of `assignment`, or of the course (assignment folders in name order:
    act1_theory, act2_practice, svi): the one the Binder badge opens."""
    folders = [release / assignment] if assignment else sorted(p for p in release.iterdir() if p.is_dir())
    for folder in folders:
        notebooks = sorted(folder.glob("*.ipynb"))
        if notebooks:
            return notebooks[0]
    raise AssertionError(f"no student notebook in {folders} (student release {release})")
