"""The nbgrader exchange round trip with real Unix users: release, fetch, submit, resubmit late,
collect and grade, feedback released, each student fetches only their own."""
from __future__ import annotations

import datetime
import os
from pathlib import Path

from nbgrader.api import Gradebook

from autograder import report
from deploy_support import SAMPLE_SUBMISSIONS, cli, make_settings, settings_args

COURSE = "minigraph-course"
NOTEBOOKS = ("bonus", "warmup")


def _nbgrader(user, exchange: Path, *args: str):
    return user.run("nbgrader", *args, "--course", COURSE, f"--Exchange.root={exchange}")


def _answer(user, kind: str) -> None:
    """The student's answers: one of the shipped sample submissions, written into the fetched folder."""
    for nb in NOTEBOOKS:
        user.write(f"sample/{nb}.ipynb", (SAMPLE_SUBMISSIONS / kind / "sample" / f"{nb}.ipynb").read_bytes())


def _own_cache_stamps(user) -> list[str]:
    cache = user.home / ".local/share/jupyter/nbgrader_cache" / COURSE
    return sorted(p.name.split("+")[2] for p in cache.glob(f"{user.name}+sample+*"))


def test_exchange_round_trip(public_dir, unix_users):
    settings = make_settings(public_dir / "instructor")
    exchange = public_dir / "exchange"
    common, grading = settings_args(settings), settings_args(settings, grading=True)

    res = cli("exchange-release", "sample", "--exchange", str(exchange), *common)
    assert res.returncode == 0, res.stdout + res.stderr
    assert sorted(p.name for p in (exchange / COURSE / "outbound" / "sample").glob("*.ipynb")) == \
        [f"{nb}.ipynb" for nb in NOTEBOOKS]

    alice, bob = unix_users("agexalice"), unix_users("agexbob")
    for user in (alice, bob):
        _nbgrader(user, exchange, "fetch_assignment", "sample")
        fetched = user.home / "sample" / "warmup.ipynb"
        assert fetched.exists() and "YOUR CODE HERE" in fetched.read_text()
        assert "BEGIN SOLUTION" not in fetched.read_text()
    _answer(alice, "partial")
    _nbgrader(alice, exchange, "submit", "sample")
    _answer(bob, "complete")
    _nbgrader(bob, exchange, "submit", "sample")

    # Students cannot see each other's submissions: inbound is write-only for them.
    peek = bob.run("ls", str(exchange / COURSE / "inbound"), check=False)
    assert peek.returncode != 0 and "Permission denied" in peek.stderr

    res = cli("collect-and-grade", "sample", "--exchange", str(exchange), *grading)
    assert res.returncode == 0, res.stdout + res.stderr
    totals = report.totals(report.cell_rows(settings))
    full = totals["agexbob", "sample"]["max_score"]
    scores = {k[0]: v["score"] for k, v in totals.items()}
    assert scores["agexbob"] == full and 0 < scores["agexalice"] < full, scores
    submitted = settings.build / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["agexalice", "agexbob"]

    # The due date passes; alice resubmits her finished work: late, and the newest submission counts.
    due = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with Gradebook(settings.gradebook_url, COURSE) as gb:
        gb.update_or_create_assignment("sample", duedate=due)
    _answer(alice, "complete")
    _nbgrader(alice, exchange, "submit", "sample")
    first, second = _own_cache_stamps(alice)

    res = cli("collect-and-grade", "sample", "--exchange", str(exchange), *grading)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "late: agexalice" in res.stdout and "late: agexbob" not in res.stdout
    rows = report.cell_rows(settings)
    per_student = len(report.cell_rows(settings, students=["agexbob"]))
    assert len(rows) == 2 * per_student, "one row per student and cell: the resubmission replaced, not added"
    scores = {k[0]: v["score"] for k, v in report.totals(rows).items()}
    assert scores == {"agexalice": full, "agexbob": full}
    assert (submitted / "agexalice" / "sample" / "timestamp.txt").read_text() == second
    with Gradebook(settings.gradebook_url, COURSE) as gb:
        sub = gb.find_submission("sample", "agexalice")
        assert sub.timestamp.strftime("%Y-%m-%d %H:%M:%S") in second
        assert sub.total_seconds_late > 0
        assert gb.find_submission("sample", "agexbob").total_seconds_late == 0
        # nbgrader's default LateSubmissionPlugin ('none'): late is recorded, no points taken.
        assert sub.score == full and all(nb.late_submission_penalty is None for nb in sub.notebooks)

    res = cli("exchange-feedback", "sample", "--exchange", str(exchange), *common)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "for 2 student(s)" in res.stdout

    for user in (alice, bob):
        _nbgrader(user, exchange, "fetch_feedback", "sample")
    alice_fb = sorted((alice.home / "sample" / "feedback").rglob("*.html"))
    bob_fb = sorted((bob.home / "sample" / "feedback").rglob("*.html"))
    # alice's feedback is for her newest submission only (the first one was never graded as such).
    assert [p.relative_to(alice.home / "sample" / "feedback").as_posix() for p in alice_fb] == \
        [f"{second}/{nb}.html" for nb in NOTEBOOKS]
    assert [p.parent.name for p in bob_fb] == [_own_cache_stamps(bob)[0]] * 2
    for user, files in ((alice, alice_fb), (bob, bob_fb)):
        for path in files:
            mine = settings.feedback / user.name / "sample" / path.name
            assert path.read_bytes() == mine.read_bytes(), f"{user.name} got someone else's {path.name}"
            assert "Score:" in path.read_text()
    assert (settings.feedback / "agexalice/sample/warmup.html").read_bytes() != \
        (settings.feedback / "agexbob/sample/warmup.html").read_bytes()

    # Nor can a student get another's feedback: the exchange's feedback folder cannot be listed,
    # another's cache (with their submission secret) is in a 0700 home, and asking for bob's
    # feedback by name brings alice nothing of bob's.
    listing = alice.run("ls", str(exchange / COURSE / "feedback"), check=False)
    assert listing.returncode != 0 and "Permission denied" in listing.stderr
    assert alice.run("cat", str(bob.home / ".local/share/jupyter/nbgrader_cache"), check=False).returncode != 0
    os.rename(alice.home / "sample" / "feedback", alice.home / "sample" / "feedback-own")
    alice.run("nbgrader", "fetch_feedback", "sample", "--course", COURSE, f"--Exchange.root={exchange}",
              "--student", "agexbob", check=False)
    got = sorted((alice.home / "sample" / "feedback").rglob("*.html"))  # nothing if the folder is absent
    bob_bytes = {p.read_bytes() for p in bob_fb}
    assert not any(p.read_bytes() in bob_bytes for p in got)


