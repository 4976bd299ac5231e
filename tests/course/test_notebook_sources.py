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
