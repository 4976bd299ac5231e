"""Grade one course assignment the way students are graded: through our autograder, under the grading
protocol (hidden checks run in the grader against snapshots of each notebook's kernel; issue #15).

    release  = autograder.release.release(settings, [assignment])   (nbgrader generate_assignment + leak check)
    solution: the source notebooks, submitted as student "solution"
    blank:    the release notebooks, submitted untouched as student "blank"
    both graded in one batch by autograder.runner.grade, sandbox on (we run as root, as CI does), 2 jobs

The sandbox stays on: it is what students get, and on this 2-core machine it costs a few seconds per
notebook (the kernels start as a jailed user), well within the per-notebook minute. Set
COURSE_GRADING_SANDBOX=0 to grade without it (development on a machine where the sandbox cannot run).

Run by hand to see scores, timings and each check's verdict:
    .venv/bin/python tests/course/course_grading.py act2_practice
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
STUDENTS = ("solution", "blank")
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@dataclasses.dataclass
class Graded:
    """Scores and executed notebooks of one student on one assignment."""
    scores: dict[str, dict[str, tuple[float, float]]]     # notebook -> grade_id -> (score, max)
    notebooks: dict[str, nbformat.NotebookNode]            # notebook -> executed (autograded) notebook
    seconds: float                                         # the whole batch (both students)
    checks: dict[str, dict[str, list[str]]] = dataclasses.field(default_factory=dict)  # nb -> id -> verdicts
    notes: dict[str, dict] = dataclasses.field(default_factory=dict)   # nb -> status, problems, flags


@dataclasses.dataclass
class AssignmentResult:
    name: str
    source: dict[str, nbformat.NotebookNode]
    release: dict[str, nbformat.NotebookNode]
    graded: dict[str, Graded]                              # student -> Graded
    release_files: list[str] = dataclasses.field(default_factory=list)   # what `release` wrote, top level


def _sandbox() -> bool:
    return os.environ.get("COURSE_GRADING_SANDBOX", "1") != "0"


def _open_up(path: Path) -> None:
    """The jailed kernels must reach their own work folders: make the temp folders traversable, as a
    checkout in /work is (only the grader's own protections stand between student code and the rest)."""
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *path.parents]:
        if str(p).startswith("/tmp/") and p != Path("/tmp"):
            os.chmod(p, 0o755)


def settings_for(root: Path):
    from autograder.settings import Settings
    _open_up(root)
    return Settings.from_config(source=COURSE, build=root / "build", release=root / "release", jobs=2,
                                sandbox=_sandbox())


def grade_assignment(name: str, root: Path, students=STUDENTS) -> AssignmentResult:
    from autograder import prepare, release, report, runner

    settings = settings_for(root)
    release.release(settings, [name])
    release_dir = settings.release / name
    source = {p.stem: nbformat.read(p, as_version=4) for p in sorted((COURSE / name).glob("*.ipynb"))}
    released = {p.stem: nbformat.read(p, as_version=4) for p in sorted(release_dir.glob("*.ipynb"))}
    submitted = root / "submitted"
    for student in students:
        shutil.copytree(COURSE / name if student == "solution" else release_dir, submitted / student / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc"))
    _open_up(submitted)
    subs = prepare.discover(submitted, [name])
    start = time.monotonic()
    entries = {e["student"]: e for e in runner.grade(settings, subs)}
    seconds = time.monotonic() - start
    rows = report.cell_rows(settings, assignments=[name])
    graded = {}
    for student in students:
        scores = {nb: {} for nb in source}
        for r in rows:
            if r["student"] == student:
                scores.setdefault(r["notebook"], {})[r["cell"]] = (r["score"], r["max_score"])
        executed = {p.stem: nbformat.read(p, as_version=4)
                    for p in sorted((settings.autograded / student / name).glob("*.ipynb"))}
        info = entries.get(student, {}).get("notebooks", {})
        checks = {nb: {gid: [c["message"] for c in cell.get("checks", [])]
                       for gid, cell in (i.get("checks") or {}).items()} for nb, i in info.items()}
        notes = {nb: {k: i.get(k) for k in ("status", "problems", "flags", "seconds")} for nb, i in info.items()}
        graded[student] = Graded(scores, executed, seconds, checks, notes)
    return AssignmentResult(name, source, released, graded, sorted(p.name for p in settings.release.iterdir()))


def errors(nb) -> list[tuple[int, str]]:
    """(cell index, 'ename: evalue') for each error output of an executed notebook."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append((i, f"{out.get('ename')}: {out.get('evalue')}"[:2000]))
    return found


@contextlib.contextmanager
def _kernel_env():
    """A student's kernel: this checkout's minigraph importable, no NBGRADER_EXECUTION (full-length runs)."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "NBGRADER_EXECUTION")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), saved["PYTHONPATH"]]))
    os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def time_full_run(path: Path, timeout: int = 300) -> float:
    """Seconds to run a source notebook top to bottom in a fresh kernel, as a student would (no
    NBGRADER_EXECUTION, so the long training loops run in full)."""
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    with _kernel_env():
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
                    secs = g.notes.get(nb_name, {}).get("seconds")
                    print(f"   {nb_name}: {got:g}/{total:g}" + (f" in {secs:.1f} s" if secs else "") + "  " +
                          " ".join(f"{k}={s:g}/{m:g}" for k, (s, m) in cells.items()))
                    for gid, verdicts in g.checks.get(nb_name, {}).items():
                        for v in verdicts:
                            if v.startswith("✗") or os.environ.get("SHOW_ALL_CHECKS"):
                                print(f"      {gid}: {v[:300]}")
                    if student == "solution":
                        for i, err in errors(g.notebooks[nb_name]):
                            print(f"      cell {i}: {err[:300]}")
