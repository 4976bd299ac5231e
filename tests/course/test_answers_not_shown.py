"""Issue #16.1: what a student sees never shows the answer's code.

The release a student gets is the source with every solution region and every hidden-test region removed
(nbgrader's generate_assignment). No line of a solution may appear anywhere in what is left — not in a
self-check, not in a hint string, not in the prose — and neither may the right-hand side of a solution's
assignment or return (the expression itself, e.g. a hint that says "use `a ** 2 + 2 * a * b + b ** 2`").
Compared with all whitespace removed, so re-spacing a line does not hide it.
"""
from __future__ import annotations

import re
import sys

import pytest

from course_grading import COURSE

sys.path.insert(0, str(COURSE))
from build_notebooks import notebooks  # noqa: E402

MIN_CHARS = 10          # shorter pieces (`x ** 2`, `p_1 > 0.5`) are the exercise's own vocabulary
# A bare call with plain names, such as `sample_weights(mu, L, eps)`, repeats the signature the exercise
# itself gives; it is vocabulary, not the answer.
SIGNATURE = re.compile(r"^[\w.]+\((\s*\w+\s*,?)*\)$")
BEGIN_END = {"BEGIN SOLUTION": "END SOLUTION", "BEGIN HIDDEN TESTS": "END HIDDEN TESTS"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def split_release(nb):
    """(solution lines, release text): what nbgrader removes from the solution regions, and every cell's
    text with solution and hidden-test regions removed (what a student sees, prose included)."""
    solution, shown = [], []
    for cell in nb.cells:
        end = None
        for line in cell.source.splitlines():
            stripped = line.strip()
            if end is None and any(m in stripped for m in BEGIN_END):
                end = next(v for k, v in BEGIN_END.items() if k in stripped)
                region = "SOLUTION" if "SOLUTION" in end else "HIDDEN"
            elif end is not None and end in stripped:
                end = None
            elif end is None:
                shown.append(line)
            elif region == "SOLUTION":
                solution.append(stripped)
    return solution, "\n".join(shown)


def answer_pieces(lines):
    """The solution lines worth hiding, and the expressions on their right-hand side."""
    pieces = set()
    for line in lines:
        if not line or line.startswith("#") or line.startswith(('"""', "'''")):
            continue
        code = line.split("  #")[0]
        pieces.add(code)
        rhs = re.split(r"^(?:return\s+|[\w.\[\], ]+\s*(?:[-+*/]?=)\s*)", code, maxsplit=1)
        if len(rhs) == 2:
            pieces.add(rhs[1])
    return {p for p in pieces if len(_squash(p)) >= MIN_CHARS and not SIGNATURE.match(p.strip())}


NOTEBOOKS = {f"{p.parent.name}/{p.stem}": nb for p, nb in notebooks().items()}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_the_release_never_shows_a_solution_line(name):
    solution, shown = split_release(NOTEBOOKS[name])
    text = _squash(shown)
    shown_pieces = sorted(p for p in answer_pieces(solution) if _squash(p) in text)
    assert not shown_pieces, f"{name}: the release shows the answer's code: {shown_pieces}"


def test_the_check_itself_finds_a_hint_that_gives_the_answer_away():
    """The hostile case kept next to the honest one: a hint quoting the solution's expression is caught."""
    from build_notebooks import build, check, solution
    answer = solution("s", """
        ### BEGIN SOLUTION
        out2 = a ** 2 + 2 * a * b + b ** 2
        ### END SOLUTION
    """)
    leaky = build([answer, check("c", 1, """
        assert ok, "Hint: use the symbols: `a**2 + 2*a*b + b**2`."
        ### BEGIN HIDDEN TESTS
        grade.true("out2 is right", "ok")
        ### END HIDDEN TESTS
    """)])
    solution_lines, shown = split_release(leaky)
    assert any(_squash(p) in _squash(shown) for p in answer_pieces(solution_lines))
    honest = build([answer, check("c", 1, 'assert ok, "Hint: expand (a + b)² by hand."\n'
                                                 '### BEGIN HIDDEN TESTS\ngrade.true("out2 is right", "ok")\n'
                                                 '### END HIDDEN TESTS')])
    solution_lines, shown = split_release(honest)
    assert not any(_squash(p) in _squash(shown) for p in answer_pieces(solution_lines))
