"""Command line: python -m autograder {release,autograde,course,feedback,export,ci} --help"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path

from . import course as course_mod
from . import deploy_cli, feedback, prepare, release, report, runner
from .cluster import ClusterError
from .exchange import ExchangeFailure
from .sandbox import SandboxUnavailable
from .settings import (COURSE_SOURCE, SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, Settings,
                       assignments_with_notebooks)

log = logging.getLogger("autograder")
EXIT_INFRA = 2  # CI: the grader, not the student, failed


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", type=Path, help="nbgrader source dir (default: course/, or the sample "
                   "assignment while course/ has no notebooks)")
    p.add_argument("--build", type=Path, help="private build folder (default: .build)")
    p.add_argument("--release-dir", type=Path, help="student release folder (default: release)")
    p.add_argument("--db", help="gradebook URL (default: sqlite:///<build>/gradebook.db; "
                   "env AUTOGRADER_DB_URL); e.g. postgresql://host/grades")
    p.add_argument("-v", "--verbose", action="store_true")


def _grading(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, help="parallel notebooks (default: number of cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="run notebooks on a Dask cluster, e.g. tls://scheduler:8786")
    p.add_argument("--dask-tls-dir", type=Path, help="folder with ca.pem, node.pem, node-key.pem (dask-certs)")
    p.add_argument("--timeout", type=int, help="per-cell timeout in seconds")
    p.add_argument("--notebook-timeout", type=int, help="whole-notebook timeout in seconds")
    p.add_argument("--memory-mb", type=int, help="address-space limit per kernel")
    p.add_argument("--force", action="store_true", help="regrade submissions already in the journal")
    p.add_argument("--assignment", action="append", help="only these assignments (repeatable)")
    p.add_argument("--insecure-no-sandbox", action="store_true",
                   help="run student code as this user without isolation (trusted code only)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="generate student versions into release/")
    _common(p)
    p = sub.add_parser("autograde", help="grade a folder of submissions (<student>/<assignment>/*.ipynb)")
    _common(p)
    _grading(p)
    p.add_argument("submissions", type=Path, nargs="?", default=SAMPLE_SUBMISSIONS)
    p = sub.add_parser("course", help="release, grade reference + sample submissions, check, print table")
    _common(p)
    _grading(p)
    p.add_argument("--write-samples", action="store_true",
                   help="first (re)write the shipped complete/partial/blank submissions from the sources")
    p = sub.add_parser("feedback", help="HTML feedback without hidden tests into <build>/feedback")
    _common(p)
    p.add_argument("--student", action="append")
    p = sub.add_parser("export", help="grades per student/assignment/notebook/cell as CSV and JSON")
    _common(p)
    p.add_argument("--out", type=Path, help="output folder (default: <build>/export)")
    p = sub.add_parser("ci", help="grade one submission; exit non-zero only if the grader fails")
    _common(p)
    _grading(p)
    p.add_argument("submission", type=Path, help="folder with the notebooks (or <assignment>/ sub-folders)")
    p.add_argument("--out", type=Path, default=Path("score.json"))
    p.add_argument("--student", default=os.environ.get("GITHUB_ACTOR") or None)
    deploy_cli.register(sub, _common, _grading, COMMANDS)
    return ap


def settings_from(args) -> Settings:
    return Settings.from_config(
        source=args.source, build=args.build, release=args.release_dir, db_url=args.db,
        jobs=getattr(args, "jobs", None), cell_timeout=getattr(args, "timeout", None),
        notebook_timeout=getattr(args, "notebook_timeout", None), memory_mb=getattr(args, "memory_mb", None),
        sandbox=False if getattr(args, "insecure_no_sandbox", False) else None)


@contextlib.contextmanager
def _executor(args, settings):
    """Created first thing, so that worker start-up overlaps the release and the sanitizing."""
    executor = runner.make_executor(settings.jobs, args.dask, getattr(args, "dask_tls_dir", None))
    try:
        yield executor
    finally:
        runner.shutdown(executor)


def _print_batch(settings: Settings, entries: list[dict], elapsed: float) -> None:
    students = sorted({e["student"] for e in entries})
    rows = report.cell_rows(settings, students=students)
    print(report.table(rows, entries))
    print(f"\n{len(entries)} submission(s) in {elapsed:.1f} s; gradebook {settings.gradebook_url}")


def cmd_release(args) -> int:
    settings = settings_from(args)
    names = release.release(settings)
    print(f"released {', '.join(names)} from {settings.source} into {settings.release}")
    return 0


def _source_for_submissions(args) -> None:
    """Without --source, grade against whichever source dir (course/ or the sample) has the
    assignments found in the submissions folder — so `make autograde` works on the shipped samples
    also once course/ has notebooks."""
    if args.source or not args.submissions.is_dir():
        return
    found = {p.name for s in args.submissions.iterdir() if s.is_dir() for p in s.iterdir() if p.is_dir()}
    for candidate in (COURSE_SOURCE, SAMPLE_SOURCE):
        if found & set(assignments_with_notebooks(candidate)):
            args.source = candidate
            return


def cmd_autograde(args) -> int:
    _source_for_submissions(args)
    settings = settings_from(args)
    with _executor(args, settings) as executor:
        return _autograde(args, settings, executor)


def _autograde(args, settings, executor) -> int:
    names = args.assignment or assignments_with_notebooks(settings.source)
    if not names:
        print(f"error: no assignment with notebooks under {settings.source}", file=sys.stderr)
        return EXIT_INFRA
    if not all((settings.release_build / n).is_dir() for n in names):
        release.release(settings, names)
    root = args.submissions.resolve()
    if root.suffix == ".zip" or (root.is_dir() and any(root.glob("*.zip")) and
                                 not any(p.is_dir() for p in root.iterdir())):
        root = prepare.unpack_zips(root, settings.build / "unzipped", names)
    subs = prepare.discover(root, names)
    if not subs:
        print(f"no submissions for {', '.join(names)} under {args.submissions} "
              "(expected <student>/<assignment>/*.ipynb)")
        return 1
    start = time.monotonic()
    entries = runner.grade(settings, subs, executor, force=args.force,
                           on_done=lambda e: log.info("graded %s/%s", e["student"], e["assignment"]))
    _print_batch(settings, entries, time.monotonic() - start)
    return 0


def cmd_course(args) -> int:
    settings = settings_from(args)
    with _executor(args, settings) as executor:
        return _course(args, settings, executor)


def _course(args, settings, executor) -> int:
    names = release.release(settings, args.assignment)
    if getattr(args, "write_samples", False):
        course_mod.write_samples(settings, names)
        print(f"wrote complete/partial/blank submissions of {', '.join(names)} under autograder/samples/course/")
    if args.source is None and settings.source == SAMPLE_SOURCE.resolve():
        print("note: course/ has no notebooks yet; grading the sample assignment instead")
    subs = course_mod.course_submissions(settings, names)
    start = time.monotonic()
    entries = runner.grade(settings, subs, executor, force=args.force)
    _print_batch(settings, entries, time.monotonic() - start)
    rows = report.cell_rows(settings, students=sorted({s.student for s in subs}), assignments=names)
    problems = course_mod.check_expectations(report.totals(rows), names)
    n_feedback, feedback_problems = course_mod.write_feedback(settings, subs)
    print(f"wrote {n_feedback} feedback file(s) under {settings.feedback}")
    problems += feedback_problems
    for p in problems:
        print(f"COURSE PROBLEM: {p}")
    return 1 if problems else 0


def cmd_feedback(args) -> int:
    settings = settings_from(args)
    written = feedback.generate(settings, args.student)
    print(f"wrote {len(written)} feedback file(s) under {settings.feedback}")
    return 0


def cmd_export(args) -> int:
    settings = settings_from(args)
    csv_path, json_path = report.export(settings, args.out)
    print(f"wrote {csv_path} and {json_path}")
    return 0


def cmd_ci(args) -> int:
    """Grade one student's submission. A low score is a result, not a failure: exit 0. Only a broken
    grader (sandbox unavailable, release failure, a worker crash) exits with EXIT_INFRA."""
    try:
        settings = settings_from(args)
        names = args.assignment or assignments_with_notebooks(settings.source)
        sub_dir = args.submission.resolve()
        student = args.student or sub_dir.name
        subs = [prepare.Submission(student, a, sub_dir / a) for a in names if (sub_dir / a).is_dir()]
        if not subs:  # a flat folder of notebooks: pick the assignment whose notebooks it has
            present = {p.stem for p in sub_dir.glob("*.ipynb")}
            best = max(names, key=lambda a: len(present & {p.stem for p in (settings.source / a).glob("*.ipynb")}))
            subs = [prepare.Submission(student, best, sub_dir)]
        release.release(settings, sorted({s.assignment for s in subs}))
        with _executor(args, settings) as executor:
            entries = runner.grade(settings, subs, executor, force=True)
        result = {"student": student, "assignments": {}}
        infra = []
        for entry in entries:
            score, max_score = report.submission_score(settings, entry["student"], entry["assignment"])
            rows = report.cell_rows(settings, students=[student], assignments=[entry["assignment"]])
            result["assignments"][entry["assignment"]] = {
                "score": score, "max_score": max_score,
                "cells": [{k: r[k] for k in ("notebook", "cell", "score", "max_score")} for r in rows],
                "notebooks": entry["notebooks"]}
            infra += [f"{entry['assignment']}/{nb}" for nb, info in entry["notebooks"].items()
                      if info["status"] == "infrastructure error"]
        result["score"] = sum(a["score"] for a in result["assignments"].values())
        result["max_score"] = sum(a["max_score"] for a in result["assignments"].values())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, sort_keys=True))
        summary = _ci_summary(result)
        print(summary)
        if os.environ.get("GITHUB_STEP_SUMMARY"):
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a") as fh:
                fh.write(summary + "\n")
        if infra:
            print(f"INFRASTRUCTURE FAILURE while grading {', '.join(infra)}", file=sys.stderr)
            return EXIT_INFRA
        return 0
    except Exception as exc:  # noqa: BLE001 - every unexpected failure is the grader's
        traceback.print_exc()
        print(f"INFRASTRUCTURE FAILURE: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INFRA


def _ci_summary(result: dict) -> str:
    lines = [f"## Autograder: {result['student']} — {result['score']:g} / {result['max_score']:g}", ""]
    for name, a in sorted(result["assignments"].items()):
        lines.append(f"### {name}: {a['score']:g} / {a['max_score']:g}")
        for c in a["cells"]:
            lines.append(f"- {c['notebook']} / {c['cell']}: {c['score']:g} / {c['max_score']:g}")
        for nb, info in sorted(a["notebooks"].items()):
            for text in info["problems"] + info["flags"]:
                lines.append(f"- note ({nb}): {text}")
    return "\n".join(lines)


COMMANDS = {"release": cmd_release, "autograde": cmd_autograde, "course": cmd_course,
            "feedback": cmd_feedback, "export": cmd_export, "ci": cmd_ci}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # nbgrader and traitlets are chatty at INFO: their records reach the console only with -v.
    # Our own log (one line per graded submission, skipped assignments) always does.
    noisy = logging.StreamHandler()
    noisy.setLevel(logging.INFO if args.verbose else logging.WARNING)
    logging.basicConfig(handlers=[noisy], format="%(levelname)s %(message)s")
    ours = logging.getLogger("autograder")
    ours.setLevel(logging.INFO)
    ours.propagate = False
    mine = logging.StreamHandler()
    mine.setFormatter(logging.Formatter("%(message)s"))
    ours.addHandler(mine)
    try:
        return COMMANDS[args.command](args)
    except (SandboxUnavailable, release.ReleaseError, prepare.PrepError, feedback.LeakError, ExchangeFailure,
            ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INFRA
