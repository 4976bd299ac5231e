"""One gradebook (PostgreSQL) shared by graders on several machines: releasing without racing.

Each grader needs the released notebooks on its own disk (the sanitizer compares submissions with
them), so each one runs generate_assignment. But nbgrader's generate_assignment also rewrites the
assignment in the gradebook: while the assignment has no submissions yet it *deletes* the notebooks
and their cells and creates them again. A second grader releasing while the first one is creating its
first submissions pulls the cells from under them (seen: "No such taskcomment ... for blank"). So:
- a session-level advisory lock serializes releases (and nbgrader's schema creation, which has no
  IF NOT EXISTS and fails when two first runs meet);
- when the gradebook already holds exactly what this release would write (same cells, sources,
  checksums, points), the release writes only the files and leaves the gradebook alone.
A changed assignment is still written (as plain nbgrader does): release a new version only while
nobody is grading it.
"""
from __future__ import annotations

import contextlib

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import SaveCells

_LOCK_KEY = 0x6167_7261_6465  # "agrade": one lock per database, shared by every grader of it


def is_shared(url: str) -> bool:
    return url.startswith("postgresql")


@contextlib.contextmanager
def gradebook_lock(url: str):
    """Exclusive advisory lock on a PostgreSQL gradebook, released at the end of the block (or when
    the holder dies). SQLite: no lock (a file on one machine, one grader)."""
    if not is_shared(url):
        yield
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    finally:
        engine.dispose()


class CompareCells(SaveCells):
    """SaveCells that only reads: it gathers what SaveCells would write and records, in
    `differences`, every notebook where the gradebook holds something else."""

    differences: list[str] = []

    def _create_notebook(self, nb) -> None:
        try:
            notebook = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        except MissingEntry:
            self.differences.append(f"{self.notebook_id}: not in the gradebook")
            return
        stored = {
            "source": {c.name: (c.cell_type, c.locked, c.source, c.checksum) for c in notebook.source_cells},
            "grade": {c.name: (float(c.max_score), c.cell_type) for c in notebook.grade_cells},
            "task": {c.name: (float(c.max_score), c.cell_type) for c in notebook.task_cells},
            "solution": {c.name for c in notebook.solution_cells},
        }
        new = {
            "source": {k: (v["cell_type"], v["locked"], v["source"], v["checksum"])
                       for k, v in self.new_source_cells.items()},
            "grade": {k: (float(v["max_score"]), v["cell_type"]) for k, v in self.new_grade_cells.items()},
            "task": {k: (float(v["max_score"]), v["cell_type"]) for k, v in self.new_task_cells.items()},
            "solution": set(self.new_solution_cells),
        }
        for kind in stored:
            if stored[kind] != new[kind]:
                self.differences.append(f"{self.notebook_id}: {kind} cells differ")


def _in_gradebook(url: str, course_id: str, assignment: str) -> bool:
    with Gradebook(url, course_id) as gb:
        try:
            gb.find_assignment(assignment)
            return True
        except MissingEntry:
            return False


def generate_assignment(settings, name: str) -> dict:
    """nbgrader's generate_assignment (result dict as NbGraderAPI returns it); on a shared gradebook
    that already holds this exact assignment, without writing to the gradebook."""
    from nbgrader.apps import NbGraderAPI

    with gradebook_lock(settings.gradebook_url):
        if is_shared(settings.gradebook_url) and _in_gradebook(settings.gradebook_url, settings.course_id, name):
            cfg = settings.nbgrader_config()
            cfg.GenerateAssignment.no_database = True
            cfg.GenerateAssignment.preprocessors = [
                CompareCells if p is SaveCells else p for p in _default_preprocessors()]
            CompareCells.differences = []
            result = NbGraderAPI(config=cfg).generate_assignment(name, force=True, create=True)
            if not result["success"] or not CompareCells.differences:
                return result
        return NbGraderAPI(config=settings.nbgrader_config()).generate_assignment(name, force=True, create=True)


def _default_preprocessors() -> list:
    from nbgrader.converters import GenerateAssignment
    return list(GenerateAssignment.class_traits()["preprocessors"].default())
