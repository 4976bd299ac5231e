"""Where things live and how hard the grader pushes: one immutable object passed everywhere.

Defaults come from `defaults.py` (through `nbgrader_config.py`, which nbgrader also reads); the CLI
and the environment override them.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

from . import defaults

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
CONFIG_FILE = PACKAGE_DIR / "nbgrader_config.py"
COURSE_SOURCE = REPO_ROOT / "course"
SAMPLE_SOURCE = PACKAGE_DIR / "samples" / "source"
SAMPLE_SUBMISSIONS = PACKAGE_DIR / "samples" / "submitted"
# Sample submissions for the course assignments: course --write-samples makes them from the sources.
COURSE_SAMPLES = PACKAGE_DIR / "samples" / "course"


def load_nbgrader_config():
    """The traitlets Config from nbgrader_config.py (also what plain nbgrader would read)."""
    return PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config()


def assignments_with_notebooks(source: Path) -> list[str]:
    """Assignment folders under an nbgrader source dir that contain at least one notebook."""
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("*.ipynb")))


def empty_assignments(source: Path) -> list[str]:
    if not source.is_dir():
        return []
    return sorted(p.name for p in source.iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")) and not any(p.glob("*.ipynb")))


def default_source() -> Path:
    """course/ once any of its assignments has a notebook; the sample assignment until then."""
    return COURSE_SOURCE if assignments_with_notebooks(COURSE_SOURCE) else SAMPLE_SOURCE


@dataclasses.dataclass(frozen=True)
class Settings:
    source: Path                      # nbgrader source dir: one sub-folder per assignment
    build: Path = REPO_ROOT / ".build"  # gradebook, work folders, reports — private to the instructor
    release: Path = REPO_ROOT / "release"  # student versions (public)
    db_url: str = ""                  # empty: sqlite file inside `build`
    jobs: int = os.cpu_count() or 1
    cell_timeout: int = defaults.CELL_TIMEOUT_S
    notebook_timeout: int = defaults.NOTEBOOK_TIMEOUT_S
    memory_mb: int = defaults.MEMORY_MB
    max_output_bytes: int = defaults.MAX_OUTPUT_BYTES
    max_lines: int = defaults.MAX_LINES
    max_traceback: int = defaults.MAX_TRACEBACK
    sandbox: bool = True              # False only with --insecure-no-sandbox (development)
    course_id: str = defaults.COURSE_ID

    @classmethod
    def from_config(cls, source: Path | None = None, **overrides) -> "Settings":
        cfg = load_nbgrader_config()
        ag = cfg.get("Autograder", {})
        values = dict(
            source=Path(source) if source else default_source(),
            # A key missing from the config file means "the default": the dataclass field's value.
            cell_timeout=int(cfg.ExecutePreprocessor.get("timeout", defaults.CELL_TIMEOUT_S)),
            max_lines=int(cfg.LimitOutput.get("max_lines", defaults.MAX_LINES)),
            max_traceback=int(cfg.LimitOutput.get("max_traceback", defaults.MAX_TRACEBACK)),
            memory_mb=int(ag.get("memory_mb", defaults.MEMORY_MB)),
            max_output_bytes=int(ag.get("max_output_bytes", defaults.MAX_OUTPUT_BYTES)),
            notebook_timeout=int(ag.get("notebook_timeout", defaults.NOTEBOOK_TIMEOUT_S)),
            course_id=str(cfg.CourseDirectory.get("course_id", defaults.COURSE_ID)),
            db_url=os.environ.get("AUTOGRADER_DB_URL", ""),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("source", "build", "release"):
            if key in values:
                values[key] = Path(values[key]).resolve()
        return cls(**values)

    @property
    def gradebook_url(self) -> str:
        return self.db_url or f"sqlite:///{self.build / 'gradebook.db'}"

    @property
    def release_build(self) -> Path:
        """nbgrader's own release folder (trusted copies the sanitizer compares submissions against)."""
        return self.build / "release"

    @property
    def autograded(self) -> Path:
        return self.build / "autograded"

    @property
    def feedback(self) -> Path:
        return self.build / "feedback"

    @property
    def journal(self) -> Path:
        return self.build / "journal"

    def nbgrader_config(self):
        """Config for nbgrader's own apps, pointing its course directory at our folders."""
        cfg = load_nbgrader_config()
        cfg.CourseDirectory.root = str(self.build)
        cfg.CourseDirectory.source_directory = str(self.source)
        cfg.CourseDirectory.release_directory = "release"
        cfg.CourseDirectory.autograded_directory = "autograded"
        cfg.CourseDirectory.feedback_directory = "feedback"
        cfg.CourseDirectory.submitted_directory = "submitted"
        cfg.CourseDirectory.db_url = self.gradebook_url
        cfg.CourseDirectory.course_id = self.course_id
        cfg.ExecutePreprocessor.timeout = self.cell_timeout
        cfg.LimitOutput.max_lines = self.max_lines
        cfg.LimitOutput.max_traceback = self.max_traceback
        # We use no exchange (no nbgrader release_assignment/collect); without a writable one
        # nbgrader prints a CRITICAL line on every start.
        cfg.Exchange.root = str(self.build / "exchange")
        (self.build / "exchange").mkdir(parents=True, exist_ok=True)
        return cfg


def ensure_venv_on_path() -> None:
    """nbgrader shells out to `alembic` (gradebook migrations) by name; running `.venv/bin/python`
    without activating the venv would leave it off PATH."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


ensure_venv_on_path()

