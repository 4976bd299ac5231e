"""The other ways through the runner: sequential, Dask, killed-and-resumed, CI, another gradebook URL."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from autograder import prepare, release, report, runner
from autograder.settings import REPO_ROOT, SAMPLE_SUBMISSIONS


PY = sys.executable
SAME_AS_BATCH = ("complete", "partial", "blank", "tampered", "os_exit", "custom_exc")


def _cli(*args, timeout=300, **kw):
    return subprocess.run([PY, "-m", "autograder", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, **kw)


def test_sequential_path_gives_the_same_gradebook(graded, tmp_path, make_settings):
    """--jobs 1 (in-process, like plain nbgrader) and the parallel pool agree cell for cell."""
    settings = make_settings(tmp_path, jobs=1)
    release.release(settings, ["sample"])
    subs = [s for s in prepare.discover(SAMPLE_SUBMISSIONS, ["sample"]) if s.student in SAME_AS_BATCH]
    entries = runner.grade(settings, subs, runner.InlineExecutor())
    sequential = report.cell_rows(settings)
    parallel = [r for r in graded["rows"] if r["student"] in SAME_AS_BATCH]
    assert sequential == parallel
    flags = {e["student"]: e["notebooks"] for e in entries}
    for student in SAME_AS_BATCH:
        for nb in ("warmup", "bonus"):
            ours = flags[student][nb]
            theirs = graded["entries"][student]["notebooks"][nb]
            assert (ours["problems"], ours["flags"], ours["status"]) == \
                   (theirs["problems"], theirs["flags"], theirs["status"])


def test_dask_scheduler_address(tmp_path, small_submissions, make_settings):
    """`--dask tcp://...`: the CLI hands notebooks to a Dask cluster through Client.get_executor().
    The cluster lives in this test process (a worker thread), reachable over local TCP."""
    distributed = pytest.importorskip("distributed")
    settings = make_settings(tmp_path)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        res = _cli("autograde", str(small_submissions), "--source", str(settings.source), "--build",
                   str(settings.build), "--release-dir", str(settings.release), "--timeout", "6",
                   "--dask", cluster.scheduler_address)
        prefixes = set(cluster.scheduler.task_prefixes)
    assert res.returncode == 0, res.stderr[-2000:]
    totals = report.totals(report.cell_rows(settings))
    assert {k[0]: v["score"] for k, v in totals.items()} == {"complete": 6, "partial": 2, "blank": 0}
    assert "execute_notebook" in prefixes, f"the notebooks did not run on the Dask cluster: {prefixes}"


def test_killed_batch_resumes_without_losing_or_doubling(tmp_path, small_submissions, make_settings):
    for extra in ("complete2", "partial2"):
        shutil.copytree(small_submissions / extra[:-1], small_submissions / extra)
    settings = make_settings(tmp_path)
    args = ["autograde", str(small_submissions), "--source", str(settings.source), "--build",
            str(settings.build), "--release-dir", str(settings.release), "--jobs", "1", "--timeout", "6"]
    proc = subprocess.Popen([PY, "-m", "autograder", *args], cwd=REPO_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = settings.journal / "sample"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(journal.glob("*.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole batch, workers and kernels included
    proc.wait()
    first = {p.name: p.read_text() for p in journal.glob("*.json")}
    assert 2 <= len(first) < 5, "the kill should land mid-batch"
    done = _cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    after = {p.name: p.read_text() for p in journal.glob("*.json")}
    assert len(after) == 5
    assert all(after[name] == text for name, text in first.items()), "finished work was redone"
    rows = report.cell_rows(settings)
    assert len(rows) == 5 * 3, "each student × cell exactly once"
    totals = {k[0]: v["score"] for k, v in report.totals(rows).items()}
    assert totals == {"complete": 6, "complete2": 6, "partial": 2, "partial2": 2, "blank": 0}


def test_ci_command(tmp_path, make_settings):
    flat = tmp_path / "student-repo"
    shutil.copytree(SAMPLE_SUBMISSIONS / "partial" / "sample", flat)
    settings = make_settings(tmp_path / "ci")
    db = tmp_path / "elsewhere" / "grades.db"
    db.parent.mkdir()
    out = tmp_path / "score.json"
    res = _cli("ci", str(flat), "--out", str(out), "--source", str(settings.source), "--build", str(settings.build),
               "--release-dir", str(settings.release), "--db", f"sqlite:///{db}", "--student", "alice",
               "--timeout", "6")
    assert res.returncode == 0, res.stderr[-2000:]  # a low score is not a CI failure
    score = json.loads(out.read_text())
    assert (score["student"], score["score"], score["max_score"]) == ("alice", 2, 6)
    assert "alice" in res.stdout and "2 / 6" in res.stdout
    assert db.exists() and not (settings.build / "gradebook.db").exists(), "--db was ignored"
    broken = _cli("ci", str(flat), "--out", str(tmp_path / "x.json"), "--source", str(tmp_path / "nowhere"),
                  "--build", str(settings.build))
    assert broken.returncode == 2 and "INFRASTRUCTURE FAILURE" in broken.stderr
