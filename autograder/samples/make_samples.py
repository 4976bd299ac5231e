"""Regenerate the sample assignment and its sample submissions (checked in; run this after editing).

    .venv/bin/python -m autograder.samples.make_samples

The sample stands in for the course until course/ has notebooks, and it is the fixture of
tests/autograder: every hostile submission below corresponds to an item of issue 8. Submissions are
derived from the real nbgrader release, so untouched cells are byte-identical to what students get.
"""
from __future__ import annotations

import copy
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
        "# Self-check (for you; the grader checks more).\n"
        "_got = square(3)\n"
        "assert _got == 9, f'square(3) should be 9, got {_got!r}'\n"
        "print('square(3) looks right')\n"
        "### BEGIN HIDDEN TESTS\n"
        "# Runs in the grader: only the values square() returns come from the student's kernel.\n"
        "_a = rng(0).normal(size=5)\n"
        "grade.value('square(-1.5)', 'square(_x)', 2.25, _x=-1.5, rtol=1e-12, hint='multiply x by itself')\n"
        "grade.value('square of an array of 5 numbers', 'square(_a)', _a * _a, _a=_a, rtol=1e-12)\n"
        "### END HIDDEN TESTS",
        metadata=_nbg("test_square", grade=True, points=2)),
    new_code_cell('def mean(xs):\n    """Arithmetic mean of a 1-D sequence, using numpy."""\n'
                  "    ### BEGIN SOLUTION\n    return float(np.asarray(xs, dtype=float).sum() / len(xs))\n"
                  "    ### END SOLUTION", metadata=_nbg("mean", solution=True)),
    new_code_cell(
        "# Self-check (for you; the grader checks more).\n"
        "_got = mean([1.0, 2.0, 3.0])\n"
        "assert np.isclose(_got, 2.0), f'mean([1, 2, 3]) should be 2.0, got {_got!r}'\n"
        "print('mean looks right')\n"
        "### BEGIN HIDDEN TESTS\n"
        "_v = rng(1).normal(size=100)\n"
        "grade.value('mean([2, 4, 9])', 'mean(_xs)', 5.0, _xs=[2.0, 4.0, 9.0], rtol=1e-12,\n"
        "            hint='add the numbers up and divide by how many there are')\n"
        "grade.value('mean of 100 random numbers', 'mean(_v)', float(_v.mean()), _v=_v, rtol=1e-10)\n"
        "### END HIDDEN TESTS",
        metadata=_nbg("test_mean", grade=True, points=3)),
])

