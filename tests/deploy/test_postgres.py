"""The gradebook on a real PostgreSQL server (initdb + pg_ctl in a temp folder, Unix socket only):
the same export as SQLite, two graders at once, a killed grader that loses nothing."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
import sqlalchemy as sa

from autograder.pgserver import PrivateServer, ensure_installed
from deploy_support import (PY, REPO_ROOT, SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, cli, make_settings, public_tmp,
                            settings_args)

STUDENTS = ("complete", "partial", "blank")


@pytest.fixture(scope="module")
def pg():
    ensure_installed()
    base = public_tmp("pg")  # the server's own (unprivileged) user must reach its folder
    server = PrivateServer(base / "server")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    root = tmp_path_factory.mktemp("subs") / "submitted"
    for student in STUDENTS:
        shutil.copytree(SAMPLE_SUBMISSIONS / student, root / student)
    shutil.copytree(SAMPLE_SUBMISSIONS / "complete", root / "complete2")
    return root


def _grade(settings, subs, db=None, extra=()):
    args = ["autograde", str(subs), *settings_args(settings, grading=True), *extra]
    return cli(*args, *(["--db", db] if db else []))


def _export(settings, db=None) -> dict[str, str]:
    out = settings.build / "export"
    res = cli("export", *settings_args(settings), "--out", str(out), *(["--db", db] if db else []))
    assert res.returncode == 0, res.stderr[-2000:]
    return {name: (out / name).read_text() for name in ("grades.csv", "grades.json")}


@pytest.fixture(scope="module")
def sqlite_export(tmp_path_factory, submissions):
    settings = make_settings(tmp_path_factory.mktemp("sqlite"))
    res = _grade(settings, submissions)
    assert res.returncode == 0, res.stderr[-2000:]
    return _export(settings)


def test_private_server_listens_on_a_unix_socket_only(pg):
    engine = sa.create_engine(pg.url())
    with engine.connect() as conn:
        addr, user, listen = conn.execute(sa.text(
            "SELECT inet_server_addr(), current_user, current_setting('listen_addresses')")).one()
    engine.dispose()
    assert addr is None and listen == "", "the server must not listen on TCP"
    assert user == "grader"
    owner = os.stat(pg.data).st_uid
    assert owner != 0, "PostgreSQL runs as an unprivileged user"
    assert any(p.name.startswith(".s.PGSQL.") for p in pg.socket_dir.iterdir())


def test_same_export_as_sqlite(tmp_path, pg, submissions, sqlite_export):
    url = pg.create_database("same_export")
    settings = make_settings(tmp_path)
    res = _grade(settings, submissions, url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "postgresql+psycopg" in res.stdout
    assert not (settings.build / "gradebook.db").exists(), "--db was ignored"
    assert _export(settings, url) == sqlite_export


def test_two_graders_writing_at_once(tmp_path, pg, submissions, sqlite_export):
    """Two graders (their own build folders, as on two machines) share one gradebook and run at the
    same time, each on half of the class; the result is the one-grader result."""
    url = pg.create_database("two_graders")
    halves = [("complete", "partial"), ("blank", "complete2")]
    procs = []
    for i, half in enumerate(halves):
        part = tmp_path / f"half{i}"
        for student in half:
            shutil.copytree(submissions / student, part / student)
        settings = make_settings(tmp_path / f"grader{i}", jobs=1)
        args = ["autograde", str(part), *settings_args(settings, grading=True), "--db", url]
        procs.append(subprocess.Popen([PY, "-m", "autograder", *args], cwd=REPO_ROOT, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    assert _export(make_settings(tmp_path / "grader0"), url) == sqlite_export


def test_killed_grader_loses_nothing(tmp_path, pg, submissions, sqlite_export):
    url = pg.create_database("killed")
    settings = make_settings(tmp_path, jobs=1)
    args = ["autograde", str(submissions), *settings_args(settings, grading=True), "--db", url]
    proc = subprocess.Popen([PY, "-m", "autograder", *args], cwd=REPO_ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = settings.journal / "sample"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and len(list(journal.glob("*.json"))) < 2:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the grader, its workers and kernels, mid-batch
    proc.wait()
    first = {p.name: p.read_text() for p in journal.glob("*.json")}
    assert 2 <= len(first) < len(STUDENTS) + 1, "the kill should land mid-batch"
    again = cli(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    after = {p.name: p.read_text() for p in journal.glob("*.json")}
    assert len(after) == len(STUDENTS) + 1
    assert all(after[name] == text for name, text in first.items()), "finished work was redone"
    assert _export(settings, url) == sqlite_export


def test_release_on_a_second_machine_leaves_the_gradebook_alone(tmp_path, pg):
    """nbgrader's generate_assignment deletes and re-creates an assignment's cells while it has no
    submissions, which pulls them from under a grader that is starting on it. A second grader's
    release of the same assignment must not touch the gradebook; a changed one still updates it."""
    from nbgrader.api import Gradebook

    from autograder import release

    url = pg.create_database("second_release")

    def cell_ids():
        """Each row's id and xmin (the transaction that last wrote it): a row deleted and inserted
        again, as plain nbgrader does here, keeps its id but not its xmin."""
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            rows = sorted(tuple(map(str, row)) for table in ("notebook", "base_cell", "source_cell")
                          for row in conn.execute(sa.text(f"SELECT '{table}', id, xmin FROM {table}")))
        engine.dispose()
        return rows

    release.release(make_settings(tmp_path / "first", db_url=url), ["sample"])
    before = cell_ids()
    assert before, "the first release writes the assignment"
    release.release(make_settings(tmp_path / "second", db_url=url), ["sample"])
    assert cell_ids() == before
    assert (tmp_path / "second" / "build" / "release" / "sample" / "warmup.ipynb").exists()

    changed = tmp_path / "changed_source"
    shutil.copytree(SAMPLE_SOURCE, changed)
    text = (changed / "sample" / "bonus.ipynb").read_text()
    (changed / "sample" / "bonus.ipynb").write_text(text.replace('"points": 1', '"points": 2', 1))
    release.release(make_settings(tmp_path / "third", db_url=url, source=changed), ["sample"])
    with Gradebook(url, "minigraph-course") as gb:
        assert 2 in {c.max_score for c in gb.find_notebook("bonus", "sample").grade_cells}, \
            "a changed assignment is written as nbgrader would"
