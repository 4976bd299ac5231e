"""nbgrader's exchange, instructor side: release, collect and grade, return feedback.

    python -m autograder exchange-release sample --exchange /srv/nbgrader/exchange
    (students: nbgrader fetch_assignment / submit, or the Assignments tab in JupyterLab)
    python -m autograder collect-and-grade sample --exchange /srv/nbgrader/exchange
    python -m autograder exchange-feedback sample --exchange /srv/nbgrader/exchange
    (students: nbgrader fetch_feedback)

The moves between folders are nbgrader's own exchange classes (same permissions, same file names, so
students use the stock `nbgrader` commands); the grading in between is ours (sandboxed, parallel,
resumable) and so is the feedback (no hidden tests). nbgrader's rules, kept as they are:
- `collect` takes each student's newest submission (`--update`: a resubmission replaces an older
  collected one; an older one never replaces a newer one); `timestamp.txt` travels with it and is
  recorded in the gradebook, so a submission after the due date is late by that many seconds and the
  configured LateSubmissionPlugin penalty (default: none) is applied, as `nbgrader autograde` does.
- feedback is released under a hash of the submission's secret (written by `submit` into the student's
  own submission and cache), into an exchange folder students cannot list: each student finds only
  the feedback of their own submissions.
"""
from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from . import feedback, prepare, release, runner
from .nbgrader_patches import use_fast_alembic_head
from .settings import Settings

log = logging.getLogger("autograder")


class ExchangeFailure(RuntimeError):
    """An exchange step failed; the message says which and why (nbgrader's own reason included)."""


def submitted_root(settings: Settings) -> Path:
    """Where `collect` puts submissions: nbgrader's `submitted/<student>/<assignment>/` in our build."""
    return settings.build / "submitted"


def _run(action_cls, settings: Settings, exchange: Path, assignment: str, student: str = "", **traits) -> None:
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.abc import ExchangeError

    cfg = settings.nbgrader_config()
    cfg.Exchange.root = str(exchange)
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = assignment
    if student:
        coursedir.student_id = student
    action = action_cls(coursedir=coursedir, authenticator=Authenticator(config=cfg), config=cfg, **traits)
    try:
        action.start()
    except ExchangeError as exc:
        raise ExchangeFailure(f"{action_cls.__name__} of {assignment!r} with exchange {exchange}: {exc}") from exc


def release_to_exchange(settings: Settings, exchange: Path, assignment: str, force: bool = False) -> Path:
    """generate_assignment (with our leak check), then nbgrader's release_assignment into the exchange."""
    from nbgrader.exchange.default import ExchangeReleaseAssignment

    release.release(settings, [assignment])
    _run(ExchangeReleaseAssignment, settings, exchange, assignment, force=force)
    return exchange / settings.course_id / "outbound" / assignment


def collect(settings: Settings, exchange: Path, assignment: str) -> list[prepare.Submission]:
    """nbgrader's collect --update: every student's newest submission into submitted/."""
    from nbgrader.exchange.default import ExchangeCollect

    _run(ExchangeCollect, settings, exchange, assignment, update=True)
    root = submitted_root(settings)
    return prepare.discover(root, [assignment]) if root.is_dir() else []


def record_timestamps(settings: Settings, subs: list[prepare.Submission]) -> dict[str, float]:
    """Each submission's timestamp.txt into the gradebook; returns seconds late per student."""
    from nbgrader.utils import parse_utc

    use_fast_alembic_head()
    late = {}
    with Gradebook(settings.gradebook_url, settings.course_id) as gb, warnings.catch_warnings():
        # nbgrader's update_or_create_submission trips SQLAlchemy 2's autoflush warning; the rows are
        # written correctly (as in nbgrader_patches.borrowed_gradebook).
        warnings.filterwarnings("ignore", message=".*not in session.*")
        for sub in subs:
            stamp = sub.path / "timestamp.txt"
            if not stamp.is_file():
                continue
            gb.update_or_create_student(sub.student)
            row = gb.update_or_create_submission(sub.assignment, sub.student,
                                                 timestamp=parse_utc(stamp.read_text().strip()))
            late[sub.student] = float(row.total_seconds_late)
    return late


def apply_late_penalties(settings: Settings, subs: list[prepare.Submission]) -> None:
    """nbgrader's AssignLatePenalties for every graded notebook (its plugin decides the penalty)."""
    from nbgrader.preprocessors import AssignLatePenalties

    cfg = settings.nbgrader_config()
    for sub in subs:
        for nb_name in prepare.expected_notebooks(settings, sub.assignment):
            graded = settings.autograded / sub.student / sub.assignment / f"{nb_name}.ipynb"
            if not graded.exists():
                continue
            nb = nbformat.read(graded, as_version=4)
            AssignLatePenalties(config=cfg).preprocess(nb, prepare.resources(settings, sub, nb_name))


def collect_and_grade(settings: Settings, exchange: Path, assignment: str, executor=None,
                      force: bool = False) -> tuple[list[dict], dict[str, float]]:
    """collect, record timestamps, grade what was collected, apply late penalties."""
    if not (settings.release_build / assignment).is_dir():
        release.release(settings, [assignment])
    subs = collect(settings, exchange, assignment)
    if not subs:
        return [], {}
    late = record_timestamps(settings, subs)
    entries = runner.grade(settings, subs, executor, force=force)
    apply_late_penalties(settings, subs)
    return entries, late


def return_feedback(settings: Settings, exchange: Path, assignment: str,
                    students: list[str] | None = None) -> list[str]:
    """Our leak-free feedback HTML, then nbgrader's release_feedback for each collected submission.
    Returns the students whose feedback was released."""
    from nbgrader.exchange.default import ExchangeReleaseFeedback

    root = submitted_root(settings)
    collected = sorted(p.parent.parent.name for p in root.glob(f"*/{assignment}/submission_secret.txt"))
    wanted = [s for s in collected if not students or s in students]
    if not wanted:
        return []
    feedback.generate(settings, wanted)
    released = []
    for student in wanted:
        out = settings.feedback / student / assignment
        if not any(out.glob("*.html")):
            log.warning("%s/%s: no feedback (not graded yet?)", student, assignment)
            continue
        # release_feedback reads these two next to the HTML (nbgrader's generate_feedback copies them).
        for name in ("timestamp.txt", "submission_secret.txt"):
            shutil.copyfile(root / student / assignment / name, out / name)
        _run(ExchangeReleaseFeedback, settings, exchange, assignment, student=student)
        released.append(student)
    return released


def seconds_late(settings: Settings, student: str, assignment: str) -> float:
    with Gradebook(settings.gradebook_url, settings.course_id) as gb:
        try:
            return float(gb.find_submission(assignment, student).total_seconds_late)
        except MissingEntry:
            return 0.0
