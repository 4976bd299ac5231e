"""A batch: sanitize in the writer process, execute on any concurrent.futures.Executor, write back.

    grade(settings, submissions, executor)   # ProcessPoolExecutor, Dask's client.get_executor(), ...

The parent process is the only one that opens the gradebook (nbgrader's SQLite gradebook is not safe
for concurrent writers); workers get a notebook as text and return it executed. Each finished
submission is recorded in a journal *after* its scores are committed, so a batch killed at any point
and started again regrades exactly the submissions without a journal entry — nothing lost, and
nothing doubled because nbgrader's update_or_create keeps one row per student/assignment/cell.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from . import prepare, sandbox, scoring
from .prepare import PreparedNotebook, Submission
from .nbgrader_patches import borrowed_gradebook, use_fast_alembic_head
from .records import JournalEntry, NotebookEntry, Result, Task
from .settings import Settings
from .worker import execute_notebook, warm_up

log = logging.getLogger("autograder")


class InlineExecutor(cf.Executor):
    """Runs each task at submit time in this process: the sequential reference path (--jobs 1)."""

    def submit(self, fn, /, *args, **kwargs):
        fut = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            fut.set_exception(exc)
        return fut


def make_executor(jobs: int, dask_address: str | None = None, dask_tls_dir: str | None = None) -> cf.Executor:
    if dask_address:
        from .cluster import DaskExecutor
        return DaskExecutor(dask_address, dask_tls_dir)
    if jobs <= 1:
        return InlineExecutor()
    # spawn: workers start clean, without the parent's gradebook connections or threads.
    pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
    # Start every worker now (each one imports the kernel machinery, ~1-2 s of CPU) so that this
    # overlaps with the parent's own start-up work instead of delaying the first notebooks.
    for _ in range(jobs):
        pool.submit(warm_up)
    return pool


def shutdown(executor: cf.Executor) -> None:
    """Stop an executor we created (a DaskExecutor closes its own client)."""
    if isinstance(executor, cf.ProcessPoolExecutor):
        executor.shutdown(wait=True, cancel_futures=True)
    else:
        executor.shutdown(wait=True)


def journal_path(settings: Settings, sub: Submission) -> Path:
    return settings.journal / sub.assignment / f"{sub.student}.json"


def load_journal(settings: Settings, sub: Submission) -> JournalEntry | None:
    """The submission's journal entry; None when absent or unreadable (an older format included):
    the submission is then graded again."""
    try:
        return JournalEntry.from_json(json.loads(journal_path(settings, sub).read_text()))
    except (OSError, ValueError):
        return None


@dataclass
class _InProgress:
    """A submission between sanitizing and its journal entry: what the writer process keeps while
    the workers run its notebooks."""
    entry: JournalEntry
    prepared: dict[str, PreparedNotebook] = field(default_factory=dict)
    specs: dict[str, dict] = field(default_factory=dict)   # scoring.split_notebook's checks per notebook
    waiting: int = 0                  # notebooks sent to workers and not back yet


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def lock_down(settings: Settings) -> None:
    """Defence in depth behind the jail: instructor-only folders are not world-accessible."""
    settings.build.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.build, 0o700)
    if settings.gradebook_url.startswith("sqlite:///"):
        db = Path(settings.gradebook_url[len("sqlite:///"):])
        if db.exists():
            os.chmod(db, 0o600)


def grade(settings: Settings, submissions: list[Submission], executor: cf.Executor | None = None,
          force: bool = False, on_done=None) -> list[dict]:
    """Grade submissions; return one report entry per submission (graded now or earlier), in the
    journal's JSON form (JournalEntry.to_json()), which is also what on_done receives."""
    use_fast_alembic_head()
    own_executor = executor is None
    executor = executor or make_executor(settings.jobs)
    try:
        return [entry.to_json() for entry in _grade(settings, submissions, executor, force, on_done)]
    finally:
        if own_executor:
            shutdown(executor)


