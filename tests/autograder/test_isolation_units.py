"""Issue #14, piece by piece and without kernels: the submission intake, the output cap, the cgroups.
(test_isolation.py grades the same attacks end to end in one batch.)"""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import cgroups, intake, prepare
from autograder.outputs import CappedOutputs


# ---------------------------------------------------------------------------------------- intake
@pytest.fixture
def tree(tmp_path):
    sub = tmp_path / "subs" / "mallory" / "a1"
    sub.mkdir(parents=True)
    (sub / "nb.ipynb").write_text("{}")
    (sub / "data").mkdir()
    (sub / "data" / "x.csv").write_text("1,2")
    (sub / ".ipynb_checkpoints").mkdir()
    (sub / ".ipynb_checkpoints" / "nb-checkpoint.ipynb").write_text("old")
    outside = tmp_path / "gradebook.db"
    outside.write_text("SECRET")
    return sub, outside


def test_plain_files_are_read_hidden_ones_skipped(tree):
    sub, _ = tree
    got = intake.read_tree(sub.parent.parent, ("mallory", "a1"))
    assert got.files == {"data/x.csv": b"1,2", "nb.ipynb": b"{}"} and got.refused == []


def test_every_kind_of_special_file_is_refused_by_name(tree):
    sub, outside = tree
    (sub / "grades.txt").symlink_to(outside)
    (sub / "mem.txt").symlink_to("/proc/self/mem")
    (sub / "data" / "up").symlink_to(sub.parent.parent)           # a linked folder: not walked into
    os.link(outside, sub / "hard.txt")
    os.mkfifo(sub / "pipe")
    os.mknod(sub / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(sub / "sock"))
    got = intake.read_tree(sub.parent.parent, ("mallory", "a1"))
    s.close()
    refused = "\n".join(got.refused)
    assert "grades.txt: is a symbolic link to" in refused and "mem.txt: is a symbolic link to '/proc/self/mem'" in refused
    assert "data/up: is a symbolic link" in refused
    assert "hard.txt: is a hard link" in refused
    assert "pipe: is a FIFO" in refused and "zero: is a character device" in refused and "sock: is a socket" in refused
    assert set(got.files) == {"data/x.csv", "nb.ipynb"}
    assert b"SECRET" not in b"".join(got.files.values())


def test_a_link_swapped_in_after_the_check_is_still_not_followed(tree, monkeypatch):
    sub, outside = tree
    (sub / "late.txt").write_text("harmless")
    real_lstat = os.lstat

    def racing_lstat(name, *a, **kw):  # the attacker wins the race between lstat and open
        st = real_lstat(name, *a, **kw)
        if name == "late.txt":
            os.remove(sub / "late.txt")
            (sub / "late.txt").symlink_to(outside)
        return st
    monkeypatch.setattr(os, "lstat", racing_lstat)
    got = intake.read_tree(sub.parent.parent, ("mallory", "a1"))
    assert "late.txt" not in got.files and any(r.startswith("late.txt:") for r in got.refused), got.refused


def test_size_caps(tree, monkeypatch):
    sub, _ = tree
    (sub / "big.bin").write_bytes(b"x" * 5000)
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 4000)
    got = intake.read_tree(sub.parent.parent, ("mallory", "a1"))
    assert "big.bin" not in got.files and any("over the 4000 byte limit" in r for r in got.refused)


def test_discover_reports_linked_student_and_assignment_folders(tmp_path):
    root = tmp_path / "subs"
    (root / "alice" / "a1").mkdir(parents=True)
    (root / "bob").mkdir()
    (root / "bob" / "a1").symlink_to(root / "alice" / "a1")
    (root / "carol").symlink_to(root / "alice")
    found = {s.student: s for s in prepare.discover(root, ["a1"])}
    assert found["alice"].refused == ""
    assert found["bob"].refused.startswith("bob/a1: is a symbolic link")
    assert found["carol"].refused.startswith("carol: is a symbolic link")
    assert found["carol"].files.files == {} and found["bob"].files.files == {}


