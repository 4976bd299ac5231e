"""Regenerate the sample assignment and its sample submissions (checked in; run this after editing).

    .venv/bin/python -m autograder.samples.make_samples

The sample stands in for the course until course/ has notebooks, and it is the fixture of
tests/autograder: every hostile submission below corresponds to an item of issue 8. Submissions are
derived from the real nbgrader release, so untouched cells are byte-identical to what students get.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source" / "sample"
SUBMITTED = HERE / "submitted"


def _nbg(grade_id, *, grade=False, solution=False, locked=False, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _nb(cells):
    for cell in cells:  # stable ids keep the checked-in notebooks byte-identical across regenerations
        cell.id = cell.metadata["nbgrader"]["grade_id"].replace("_", "-")
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


WARMUP = _nb([
    new_markdown_cell("# Warm-up\nImplement `square` and `mean`. Run every cell before submitting.",
                      metadata=_nbg("intro", locked=True)),
    new_code_cell("import numpy as np", metadata=_nbg("setup", locked=True)),
    new_code_cell('def square(x):\n    """Return x squared."""\n    ### BEGIN SOLUTION\n    return x * x\n'
                  "    ### END SOLUTION", metadata=_nbg("square", solution=True)),
    new_code_cell(
        "assert square(3) == 9\n"
        "### BEGIN HIDDEN TESTS\n"
        "# Exact types: an object whose __eq__ always says True cannot pass this.\n"
        "_sq_hidden = square(-1.5)\n"
        "assert type(_sq_hidden) is float and (_sq_hidden - 2.25) ** 2 < 1e-24, 'square(-1.5) is wrong'\n"
        "### END HIDDEN TESTS",
        metadata=_nbg("test_square", grade=True, points=2)),
    new_code_cell('def mean(xs):\n    """Arithmetic mean of a 1-D sequence, using numpy."""\n'
                  "    ### BEGIN SOLUTION\n    return float(np.asarray(xs, dtype=float).sum() / len(xs))\n"
                  "    ### END SOLUTION", metadata=_nbg("mean", solution=True)),
    new_code_cell(
        "assert np.isclose(mean([1.0, 2.0, 3.0]), 2.0)\n"
        "### BEGIN HIDDEN TESTS\n"
        "# numpy may have been monkeypatched by student code (np.isclose = lambda *a: True), so this\n"
        "# check uses no numpy function: a plain float, compared with plain arithmetic.\n"
        "_mean_hidden = float(mean([2.0, 4.0, 9.0]))\n"
        "assert type(_mean_hidden) is float and (_mean_hidden - 5.0) ** 2 < 1e-24, 'mean([2, 4, 9]) is wrong'\n"
        "### END HIDDEN TESTS",
        metadata=_nbg("test_mean", grade=True, points=3)),
])

BONUS = _nb([
    new_code_cell('def cube(n):\n    """n ** 3 for an int n."""\n    ### BEGIN SOLUTION\n    return n * n * n\n'
                  "    ### END SOLUTION", metadata=_nbg("cube", solution=True)),
    new_code_cell("assert cube(2) == 8\n"
                  "### BEGIN HIDDEN TESTS\n"
                  "_cube_hidden = cube(-3)\n"
                  "assert type(_cube_hidden) is int and _cube_hidden + 27 == 0, 'cube(-3) is wrong'\n"
                  "### END HIDDEN TESTS", metadata=_nbg("test_cube", grade=True, points=1)),
])

ANSWERS = {
    "square": 'def square(x):\n    """Return x squared."""\n    return x * x',
    "mean": 'def mean(xs):\n    """Arithmetic mean."""\n    return sum(xs) / len(xs)',
    "cube": "def cube(n):\n    return n ** 3",
}

# One entry per student folder: {notebook: {grade_id: new source}}; None as a notebook drops it.
# Sources for cells in ANSWERS default to the correct answer unless overridden; "BLANK" keeps the stub.
GRADEBOOK_ATTACK = r'''
import glob, os
# Everything a hostile student would try: climb out of the working folder, look for the gradebook,
# the instructor's source notebooks and the other students' submissions; read them, then wipe them.
targets = set()
for up in range(1, 7):
    targets.add(os.path.join(*([".."] * up), "gradebook.db"))
for root in ["/work", "/tmp", "/root", "/home", "/srv", "/opt"]:
    for pattern in ["**/gradebook.db", "**/source/sample/*.ipynb", "**/submitted/*/sample/*.ipynb",
                    "**/autograded/*/sample/*.ipynb", "**/.git/config", "**/make_samples.py"]:
        targets.update(glob.glob(os.path.join(root, pattern), recursive=True))
for path in sorted(targets):
    if not os.path.exists(path):
        continue
    try:
        with open(path, "rb") as fh:
            print("LEAK-READ", path, fh.read(200))
    except OSError:
        pass
    try:
        with open(path, "w") as fh:
            fh.write("pwned")
        print("LEAK-WROTE", path)
    except OSError:
        pass
print("attack finished")
'''

SUBMISSIONS = {
    "complete": {"warmup": {}, "bonus": {}},
    "partial": {"warmup": {"mean": "def mean(xs):\n    return 0.0"}, "bonus": {"cube": "BLANK"}},
    "blank": {"warmup": {k: "BLANK" for k in ("square", "mean")}, "bonus": {"cube": "BLANK"}},
    "infinite_loop": {"warmup": {"mean": "def mean(xs):\n    return 0.0\nwhile True:\n    pass"}, "bonus": {}},
    "sigint_proof": {"warmup": {"square": "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                           "while True:\n    time.sleep(0.01)"}, "bonus": {}},
    "os_exit": {"warmup": {"mean": "import os\nos._exit(3)"}, "bonus": {}},
    "segfault": {"warmup": {"square": "import ctypes\nctypes.string_at(0)"}, "bonus": {}},
    "memory_bomb": {"warmup": {"mean": "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))"},
                    "bonus": {}},
    "huge_output": {"warmup": {"square": ANSWERS["square"] + "\nprint('spam ' * 5_000_000)\n"
                                         "for i in range(20_000):\n    print(i)"}, "bonus": {}},
    "custom_exc": {"warmup": {"square": "def square(x):\n    return 0\n"
                                        "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"},
                   "bonus": {}},
    "fake_equality": {"warmup": {"square": "class Anything:\n    def __eq__(self, other):\n        return True\n"
                                           "    __hash__ = object.__hash__\n"
                                           "def square(x):\n    return Anything()",
                                 "mean": "def mean(xs):\n    return Anything()"},
                      "bonus": {"cube": "def cube(n):\n    return Anything()"}},
    "monkeypatch": {"warmup": {"mean": "np.isclose = lambda *a, **k: True\nnp.allclose = np.isclose\n"
                                       "def mean(xs):\n    return 0.0"}, "bonus": {}},
    "tampered": {"warmup": {"square": "def square(x):\n    return 0",
                            "test_square": "pass  # tests are optional, right?",
                            "test_mean": None},  # None: delete the cell
                 "bonus": {"test_cube": "POINTS=50"}},
    # A cell added after the tests prints IPython's input history, hidden test source included.
    "history_leak": {"warmup": {}, "bonus": {"__append__": "print(In)"}},
    "renamed": {"warmup": "RENAME:warmup (1).ipynb", "bonus": {}},
    "missing": {"warmup": None, "bonus": {}},
    "corrupt": {"warmup": "CORRUPT", "bonus": {}},
    "snoop": {"warmup": {"setup": None, "square": GRADEBOOK_ATTACK.strip() + "\n\n" + ANSWERS["square"]},
              "bonus": {}},
}
# `setup` above is a locked cell: deleting it is also tampering, and it is restored.


def _student_version(released: Path, name: str, edits) -> tuple[str, bytes] | None:
    if edits is None:
        return None
    if edits == "CORRUPT":
        return f"{name}.ipynb", b'{"cells": [ {"cell_type": "code", "source": "truncated by a bad uplo'
    filename = f"{name}.ipynb"
    if isinstance(edits, str) and edits.startswith("RENAME:"):
        filename, edits = edits[len("RENAME:"):], {}
    nb = nbformat.read(released / f"{name}.ipynb", as_version=4)
    kept = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        new = edits.get(gid, ANSWERS.get(gid))
        if gid in edits and edits[gid] is None:
            continue
        if new == "BLANK":
            new = None
        if isinstance(new, str) and new.startswith("POINTS="):
            cell.metadata.nbgrader["points"] = int(new.split("=")[1])
        elif new is not None:
            cell.source = new
        kept.append(cell)
    if "__append__" in edits:
        extra = nbformat.v4.new_code_cell(edits["__append__"])
        extra.id = "student-extra"
        kept.append(extra)
    nb.cells = kept
    return filename, nbformat.writes(nb).encode()


def main() -> None:
    if SOURCE.exists():
        shutil.rmtree(SOURCE)
    SOURCE.mkdir(parents=True)
    nbformat.write(WARMUP, SOURCE / "warmup.ipynb")
    nbformat.write(BONUS, SOURCE / "bonus.ipynb")
    from autograder.release import release
    from autograder.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_config(source=SOURCE.parent, build=Path(tmp) / "build",
                                        release=Path(tmp) / "release")
        release(settings, ["sample"])
        released = settings.release / "sample"
        if SUBMITTED.exists():
            shutil.rmtree(SUBMITTED)
        for student, notebooks in SUBMISSIONS.items():
            folder = SUBMITTED / student / "sample"
            folder.mkdir(parents=True)
            for name, edits in notebooks.items():
                out = _student_version(released, name, edits)
                if out:
                    (folder / out[0]).write_bytes(out[1])
    print(f"wrote {SOURCE} and {len(SUBMISSIONS)} submissions under {SUBMITTED}")


if __name__ == "__main__":
    main()