def _grade(settings, submissions, executor, force, on_done) -> list[JournalEntry]:
    roots = sorted({s.path.parent.parent for s in submissions})
    lock_down(settings)
    hidden = [str(settings.build), str(settings.source), *map(str, roots)]
    if settings.sandbox:
        sandbox.preflight(hidden)
    digests = {s.key: _digest(s, settings) for s in submissions}
    entries: dict[str, JournalEntry] = {}
    pending = []
    in_gradebook = _graded_in_gradebook(settings)
    for sub in submissions:
        done = load_journal(settings, sub)
        fresh = done is not None and done.digest == digests[sub.key]
        if not force and fresh and (sub.student, sub.assignment) in in_gradebook:
            entries[sub.key] = done
        else:
            pending.append(sub)
    if not pending:
        return [entries[s.key] for s in submissions]
    log.info("grading %d submission(s), %d already graded", len(pending), len(submissions) - len(pending))
    with Gradebook(settings.gradebook_url, settings.course_id) as gb, borrowed_gradebook(gb):
        futures, state = {}, {}

        def collect(fut):
            sub, nb_name = futures.pop(fut)
            work = state[sub.key]
            _record(gb, settings, sub, nb_name, fut, work)
            work.waiting -= 1
            if work.waiting == 0:
                _finish(settings, sub, work.entry, entries, on_done)

        for sub in pending:
            work = _start_submission_contained(gb, settings, sub, digests[sub.key])
            state[sub.key] = work
            prepared_notebooks, work.prepared = work.prepared, {}   # the sanitized copies are not kept
            for nb_name, prepared in prepared_notebooks.items():
                if prepared.nb is None:
                    continue
                task = _task(settings, sub, nb_name, prepared.nb, hidden, scoring.wire(work.specs[nb_name]))
                futures[executor.submit(execute_notebook, task)] = (sub, nb_name)
            if work.waiting == 0:
                _finish(settings, sub, work.entry, entries, on_done)
            # Record whatever has finished already (everything, for the in-process executor), so
            # the journal grows while we go and a killed batch keeps its finished submissions.
            for fut in [f for f in futures if f.done()]:
                collect(fut)
        for fut in cf.as_completed(list(futures)):
            collect(fut)
    return [entries[s.key] for s in submissions]


def _graded_in_gradebook(settings: Settings) -> set[tuple[str, str]]:
    """(student, assignment) pairs the gradebook holds: a journal entry only counts if the gradebook
    agrees (it may have been reset or replaced since)."""
    with Gradebook(settings.gradebook_url, settings.course_id) as gb:
        return {(sub.student.id, a.name) for a in gb.assignments for sub in a.submissions}


def _task(settings, sub, nb_name, nb, hidden, snapshot_checks) -> Task:
    return Task(key=f"{sub.key}/{nb_name}", nb=nbformat.writes(nb), files=prepare.support_files(settings, sub),
                cell_timeout=settings.cell_timeout, notebook_timeout=settings.notebook_timeout,
                memory_mb=settings.memory_mb, max_output_bytes=settings.max_output_bytes,
                sandbox=settings.sandbox, extra_hidden=list(hidden), snapshot_checks=snapshot_checks)


def _digest(sub: Submission, settings: Settings) -> str:
    """One unreadable submission must not stop the batch: it is reported and scores 0."""
    try:
        return prepare.submission_digest(sub, settings)
    except Exception as exc:  # noqa: BLE001 - whatever it was, it is this submission's alone
        sub.refused = f"{sub.key}: could not be read ({type(exc).__name__}: {exc})"[:500]
        log.warning("%s", sub.refused)
        return "unreadable:" + sub.refused


