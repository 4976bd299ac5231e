"""Where things live and how hard the grader pushes: one immutable object passed everywhere.

Defaults come from `nbgrader_config.py`; the CLI and the environment override them.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

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
    cell_timeout: int = 60
    notebook_timeout: int = 600
    memory_mb: int = 2048
    max_output_bytes: int = 200_000
    max_lines: int = 200
    max_traceback: int = 60
    sandbox: bool = True              # False only with --insecure-no-sandbox (development)
    course_id: str = "minigraph-course"

    @classmethod
    def from_config(cls, source: Path | None = None, **overrides) -> "Settings":
        cfg = load_nbgrader_config()
        ag = cfg.get("Autograder", {})
        values = dict(
            source=Path(source) if source else default_source(),
            cell_timeout=int(cfg.ExecutePreprocessor.get("timeout", 60)),
            max_lines=int(cfg.LimitOutput.get("max_lines", 200)),
            max_traceback=int(cfg.LimitOutput.get("max_traceback", 60)),
            memory_mb=int(ag.get("memory_mb", 2048)),
            max_output_bytes=int(ag.get("max_output_bytes", 200_000)),
            notebook_timeout=int(ag.get("notebook_timeout", 600)),
            course_id=str(cfg.CourseDirectory.get("course_id", "minigraph-course")),
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


def _fast_alembic_head() -> str:
    """Same value as nbgrader.api.get_alembic_version, without starting the `alembic` program.

    nbgrader runs `alembic heads` in a subprocess each time it creates a gradebook; that costs a
    whole interpreter start (seconds on a small CI machine) for every fresh clone and every test."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    import nbgrader

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def use_fast_alembic_head() -> None:
    import nbgrader.api

    if getattr(nbgrader.api.get_alembic_version, "__module__", "") != __name__:
        nbgrader.api.get_alembic_version = _fast_alembic_head