def test_an_assignment_folder_swapped_for_a_link_after_discover_is_refused(tmp_path):
    root = tmp_path / "subs"
    (root / "alice" / "a1").mkdir(parents=True)
    (root / "eve" / "a1").mkdir(parents=True)
    (root / "alice" / "a1" / "nb.ipynb").write_text("{}")
    sub = next(s for s in prepare.discover(root, ["a1"]) if s.student == "eve")
    (root / "eve" / "a1").rmdir()
    (root / "eve" / "a1").symlink_to(root / "alice" / "a1")
    assert sub.files.files == {} and "a1: is a symbolic link" in sub.refused


# ---------------------------------------------------------------------------------------- output cap
def _msg(msg_type, content, display_id=None):
    if display_id:
        content = {**content, "transient": {"display_id": display_id}}
    return {"msg_type": msg_type, "header": {"msg_type": msg_type}, "parent_header": {"msg_id": "x"},
            "content": content, "metadata": {}}


def _client(per_cell=10_000, per_nb=30_000):
    nb = new_notebook(cells=[new_code_cell("a"), new_code_cell("b"), new_code_cell("c")])
    client = CappedOutputs(nb, per_cell, per_nb)
    client.reset_execution_trackers()   # what nbclient does when a kernel starts
    client.clear_before_next_output = False   # ... and before each cell
    return nb, client


def _feed(client, nb, cell, msg):
    client.process_message(msg, nb.cells[cell], cell)


def test_display_updates_are_capped_like_new_outputs():
    nb, client = _client()
    for i in range(5):
        _feed(client, nb, 0, _msg("display_data", {"data": {"text/plain": f"h{i}"}, "metadata": {}}, f"d{i}"))
    for i in range(5):  # each update rewrites an earlier output in place, 9 KB each: 45 KB into one cell
        _feed(client, nb, 2, _msg("update_display_data", {"data": {"text/plain": "x" * 9000}, "metadata": {}}, f"d{i}"))
    size = len(str(nb.cells[0].outputs))
    assert size < 10_000 + 1000, size
    assert 0 in client.truncated
    assert "truncated by the autograder" in str(nb.cells[0].outputs)


def test_an_honest_display_update_goes_through():
    nb, client = _client()
    _feed(client, nb, 0, _msg("display_data", {"data": {"text/plain": "0%"}, "metadata": {}}, "bar"))
    for pct in (10, 50, 100):
        _feed(client, nb, 0, _msg("update_display_data", {"data": {"text/plain": f"{pct}%"}, "metadata": {}}, "bar"))
    assert nb.cells[0].outputs[0]["data"] == {"text/plain": "100%"} and not client.truncated


def test_the_whole_notebook_is_capped_across_cells():
    nb, client = _client(per_cell=20_000, per_nb=30_000)
    for cell in range(3):
        _feed(client, nb, cell, _msg("stream", {"name": "stdout", "text": "y" * 15_000}))
    total = sum(len(str(c.outputs)) for c in nb.cells)
    assert total < 30_000 + 1000 and 2 in client.truncated
    assert "for the whole notebook" in str(nb.cells[2].outputs)


def test_widget_state_never_reaches_the_notebook():
    nb, client = _client()
    msg = _msg("comm_msg", {"comm_id": "c1", "data": {"state": {"value": "z" * 100_000}}})
    _feed(client, nb, 0, msg)
    assert client.widget_state == {} and nb.cells[0].outputs == []


# ---------------------------------------------------------------------------------------- cgroups
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="cgroups are created by root")