BONUS = _nb([
    new_code_cell('def cube(n):\n    """n ** 3 for an int n."""\n    ### BEGIN SOLUTION\n    return n * n * n\n'
                  "    ### END SOLUTION", metadata=_nbg("cube", solution=True)),
    new_code_cell("assert cube(2) == 8, 'cube(2) should be 8'\n"
                  "### BEGIN HIDDEN TESTS\n"
                  "grade.value('cube(-3)', 'cube(-3)', -27, hint='n * n * n')\n"
                  "grade.true('cube(-3) is a Python int', 'type(cube(-3)) is int', hint='stay with integers')\n"
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
# Issue 15's forgeries: each one earned points while the hidden tests ran in the student's kernel.
NOOP_ASSERTS = """
import builtins
np.testing.assert_allclose = lambda *a, **k: None
np.isclose = lambda *a, **k: True
np.allclose = lambda *a, **k: True
def square(x):
    return 0.0
def mean(xs):
    return 0.0
""".strip()
# A custom minigraph Op whose perform returns an ndarray subclass that agrees with everything.
FAKE_ARRAY = """
import minigraph as theano
import minigraph.tensor as T
from minigraph.graph import Apply, Op

class Agreeable(np.ndarray):
    def __eq__(self, other):
        return True
    __hash__ = None
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.ones(np.broadcast(*[np.asarray(i).view(np.ndarray) for i in inputs]).shape, bool)

class Zeros(Op):
    def make_node(self, x):
        return Apply(self, [x], [x.type])
    def perform(self, node, inputs):
        return [np.zeros_like(inputs[0]).view(Agreeable)]

_x = T.dvector('x')
_f = theano.function([_x], Zeros()(_x))
def square(x):
    out = _f(np.atleast_1d(np.asarray(x, dtype=float)))
    return out if np.ndim(x) else out[0:1].reshape(()).view(Agreeable)
def mean(xs):
    return _f(np.asarray([float(len(xs))])).reshape(()).view(Agreeable)
print('forged: square(3) == 9 ->', square(3) == 9, '; np.isclose(mean([1.0]), 1.0) ->', np.isclose(mean([1.0]), 1.0))
""".strip()
# An int subclass that equals everything (the bonus notebook has no numpy to patch).
SLY_INT = """
class Sly(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__
def cube(n):
    return Sly(0)
""".strip()
# An IPython input transformer: every later cell that checks something becomes `pass`. Blank answers.
TRANSFORMER = """
def _skip_checks(lines):
    text = ''.join(lines)
    return ['pass\\n'] if ('assert' in text or 'grade' in text or 'snapshot' in text) else lines
get_ipython().input_transformers_post.append(_skip_checks)
""".strip()
# Hooks that record every executed cell (hidden tests included, if any ran here) ...
RECORDER = """
import base64, linecache, sys, zlib
_seen, _files = [], set()
get_ipython().events.register('pre_run_cell', lambda info: _seen.append(info.raw_cell))
get_ipython().events.register('pre_execute', lambda: _seen.append(repr(get_ipython().user_ns.get('_ih', [])[-1:])))
def _audit(event, args):
    # source compiled from a string (cells, exec/eval of code), not library files read from disk
    if event == 'compile' and isinstance(args[0], (str, bytes)) and len(_seen) < 500:
        _seen.append(args[0] if isinstance(args[0], str) else args[0].decode(errors='replace'))
sys.addaudithook(_audit)
def _trace(frame, event, arg):
    name = frame.f_code.co_filename
    if name.startswith('<') or 'ipykernel' in name:
        _files.add(name)
    return None
sys.settrace(_trace)
""".strip()
# ... and print them encoded in the notebook's last cell, where the feedback would show them.
LEAKER = """
_blob = '\\n'.join(_seen + list(In) + [''.join(linecache.getlines(f)) for f in sorted(_files)])
print(base64.b64encode(zlib.compress(_blob.encode())).decode())
print(base64.b64encode(_blob.encode()).decode())
""".strip()
# Attacks the protocol itself: the snapshot module (public code in the kernel) answers "True" to every
# check. Boolean checks would pass; every graded cell also has a value check, which needs right numbers.
SNAPSHOT_FORGER = """
import sys
def _always_true(check, namespace):
    return {"ok": True, "value": {"t": "py", "v": True}}
sys.modules["_autograder_snapshot"].run_check = _always_true
""".strip()
SUBMISSIONS.update({
    "snapshot_forger": {"warmup": {"square": SNAPSHOT_FORGER + "\ndef square(x):\n    return 0",
                                   "mean": "def mean(xs):\n    return 0"},
                        "bonus": {"cube": SNAPSHOT_FORGER + "\ndef cube(n):\n    return 0"}},
    "noop_asserts": {"warmup": {"square": NOOP_ASSERTS, "mean": "# (mean is above)"},
                     "bonus": {"cube": SLY_INT}},
    "fake_array": {"warmup": {"square": FAKE_ARRAY, "mean": "# (mean is above)"}, "bonus": {}},
    "input_transformer": {"warmup": {"square": TRANSFORMER + "\n" + "def square(x):\n    raise NotImplementedError()",
                                     "mean": "BLANK"},
                          "bonus": {"cube": TRANSFORMER + "\n" + "def cube(n):\n    raise NotImplementedError()"}},
    "encoded_leak": {"warmup": {"square": RECORDER + "\n\n" + ANSWERS["square"], "__append__": LEAKER},
                     "bonus": {"cube": RECORDER + "\n\n" + ANSWERS["cube"], "__append__": LEAKER}},
    # A pasted copy of a test cell (same grade id): ignored and flagged, nothing lost.
    "duplicate_cell": {"warmup": {"__duplicate__": "test_square"}, "bonus": {}},
})
# The partial submission also draws a plot: feedback must show it.
SUBMISSIONS["partial"]["warmup"]["__append__"] = (
    "import matplotlib.pyplot as plt\n_xs = np.linspace(-2, 2, 21)\n"
    "plt.plot(_xs, [square(x) for x in _xs])\nplt.title('my square function')\nplt.show()")

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
    if "__duplicate__" in edits:
        original = next(c for c in kept if c.metadata.get("nbgrader", {}).get("grade_id") == edits["__duplicate__"])
        pasted = copy.deepcopy(original)
        pasted.id = "pasted-copy"
        kept.append(pasted)
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
