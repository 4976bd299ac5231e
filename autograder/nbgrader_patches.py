"""Every change we make to nbgrader's own behaviour, in one module, each with the reason.

All of them target nbgrader 0.9.6 (the version pinned in pyproject.toml) and all of them only save
time: none changes a score. On another nbgrader version each patch is skipped with a warning that says
what is lost (speed), because the private names they replace may have moved or changed meaning.

- `use_fast_alembic_head`: `nbgrader.api.get_alembic_version` runs the `alembic heads` program in a
  subprocess every time a gradebook is created: a whole interpreter start (seconds on a small CI
  machine) per fresh clone and per test. We read the same value from nbgrader's alembic scripts.
- `borrowed_gradebook`: nbgrader's OverwriteCells, SaveAutoGrades and OverwriteKernelspec
  preprocessors each open (and close) their own Gradebook per notebook: a new engine and a schema
  inspection (~0.2 s each), CPU taken from the workers. While grading, they get our open one.
"""
from __future__ import annotations

import contextlib
import importlib
import warnings
from pathlib import Path

import nbgrader

SUPPORTED_VERSION = "0.9.6"


def _supported(patch: str, lost: str) -> bool:
    """True on the nbgrader version these patches were written for; otherwise warn and say what is lost."""
    if nbgrader.__version__ == SUPPORTED_VERSION:
        return True
    warnings.warn(f"nbgrader {nbgrader.__version__} is not {SUPPORTED_VERSION}: patch {patch} skipped; {lost}",
                  RuntimeWarning, stacklevel=3)
    return False


def fast_alembic_head() -> str:
    """Same value as nbgrader.api.get_alembic_version, without starting the `alembic` program."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(nbgrader.__file__).parent / "alembic"))
    return ScriptDirectory.from_config(cfg).get_current_head()


def use_fast_alembic_head() -> None:
    """Install fast_alembic_head in nbgrader.api (idempotent)."""
    import nbgrader.api

    if getattr(nbgrader.api.get_alembic_version, "__module__", "") == __name__:
        return
    if _supported("use_fast_alembic_head", "each new gradebook starts the `alembic` program (slower, same result)"):
        nbgrader.api.get_alembic_version = fast_alembic_head


class _Borrowed:
    """A gradebook handed to nbgrader code that would otherwise open (and close) its own."""

    def __init__(self, gb):
        self._gb = gb

    def __enter__(self):
        return self._gb

    def __exit__(self, *exc):
        return False

    def __getattr__(self, name):
        return getattr(self._gb, name)


# The nbgrader modules that call `Gradebook(...)` per notebook during autograding.
GRADEBOOK_USERS = ("nbgrader.preprocessors.overwritecells", "nbgrader.preprocessors.saveautogrades",
                   "nbgrader.preprocessors.overwritekernelspec")


@contextlib.contextmanager
def borrowed_gradebook(gb):
    """Let nbgrader's preprocessors use our open gradebook `gb` inside the block. Only the writer
    process does this, one notebook at a time; the originals are put back on the way out."""
    patch = _supported("borrowed_gradebook", "nbgrader's preprocessors open their own gradebook "
                                             "per notebook (slower, same result)")
    mods = [importlib.import_module(m) for m in GRADEBOOK_USERS] if patch else []
    saved = [m.Gradebook for m in mods]
    for m in mods:
        m.Gradebook = lambda *a, **k: _Borrowed(gb)
    try:
        with warnings.catch_warnings():
            # nbgrader's update_or_create_submission trips SQLAlchemy 2's autoflush warning on a
            # long-lived session; the rows are written correctly (the tests compare them).
            warnings.filterwarnings("ignore", message=".*not in session.*")
            yield
    finally:
        for m, original in zip(mods, saved):
            m.Gradebook = original