@needs_root
def test_cgroup_caps_pids_and_is_removed_with_everything_inside():
    group = cgroups.create(f"agtest-{os.getpid()}", 256 * 2**20, max_pids=8)
    assert group.layout in ("v1", "v2"), group.notes   # this machine has one of them: say which
    assert not group.notes, group.notes
    code = ("import os, sys, time\n"
            f"[open(f, 'w').write(str(os.getpid())) for f in {group.procs_files!r}]\n"
            "n = 0\n"
            "try:\n"
            "    for _ in range(50):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(60); os._exit(0)\n"
            "        n += 1\n"
            "except OSError:\n"
            "    pass\n"
            "print(n, flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    started = int(proc.stdout.readline())
    assert started < 8, started                       # the cap, not 50
    assert len(group.pids()) == started + 1
    group.remove()
    assert proc.wait(5) == -9
    assert not any(d.exists() for d in group.dirs.values())


@needs_root
def test_a_leftover_group_of_the_same_name_is_replaced():
    name = f"agtest-left-{os.getpid()}"
    first = cgroups.create(name, 64 * 2**20, 4)
    proc = subprocess.Popen([sys.executable, "-c", f"import os,time\n[open(f,'w').write(str(os.getpid())) for f in {first.procs_files!r}]\ntime.sleep(60)"])
    deadline = time.monotonic() + 10
    while not first.pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = cgroups.create(name, 64 * 2**20, 4)      # a killed batch left `first` behind
    assert proc.wait(5) == -9 and second.pids() == []
    second.remove()


def _fake_v2(tmp_path, monkeypatch, own_controllers: str):
    """A cgroup2 tree made of plain files (this machine's controllers are all on v1, so the v2 code
    path is checked on what it reads and writes; the real file system creates these files itself)."""
    root = tmp_path / "unified"
    (root / "grader.service").mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / "grader.service" / "cgroup.controllers").write_text(own_controllers)
    monkeypatch.setattr(cgroups, "_mounts", lambda: [(str(root), "cgroup2", {"rw"})])
    monkeypatch.setattr(cgroups, "_own_paths", lambda: {"": "/grader.service"})
    return root


def test_v2_group_below_the_root_when_the_graders_own_group_cannot_have_children(tmp_path, monkeypatch):
    root = _fake_v2(tmp_path, monkeypatch, own_controllers="")
    group = cgroups.create("agsbx3", 512 * 2**20, max_pids=64)
    assert group.layout == "v2" and group.dirs == {"*": root / "autograder" / "agsbx3"}
    d = group.dirs["*"]
    assert (d / "memory.max").read_text() == str(512 * 2**20)
    assert (d / "pids.max").read_text() == "64" and (d / "cpu.weight").read_text() == "100"
    assert set((root / "autograder" / "cgroup.subtree_control").read_text().split()) == {"+memory", "+pids", "+cpu"}
    assert group.procs_files == [str(d / "cgroup.procs")] and group.notes == []


def test_v2_group_below_the_graders_own_group_when_it_has_the_controllers(tmp_path, monkeypatch):
    root = _fake_v2(tmp_path, monkeypatch, own_controllers="cpu memory pids")
    group = cgroups.create("agsbx0", 2**30, max_pids=128)
    assert group.dirs == {"*": root / "grader.service" / "agsbx0"}


def test_without_any_cgroup_the_report_says_so(monkeypatch):
    monkeypatch.setattr(cgroups, "_mounts", lambda: [])
    kind, parents, notes = cgroups.layout()
    assert kind == "none" and parents == {}
    assert "only per-process rlimits apply" in notes[0]


@needs_root
def test_a_notebook_graded_without_cgroups_carries_the_note(monkeypatch):
    import nbformat
    from autograder.worker import execute_notebook
    monkeypatch.setattr(cgroups, "_mounts", lambda: [])
    nb = new_notebook(cells=[new_code_cell("print(6 * 7)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    result = execute_notebook({"key": "t/a/nb", "nb": nbformat.writes(nb), "files": {}, "cell_timeout": 20,
                               "notebook_timeout": 60, "memory_mb": 1024, "max_output_bytes": 10_000,
                               "sandbox": True, "extra_hidden": []})
    assert result.status == "ok", result.reason
    assert "42" in result.nb
    assert any("no usable cgroup" in n for n in result.notes) and result.peak_memory_mb is None
