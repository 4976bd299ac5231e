"""The assertions every course assignment must pass, shared by test_act1_theory.py and test_act2_practice.py.

Each assignment is graded once per module (a module-scoped fixture): the source notebooks submitted as
they are (student "solution") and the released notebooks submitted untouched (student "blank").
"""
from __future__ import annotations

import re

import pytest

from autograder.release import split_lines
from course_grading import COURSE, errors

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def notebook_names(assignment: str) -> list[str]:
    return sorted(p.stem for p in (COURSE / assignment).glob("*.ipynb"))


def _grade_cells(nb):
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def check_source_is_clean(result, name):
    nb = result.source[name]
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in nb.cells if c.cell_type == "code"), f"{name}: commit notebooks without outputs"
    cells = _grade_cells(nb)
    assert cells, f"{name} has no autograded cell"
    for c in cells:
        meta = c.metadata.nbgrader
        assert meta.get("points", 0) > 0 and meta.get("locked"), f"{name}/{meta['grade_id']}: needs points, locked"
        assert "BEGIN SOLUTION" not in c.source, f"{name}/{meta['grade_id']}: a test cell holds a solution"
    for c in nb.cells:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if "BEGIN SOLUTION" in c.source:
            assert meta.get("solution"), f"{name}: a cell with a solution region is not marked as a solution cell"
        if "BEGIN HIDDEN TESTS" in c.source:
            assert meta.get("grade"), f"{name}: hidden tests outside an autograded cell would never run"


def check_release_hides_answers(result, name):
    release = result.release[name]
    text = "\n".join(c.source for c in release.cells)
    for marker in MARKERS:
        assert marker not in text, f"release of {name} contains {marker!r}"
    secret, visible = split_lines(result.source[name], min_length=8)
    leaked = (secret - visible) & {line.strip() for line in text.splitlines()}
    assert not leaked, f"release of {name} shows solution / hidden-test lines: {sorted(leaked)[:5]}"
    solution_cells = [c for c in release.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
    assert solution_cells and all("raise NotImplementedError" in c.source for c in solution_cells)
    # every graded cell keeps a visible self-check (not only hidden tests)
    for c in _grade_cells(release):
        visible = [l for l in c.source.splitlines() if l.strip() and not l.strip().startswith("#")]
        assert visible, f"{name}/{c.metadata.nbgrader['grade_id']}: no visible self-check in the release"


def check_solution_runs(result, name):
    nb = result.graded["solution"].notebooks[name]
    found = errors(nb)
    assert not found, f"{name} (solution) raised: " + "; ".join(f"cell {i}: {e}" for i, e in found)


def check_solution_full_marks(result, name):
    scores = result.graded["solution"].scores[name]
    assert scores, f"{name}: no grades recorded"
    short = {k: v for k, v in scores.items() if v[0] != v[1]}
    assert not short, f"{name} (solution) lost points: {short}"


def check_release_scores_zero(result, name):
    scores = result.graded["blank"].scores[name]
    assert scores, f"{name}: no grades recorded"
    given = {k: v for k, v in scores.items() if v[0] != 0}
    assert not given, f"{name}: the untouched release earns points: {given}"
    assert set(scores) == set(result.graded["solution"].scores[name])


CHECKS = [check_source_is_clean, check_release_hides_answers, check_solution_runs,
          check_solution_full_marks, check_release_scores_zero]


def make_tests(assignment: str):
    """A module-scoped fixture and one parametrized test per check and notebook."""
    names = notebook_names(assignment)

    @pytest.fixture(scope="module")
    def graded_assignment(tmp_path_factory):
        from course_grading import grade_assignment
        if not names:
            pytest.skip(f"course/{assignment} has no notebooks yet")
        return grade_assignment(assignment, tmp_path_factory.mktemp(assignment))

    @pytest.mark.parametrize("check", CHECKS, ids=lambda f: re.sub("^check_", "", f.__name__))
    @pytest.mark.parametrize("notebook", names or ["(none)"])
    def test_notebook(graded_assignment, notebook, check):
        check(graded_assignment, notebook)

    def test_release_starts_with_the_welcome_notebook(graded_assignment):
        """`make release` (autograder release) puts binder/welcome.ipynb next to the assignment folders."""
        assert "welcome.ipynb" in graded_assignment.release_files, graded_assignment.release_files
        assert assignment in graded_assignment.release_files

    def test_grading_time(graded_assignment):
        """Autograding the solutions stays well within a minute per notebook (the budget students get)."""
        seconds = graded_assignment.graded["solution"].seconds
        assert seconds < 60 * len(names), f"autograding {assignment} took {seconds:.0f} s"

    return graded_assignment, test_notebook, test_grading_time, test_release_starts_with_the_welcome_notebook
