"""Typed records (autograder/records.py), the one place for defaults, and the nbgrader patches."""
import json
import pickle
import re
import warnings
from pathlib import Path

import nbgrader
import pytest

from autograder import defaults, nbgrader_patches, runner
from autograder.prepare import Submission
from autograder.records import JournalEntry, NotebookEntry, Result, Task
from autograder.settings import Settings, load_nbgrader_config


def _task(**kw):
    return Task(**{"key": "alice/hw1/nb", "nb": '{"cells": []}', "files": {"data/x.csv": b"1,2\n"}, **kw})


def test_a_task_is_plain_data_that_survives_pickling_with_the_defaults():
    task = _task(snapshot_checks={"cell-1": [{"kind": "value"}]})
    back = pickle.loads(pickle.dumps(task))
    assert back == task and back.files == {"data/x.csv": b"1,2\n"}
    assert (back.cell_timeout, back.notebook_timeout, back.memory_mb, back.max_output_bytes) == (60, 600, 2048, 1_000_000)


def test_a_task_refuses_a_path_or_text_where_content_bytes_belong_and_says_which():
    with pytest.raises(TypeError, match=r"'alice/hw1/nb'.*nb must be the notebook's JSON text.*PosixPath"):
        _task(nb=Path("/course/hw1/nb.ipynb"))
    with pytest.raises(TypeError, match=r"files\['data/x.csv'\] must be bytes, got str"):
        _task(files={"data/x.csv": "1,2"})
    with pytest.raises(TypeError, match=r"unknown field\(s\) \['memory'\]"):
        Task.of({"key": "k", "nb": "{}", "memory": 5})
    assert Task.of({"key": "k", "nb": "{}", "memory_mb": 5}).memory_mb == 5


def test_a_result_pickles_with_its_fields():
    result = Result(key="k", status="kernel_died", reason="kernel died: signal SIGKILL", notes=["no cgroup"])
    assert pickle.loads(pickle.dumps(result)) == result


def _entry():
    return JournalEntry(student="alice", assignment="hw1", digest="abc", graded_at="2026-01-01T00:00:00", notebooks={
        "nb": NotebookEntry(status="ok", flags=["output truncated: cell 3"], seconds=1.5, snapshot_seconds={"checks": 0.1},
                            checks={"q1": {"points": 1.0, "max_points": 2.0, "checks": []}}),
        "other": NotebookEntry(status="not graded", problems=["other.ipynb is missing"])})


def test_a_journal_entry_round_trips_through_json_and_leaves_unset_fields_out():
    entry = _entry()
    text = json.dumps(entry.to_json())
    assert JournalEntry.from_json(json.loads(text)) == entry
    data = json.loads(text)
    assert data["notebooks"]["other"] == {"status": "not graded", "problems": ["other.ipynb is missing"], "flags": []}
    assert data["notebooks"]["nb"]["checks"]["q1"]["points"] == 1.0 and "peak_memory_mb" not in data["notebooks"]["nb"]


def test_an_old_or_broken_journal_reads_as_absent_so_the_submission_is_regraded(tmp_path):
    settings = Settings(source=tmp_path / "source", build=tmp_path / "build")
    sub = Submission("alice", "hw1", tmp_path / "subs" / "alice" / "hw1")
    path = runner.journal_path(settings, sub)
    path.parent.mkdir(parents=True)
    old = _entry().to_json()
    del old["format"]                       # what the untyped runner wrote
    for text in (json.dumps(old), "{not json", json.dumps({**_entry().to_json(), "notebooks": {"nb": {"bogus": 1}}})):
        path.write_text(text)
        assert runner.load_journal(settings, sub) is None, text
    path.write_text(json.dumps(_entry().to_json()))
    assert runner.load_journal(settings, sub) == _entry()
    assert JournalEntry(student="a", assignment="b", digest="d", notebooks={
        "x": NotebookEntry(status="infrastructure error")}).infrastructure_error


def test_the_defaults_are_one_source_for_settings_and_nbgrader_config():
    cfg = load_nbgrader_config()
    assert cfg.ExecutePreprocessor.timeout == defaults.CELL_TIMEOUT_S
    assert (cfg.LimitOutput.max_lines, cfg.LimitOutput.max_traceback) == (defaults.MAX_LINES, defaults.MAX_TRACEBACK)
    assert cfg.Autograder.memory_mb == defaults.MEMORY_MB and cfg.CourseDirectory.course_id == defaults.COURSE_ID
    fields = ("cell_timeout", "notebook_timeout", "memory_mb", "max_output_bytes", "max_lines", "max_traceback")
    from_file = Settings.from_config(source=Path("/nonexistent"))
    plain = Settings(source=Path("/nonexistent"))
    assert [getattr(from_file, f) for f in fields] == [getattr(plain, f) for f in fields] == [
        defaults.CELL_TIMEOUT_S, defaults.NOTEBOOK_TIMEOUT_S, defaults.MEMORY_MB, defaults.MAX_OUTPUT_BYTES,
        defaults.MAX_LINES, defaults.MAX_TRACEBACK]
    assert Settings.from_config(source=Path("/nonexistent"), memory_mb=512).memory_mb == 512


def test_the_fast_alembic_head_is_the_last_migration_nbgrader_ships():
    versions = Path(nbgrader.__file__).parent / "alembic" / "versions"
    revisions, parents = set(), set()
    for f in versions.glob("*.py"):
        text = f.read_text()
        revisions |= set(re.findall(r"^revision\s*=\s*['\"](\w+)['\"]", text, re.M))
        parents |= set(re.findall(r"^down_revision\s*=\s*['\"](\w+)['\"]", text, re.M))
    assert revisions - parents == {nbgrader_patches.fast_alembic_head()}


def test_the_patches_are_installed_on_the_supported_version_and_undone(monkeypatch):
    import nbgrader.api
    from nbgrader.preprocessors import overwritecells

    assert nbgrader.__version__ == nbgrader_patches.SUPPORTED_VERSION   # pyproject.toml pins it
    nbgrader_patches.use_fast_alembic_head()
    assert nbgrader.api.get_alembic_version is nbgrader_patches.fast_alembic_head
    original, gb = overwritecells.Gradebook, object()
    with nbgrader_patches.borrowed_gradebook(gb):
        with overwritecells.Gradebook("sqlite:///ignored") as borrowed:
            assert borrowed is gb
    assert overwritecells.Gradebook is original


def test_on_another_nbgrader_version_each_patch_is_skipped_with_a_warning_that_says_what_is_lost(monkeypatch):
    import nbgrader.api
    from nbgrader.preprocessors import saveautogrades

    monkeypatch.setattr(nbgrader, "__version__", "0.10.0")
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", lambda: "real")
    original = saveautogrades.Gradebook
    with pytest.warns(RuntimeWarning, match=r"nbgrader 0.10.0 is not 0.9.6: patch use_fast_alembic_head skipped; "
                                            r"each new gradebook starts the `alembic` program"):
        nbgrader_patches.use_fast_alembic_head()
    assert nbgrader.api.get_alembic_version() == "real"
    with pytest.warns(RuntimeWarning, match=r"patch borrowed_gradebook skipped; nbgrader's preprocessors open"):
        with nbgrader_patches.borrowed_gradebook(object()):
            assert saveautogrades.Gradebook is original
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.setattr(nbgrader, "__version__", nbgrader_patches.SUPPORTED_VERSION)
        with nbgrader_patches.borrowed_gradebook(object()):
            assert saveautogrades.Gradebook is not original
