"""Write the course notebooks (nbgrader *source* versions) from the Python descriptions in course/_notebooks/.

    python course/build_notebooks.py                 # (re)write every notebook
    python course/build_notebooks.py act1_theory     # only one assignment
    python course/build_notebooks.py --check         # exit 1 if a notebook differs from its description

Why a generator: nbgrader reads its grading instructions from cell metadata (which cell is a solution,
which is a graded test worth how many points, which is locked). Typing that JSON by hand is where mistakes
hide; here every cell is made by one of four helpers and the output is deterministic (fixed cell ids, no
outputs), so a diff of a notebook is a diff of its text.

Cell kinds:
    md(text)                        prose (markdown)
    code(src)                       given code the student runs (and may play with)
    solution(grade_id, src)         the student's answer; src holds ### BEGIN SOLUTION / ### END SOLUTION
    check(grade_id, points, src)    an autograded test: visible self-check lines (run in the student's
                                    kernel, for learning), then ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS
                                    holding the grader-side checks (grade.value / grade.true / grade.graph,
                                    see /work/notes/GRADING_PROTOCOL.md and autograder/checks.py); a graded
                                    cell whose hidden part records no check is refused here
"""
from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

COURSE = Path(__file__).resolve().parent
REPO = COURSE.parent
SOURCES = COURSE / "_notebooks"   # one module per assignment: <assignment>.py defining NOTEBOOKS


def _text(src: str) -> str:
    return textwrap.dedent(src).strip("\n")


def md(text: str):
    return ("md", _text(text), None)


def code(src: str):
    return ("code", _text(src), None)


def solution(grade_id: str, src: str):
    src = _text(src)
    if "### BEGIN SOLUTION" not in src or "### END SOLUTION" not in src:
        raise ValueError(f"solution cell {grade_id!r} has no ### BEGIN/END SOLUTION markers")
    return ("code", src, {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
                          "solution": True, "task": False})


def check(grade_id: str, points: int, src: str):
    src = _text(src)
    if points <= 0:
        raise ValueError(f"test cell {grade_id!r} must be worth points")
    _validate_hidden_part(grade_id, src)
    return ("code", src, {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                          "schema_version": 3, "solution": False, "task": False})


def _validate_hidden_part(grade_id: str, src: str) -> None:
    """Points come only from the grader's checks: run the hidden part the way the grader will (it records
    the checks and computes their expected values) and refuse a cell that records none or does not run."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from autograder.checks import AuthoringError, validate_graded_cell
    try:
        validate_graded_cell(grade_id, src)
    except AuthoringError as exc:
        raise ValueError(str(exc)) from None


def build(cells) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11"},
    }
    ids = set()
    for n, (kind, src, meta) in enumerate(cells):
        cell_id = meta["grade_id"] if meta else f"cell-{n:02d}"
        if cell_id in ids:
            raise ValueError(f"duplicate grade id {cell_id!r}")
        ids.add(cell_id)
        cell = new_markdown_cell(src) if kind == "md" else new_code_cell(src)
        cell.id = cell_id.replace("_", "-")
        if meta:
            cell.metadata["nbgrader"] = meta
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def notebooks(assignments=None):
    """{path: notebook} for every notebook the course defines (or only those of `assignments`).

    Every module course/_notebooks/<assignment>.py that defines NOTEBOOKS = {name: [cells]} describes the
    assignment folder course/<assignment>/ (helper modules without NOTEBOOKS are skipped)."""
    sys.dont_write_bytecode = True          # keep __pycache__ out of the nbgrader source folder
    sys.path.insert(0, str(COURSE))
    try:
        out = {}
        for source in sorted(SOURCES.glob("*.py")):
            if source.stem.startswith("_") or (assignments and source.stem not in assignments):
                continue
            module = importlib.import_module(f"_notebooks.{source.stem}")
            for name, cells in getattr(module, "NOTEBOOKS", {}).items():
                out[COURSE / source.stem / f"{name}.ipynb"] = build(cells)
        return out
    finally:
        sys.path.remove(str(COURSE))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare; write nothing")
    parser.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    args = parser.parse_args(argv)
    stale = []
    for path, nb in notebooks(args.assignments).items():
        text = nbformat.writes(nb) + "\n"
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(COURSE.parent)}")
    if args.check and stale:
        print("out of date: " + ", ".join(str(p.relative_to(COURSE.parent)) for p in stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
