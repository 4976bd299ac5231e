"""The committed notebooks are exactly what course/build_notebooks.py writes (no hand edits, no outputs)."""
import subprocess
import sys

from course_grading import COURSE

# Assignments whose notebooks are generated from course/_notebooks/<assignment>.py and checked here.
GENERATED = ["act1_theory", "act2_practice", "svi"]


def test_notebooks_match_their_generator():
    done = subprocess.run([sys.executable, str(COURSE / "build_notebooks.py"), "--check", *GENERATED],
                          capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr +
                                  f"\nrun: .venv/bin/python course/build_notebooks.py {' '.join(GENERATED)}")


def _points_in(heading: str):
    import re
    found = re.search(r"\(([\d\s+]+) points?\)", heading)
    return None if not found else sum(int(n) for n in found.group(1).split("+"))


def test_every_exercise_heading_shows_its_points():
    """Issue #16.5: students see what each exercise is worth. The graded cells under a heading (up to the
    next heading) add up to the points the heading shows, e.g. '## 4. Exercise 2 — ... (2 points)'."""
    sys.path.insert(0, str(COURSE))
    from build_notebooks import notebooks
    problems = []
    for path, nb in notebooks().items():
        heading, under = None, {}
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for line in cell.source.splitlines():
                    if line.startswith("#"):
                        heading = line
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                under[heading] = under.get(heading, 0) + meta["points"]
        for heading, points in under.items():
            if heading is None or _points_in(heading) != points:
                problems.append(f"{path.parent.name}/{path.stem}: {heading!r} holds {points} point(s)")
    assert not problems, "headings must show the points of the graded cells under them:\n" + "\n".join(problems)
