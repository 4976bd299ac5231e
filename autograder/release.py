"""`release`: nbgrader generate_assignment for every assignment, then a leak check on what students get."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import nbformat

from . import shared_gradebook
from .nbgrader_patches import use_fast_alembic_head
from .settings import Settings, assignments_with_notebooks, empty_assignments

log = logging.getLogger("autograder")

# Text that must never reach students. nbgrader's delimiters are removed together with what they
# enclose, so finding one in the release means something went wrong upstream.
LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "BEGIN MARK SCHEME")
SECRET_FILE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
COURSE_SOURCE = Path(__file__).resolve().parents[1] / "course"
COURSE_WELCOME = Path(__file__).resolve().parents[1] / "binder" / "welcome.ipynb"


class ReleaseError(RuntimeError):
    pass


def release(settings: Settings, assignments: list[str] | None = None) -> list[str]:
    """Generate student versions into settings.release; return the assignment names released."""
    use_fast_alembic_head()
    names = assignments or assignments_with_notebooks(settings.source)
    for empty in empty_assignments(settings.source):
        log.warning("note: skipping %s/%s — no notebooks yet", settings.source.name, empty)
    if not names:
        raise ReleaseError(f"no assignment with notebooks under {settings.source}")
    settings.build.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.build, 0o700)  # gradebook and hidden tests live here
    for name in names:
        # nbgrader's generate_assignment, made safe for graders that share a PostgreSQL gradebook
        result = shared_gradebook.generate_assignment(settings, name)
        if not result["success"]:
            raise ReleaseError(f"nbgrader generate_assignment failed for {settings.source / name}:\n"
                               f"{result.get('log', '')[-3000:]}")
        dest = settings.release / name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(settings.release_build / name, dest)
        check_no_leaks(dest, settings.source / name)
        log.info("released %s -> %s", name, dest)
    add_welcome(settings)
    return names


def add_welcome(settings: Settings) -> None:
    """The course's release starts with binder/welcome.ipynb (course map, how checks and points work,
    how to hand in), as Binder and `make lab` show it; a release of another source gets none."""
    welcome = COURSE_WELCOME
    if settings.source.resolve() == COURSE_SOURCE.resolve() and welcome.is_file():
        settings.release.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(welcome, settings.release / welcome.name)


def split_lines(nb, min_length=12) -> tuple[set[str], set[str]]:
    """(secret, visible): stripped lines inside solution / hidden-test regions (long enough to
    recognise, not comments) and lines outside them."""
    secret, visible, inside = set(), set(), False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            s = line.strip()
            if "BEGIN HIDDEN TESTS" in s or "BEGIN SOLUTION" in s:
                inside = True
            elif "END HIDDEN TESTS" in s or "END SOLUTION" in s:
                inside = False
            elif not inside:
                visible.add(s)
            elif len(s) >= min_length and not s.startswith("#"):
                secret.add(s)
    return secret, visible


def hidden_lines(source_nb) -> set[str]:
    """Stripped lines that appear only inside hidden-test / solution regions of a source notebook."""
    return split_lines(source_nb)[0]


def check_no_leaks(release_dir: Path, source_dir: Path) -> None:
    """Fail loudly if a released file holds a solution, a hidden test or a gradebook."""
    secrets = set()
    for src in source_dir.glob("*.ipynb"):
        secrets |= hidden_lines(nbformat.read(src, as_version=4))
    public = set()
    for path in release_dir.rglob("*"):
        if path.suffix in SECRET_FILE_SUFFIXES or path.name == "gradebook.db":
            raise ReleaseError(f"release leak: {path} looks like a gradebook")
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
            for marker in LEAK_MARKERS:
                if marker in text:
                    raise ReleaseError(f"release leak: {path} contains '{marker}'")
            public |= {line.strip() for line in text.splitlines()}
    # A line that is also visible elsewhere in the notebook (e.g. a repeated assert) is not a secret.
    leaked = sorted(secrets & public - _visible_lines(source_dir))
    if leaked:
        raise ReleaseError(f"release leak in {release_dir}: hidden/solution line {leaked[0]!r}")


def _visible_lines(source_dir: Path) -> set[str]:
    visible = set()
    for src in source_dir.glob("*.ipynb"):
        visible |= split_lines(nbformat.read(src, as_version=4))[1]
    return visible
