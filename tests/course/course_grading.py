"""Grade one course assignment the way students are graded, in a throw-away nbgrader course root.

    release = nbgrader generate_assignment(source)
    solution: the source notebooks, submitted as student "solution", autograded
    blank:    the release notebooks, submitted untouched as student "blank", autograded

The autograder package's CLI wraps the same nbgrader calls with sandboxing and parallelism; these tests
only need nbgrader's own API, so they do not depend on how that package evolves. The nbgrader settings
students are graded with (timeouts, code stub) are read from autograder/nbgrader_config.py.

Run by hand to see scores and timings:  .venv/bin/python tests/course/course_grading.py act2_practice
(`--full` times each notebook top to bottom as a student runs it, without NBGRADER_EXECUTION.)
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "course"
CONFIG_FILE = REPO / "autograder" / "nbgrader_config.py"
STUDENTS = ("solution", "blank")


@dataclasses.dataclass
class Graded:
    """Scores and executed notebooks of one student on one assignment."""
    scores: dict[str, dict[str, tuple[float, float]]]     # notebook -> grade_id -> (score, max)
    notebooks: dict[str, nbformat.NotebookNode]            # notebook -> executed (autograded) notebook
    seconds: float


@dataclasses.dataclass
class AssignmentResult:
    name: str
    source: dict[str, nbformat.NotebookNode]
    release: dict[str, nbformat.NotebookNode]
    graded: dict[str, Graded]                              # student -> Graded


def _config(root: Path):
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader
    cfg = Config()
    if CONFIG_FILE.exists():
        cfg.merge(PyFileConfigLoader(CONFIG_FILE.name, path=str(CONFIG_FILE.parent)).load_config())
    cfg.CourseDirectory.root = str(root)
    cfg.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    cfg.CourseDirectory.course_id = "minigraph-course"
    cfg.Exchange.root = str(root / "exchange")
    # Each notebook must finish within a minute; a cell that hangs fails here rather than hanging the suite.
    cfg.ExecutePreprocessor.timeout = 120
    return cfg


@contextlib.contextmanager
def _kernel_env():
    """Kernels inherit this process's environment: make sure they import this checkout's minigraph, and
    that nbgrader finds the `alembic` it shells out to (it sits beside the interpreter, in .venv/bin)."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PATH")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent), saved["PATH"]]))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def grade_assignment(name: str, root: Path, students=STUDENTS) -> AssignmentResult:
    source_dir = root / "source" / name
    shutil.copytree(COURSE / name, source_dir, ignore=shutil.ignore_patterns(
        "__pycache__", ".ipynb_checkpoints", "*.pyc"))
    with _kernel_env():
        return _grade(name, root, source_dir, students)


def _grade(name, root, source_dir, students):
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    api = NbGraderAPI(config=_config(root))
    result = api.generate_assignment(name, force=True, create=True)
    if not result["success"]:
        raise RuntimeError(f"generate_assignment {name} failed:\n{result['error']}\n{result['log']}")
    release_dir = root / "release" / name
    source = {p.stem: nbformat.read(p, as_version=4) for p in sorted(source_dir.glob("*.ipynb"))}
    release = {p.stem: nbformat.read(p, as_version=4) for p in sorted(release_dir.glob("*.ipynb"))}

    graded = {}
    for student in students:
        submitted = root / "submitted" / student / name
        shutil.copytree(source_dir if student == "solution" else release_dir, submitted)
        start = time.monotonic()
        result = api.autograde(name, student, force=True, create=True)
        seconds = time.monotonic() - start
        if not result["success"]:
            raise RuntimeError(f"autograde {name} for {student} failed:\n{result['error']}\n{result['log']}")
        scores = {}
        with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "minigraph-course") as gb:
            for nb_name in source:
                sub = gb.find_submission_notebook(nb_name, name, student)
                scores[nb_name] = {g.name: (g.auto_score, g.max_score) for g in sub.grades}
        executed = {p.stem: nbformat.read(p, as_version=4)
                    for p in sorted((root / "autograded" / student / name).glob("*.ipynb"))}
        graded[student] = Graded(scores, executed, seconds)
    return AssignmentResult(name, source, release, graded)


def errors(nb) -> list[tuple[int, str]]:
    """(cell index, 'ename: evalue') for each error output of an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"[:2000]))
    return found


def time_full_run(path: Path, timeout: int = 300) -> float:
    """Seconds to run a source notebook top to bottom in a fresh kernel, as a student would (no
    NBGRADER_EXECUTION, so the long training loops run in full)."""
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    with _kernel_env():
        os.environ.pop("NBGRADER_EXECUTION", None)
        start = time.monotonic()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.monotonic() - start


if __name__ == "__main__":
    import tempfile
    if sys.argv[1:2] == ["--full"]:      # time the student's experience: every notebook, full length
        for assignment in sys.argv[2:] or ["act2_practice", "act1_theory"]:
            for path in sorted((COURSE / assignment).glob("*.ipynb")):
                print(f"{assignment}/{path.name}: {time_full_run(path):.1f} s", flush=True)
        sys.exit(0)
    keep = os.environ.get("GRADING_KEEP")     # a folder to keep the course root in, for a look afterwards
    names = sys.argv[1:] or ["act2_practice", "act1_theory"]
    for assignment in names:
        with tempfile.TemporaryDirectory() as tmp:
            res = grade_assignment(assignment, Path(tmp))
            if keep:
                shutil.copytree(tmp, Path(keep) / assignment, dirs_exist_ok=True)
            for student, g in res.graded.items():
                print(f"== {assignment} / {student}: {g.seconds:.1f} s")
                for nb_name, cells in g.scores.items():
                    got = sum(s for s, _ in cells.values())
                    total = sum(m for _, m in cells.values())
                    print(f"   {nb_name}: {got:g}/{total:g}  " +
                          " ".join(f"{k}={s:g}/{m:g}" for k, (s, m) in cells.items()))
                    if student == "solution":
                        for i, err in errors(g.notebooks[nb_name]):
                            print(f"      cell {i}: {err[:300]}")
