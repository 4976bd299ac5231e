"""`course`: release everything, grade the reference solutions and the sample submissions, check them.

Works for any nbgrader source dir. For an assignment with shipped samples
(autograder/samples/course/{complete,partial,blank}/<assignment>/, written by
`course --write-samples`) those are graded; otherwise they are made from the source notebook: complete = reference solution, partial = the first half of
the answers, blank = the release. The check at the end is what makes `make course` a test of the
course itself: the reference and the complete submission score full marks, the blank one zero.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import nbformat
from nbgrader import utils as nbu

from . import feedback, prepare
from .prepare import Submission
from .settings import COURSE_SAMPLES, Settings

log = logging.getLogger("autograder")
SAMPLES = ("complete", "partial", "blank")
REFERENCE = "reference"


def reference_answer(source_cell) -> str:
    """A solution cell's source with nbgrader's solution delimiters removed."""
    return "\n".join(line for line in source_cell.source.splitlines()
                     if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)


def synthesize(settings: Settings, assignment: str, student: str, fraction: float, dest_root: Path) -> Submission:
    """A submission built from the release: the first `fraction` of solution cells answered."""
    dest = dest_root / student / assignment
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    released_dir = settings.release_build / assignment
    for released_path in sorted(released_dir.glob("*.ipynb")):
        source = nbformat.read(settings.source / assignment / released_path.name, as_version=4)
        answers = {c.metadata.nbgrader["grade_id"]: reference_answer(c) for c in source.cells
                   if nbu.is_solution(c)}
        nb = nbformat.read(released_path, as_version=4)
        solution_cells = [c for c in nb.cells if nbu.is_solution(c)]
        n_answered = round(len(solution_cells) * fraction)
        for cell in solution_cells[:n_answered]:
            cell.source = answers[cell.metadata.nbgrader["grade_id"]]
        nbformat.write(nb, dest / released_path.name)
    return Submission(student, assignment, dest)


def write_samples(settings: Settings, assignments: list[str]) -> None:
    """Ship complete / partial / blank submissions of each assignment in COURSE_SAMPLES."""
    for assignment in assignments:
        for student, fraction in zip(SAMPLES, (1.0, 0.5, 0.0)):
            synthesize(settings, assignment, student, fraction, COURSE_SAMPLES)


def course_submissions(settings: Settings, assignments: list[str]) -> list[Submission]:
    made = settings.build / "course-submissions"
    subs = []
    for assignment in assignments:
        subs.append(synthesize(settings, assignment, REFERENCE, 1.0, made))
        for student, fraction in zip(SAMPLES, (1.0, 0.5, 0.0)):
            shipped = COURSE_SAMPLES / student / assignment
            subs.append(Submission(student, assignment, shipped) if shipped.is_dir()
                        else synthesize(settings, assignment, student, fraction, made))
    return subs


def check_expectations(rows_totals: dict, assignments: list[str]) -> list[str]:
    """Problems with the course itself (not with a student): reference must be full, blank zero."""
    problems = []
    for assignment in assignments:
        for student in (REFERENCE, "complete"):
            t = rows_totals.get((student, assignment))
            if t and t["score"] != t["max_score"]:
                problems.append(f"{assignment}: {student} scores {t['score']:g} / {t['max_score']:g}, "
                                "expected full marks (is a test or a solution wrong? if the notebooks changed, "
                                "refresh the shipped samples: python -m autograder course --write-samples)")
        t = rows_totals.get(("blank", assignment))
        if t and t["score"] != 0:
            problems.append(f"{assignment}: blank submission scores {t['score']:g}, expected 0 "
                            "(does a test pass without an answer?)")
    return problems


def write_feedback(settings: Settings, subs: list[Submission]) -> tuple[int, list[str]]:
    """Feedback for every graded course submission; a missing or leaking file is a course problem."""
    try:
        written = feedback.generate(settings, sorted({s.student for s in subs}))
    except feedback.LeakError as exc:
        return 0, [f"feedback: {exc}"]
    have = {(p.parent.parent.name, p.parent.name, p.stem) for p in written}
    problems = [f"{sub.assignment}/{nb}: no feedback was written for {sub.student}"
                for sub in subs for nb in prepare.expected_notebooks(settings, sub.assignment)
                if (sub.student, sub.assignment, nb) not in have]
    return len(written), problems