def test_late_penalty_follows_nbgrader_plugin_config(public_dir, monkeypatch):
    """A late submission's time stamp is recorded and nbgrader's LateSubmissionPlugin decides the
    penalty: 'none' (the default) keeps the points, 'zero' takes them (set in nbgrader_config.py)."""
    import shutil

    from autograder import exchange, prepare, release

    settings = make_settings(public_dir / "late")
    release.release(settings, ["sample"])
    sub_dir = settings.build / "submitted" / "latecomer" / "sample"
    shutil.copytree(SAMPLE_SUBMISSIONS / "complete" / "sample", sub_dir)
    (sub_dir / "timestamp.txt").write_text("2030-01-02 03:04:05.000000 UTC")
    with Gradebook(settings.gradebook_url, COURSE) as gb:
        gb.update_or_create_assignment("sample", duedate=datetime.datetime(2030, 1, 1))
    sub = prepare.Submission("latecomer", "sample", sub_dir)
    late = exchange.record_timestamps(settings, [sub])
    assert late == {"latecomer": 97445.0}  # 1 day, 3 h 4 min 5 s
    with Gradebook(settings.gradebook_url, COURSE) as gb:  # as if graded: full marks on one notebook
        for grade in gb.find_submission_notebook("bonus", "sample", "latecomer").grades:
            grade.auto_score = grade.max_score
        gb.db.commit()
    for nb in NOTEBOOKS:  # the graded copies apply_late_penalties walks over
        dest = settings.autograded / "latecomer" / "sample" / f"{nb}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sub_dir / f"{nb}.ipynb", dest)

    def penalties():
        with Gradebook(settings.gradebook_url, COURSE) as gb:
            return gb.find_submission_notebook("bonus", "sample", "latecomer").late_submission_penalty

    exchange.apply_late_penalties(settings, [sub])
    assert penalties() is None, "nbgrader's default: late, but no penalty"
    config = settings.nbgrader_config

    def zero_penalty_config():
        cfg = config()
        cfg.LateSubmissionPlugin.penalty_method = "zero"
        return cfg

    monkeypatch.setattr(type(settings), "nbgrader_config", lambda self: zero_penalty_config())
    exchange.apply_late_penalties(settings, [sub])
    with Gradebook(settings.gradebook_url, COURSE) as gb:
        bonus = gb.find_submission_notebook("bonus", "sample", "latecomer")
        assert bonus.score > 0 and penalties() == bonus.score, "'zero' takes every point of a late notebook"