def _start_submission_contained(gb, settings: Settings, sub: Submission, digest: str) -> _InProgress:
    """_start_submission, plus the report lines for refused files; if preparing this submission fails,
    it alone gets an infrastructure error (not journaled, so the next run tries again)."""
    try:
        work = _start_submission(gb, settings, sub, digest)
    except Exception as exc:  # noqa: BLE001
        gb.db.rollback()
        reason = f"could not be prepared: {type(exc).__name__}: {exc}"[:500]
        log.warning("%s: %s", sub.key, reason)
        entry = JournalEntry(student=sub.student, assignment=sub.assignment, digest=digest)
        for nb_name in prepare.expected_notebooks(settings, sub.assignment):
            entry.notebooks[nb_name] = NotebookEntry(status="infrastructure error", problems=[reason])
        return _InProgress(entry)
    refused = prepare.refused_files(sub, list(work.entry.notebooks))
    for info in work.entry.notebooks.values():
        info.flags += refused
    return work


def _start_submission(gb, settings: Settings, sub: Submission, digest: str) -> _InProgress:
    gb.update_or_create_student(sub.student)
    gb.update_or_create_submission(sub.assignment, sub.student)
    work = _InProgress(JournalEntry(student=sub.student, assignment=sub.assignment, digest=digest))
    for nb_name in prepare.expected_notebooks(settings, sub.assignment):
        prepared = prepare.sanitize(settings, sub, nb_name)
        info = work.entry.notebooks[nb_name] = NotebookEntry(
            status="ok" if prepared.nb is not None else "not graded",
            problems=[prepared.problem] if prepared.problem else [], flags=prepared.flags)
        work.prepared[nb_name] = prepared
        if prepared.nb is not None:
            # Hidden tests leave the notebook here; their checks stay in this process (scoring.py).
            work.specs[nb_name], problems = scoring.split_notebook(prepared.nb, f"{sub.assignment}/{nb_name}")
            info.problems += problems
        if prepared.nb is None:
            prepare.zero_scores(gb, sub, nb_name)
        else:
            work.waiting += 1
    return work


def _record(gb, settings: Settings, sub: Submission, nb_name: str, fut: cf.Future, work: _InProgress) -> None:
    info = work.entry.notebooks[nb_name]
    try:
        result: Result = fut.result()
    except Exception as exc:  # the worker itself failed (not the student's code): say so, score 0
        info.status = "infrastructure error"
        info.problems.append(f"{type(exc).__name__}: {exc}"[:500])
        prepare.zero_scores(gb, sub, nb_name)
        return
    nb = nbformat.reads(result.nb, as_version=4)
    if result.status != "ok":
        info.status = result.status
        info.problems.append(result.reason)
    if result.timed_out:
        info.flags.append(f"timed out after {settings.cell_timeout} s: {', '.join(result.timed_out)}")
    if result.truncated:
        info.flags.append(f"output truncated: {', '.join(result.truncated)}")
    info.seconds = result.seconds
    info.snapshot_seconds = result.snapshot_seconds
    info.flags += result.notes   # limits the sandbox could not apply, out-of-memory kills
    info.peak_memory_mb = result.peak_memory_mb
    nb = prepare.save_scores(settings, sub, nb_name, nb)
    info.checks = scoring.score_notebook(gb, sub, nb_name, nb, work.specs[nb_name], result.snapshots, result.reason)
    out = settings.autograded / sub.student / sub.assignment / f"{nb_name}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)


def _finish(settings: Settings, sub: Submission, entry: JournalEntry, entries: dict, on_done) -> None:
    entry.graded_at = time.strftime("%Y-%m-%dT%H:%M:%S")
    if entry.infrastructure_error:
        # Not a result: leave it out of the journal so that the next run grades it again.
        log.warning("%s: infrastructure error; it will be regraded on the next run", sub.key)
    else:
        _write_atomic(journal_path(settings, sub), json.dumps(entry.to_json(), indent=1))
    entries[sub.key] = entry
    if on_done:
        on_done(entry.to_json())
