"""Issue #14: every row of its attack table, graded in ONE batch next to an honest student.

Hostile students are generated here from the complete sample: each keeps the right `square` (2 points)
and replaces its `mean` answer with an attack, and hands in no bonus notebook. So an attack that gains
nothing leaves its author with at most 2 / 6, while the honest student must keep full marks. Files the
submission intake must refuse (links, FIFOs, devices, sockets, hard links) are made here too.
Every probe sends traffic only to 127.0.0.1 or Unix sockets this test made.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import stat
from pathlib import Path

import nbformat
import pytest
from conftest import _make_settings

from autograder import prepare, release, report, runner
from autograder.settings import SAMPLE_SOURCE, SAMPLE_SUBMISSIONS

import isolation_attacks as attacks

MEMORY_MB = 1024            # conftest.TEST_LIMITS: the notebook's memory, all its processes together
HONEST_FULL = 6


def _hostile_warmup(attack: str) -> nbformat.NotebookNode:
    nb = nbformat.read(SAMPLE_SUBMISSIONS / "complete" / "sample" / "warmup.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "mean"]
    assert cells, "the sample's warmup has no `mean` answer cell to attack from"
    cells[0].source = attack
    return nb


def _student(root: Path, name: str, attack: str | None = None, bonus: bool = False,
             more_cells: tuple[str, ...] = ()) -> Path:
    folder = root / name / "sample"
    folder.mkdir(parents=True)
    if attack is not None:
        nb = _hostile_warmup(attack)
        nb.cells += [nbformat.v4.new_code_cell(src) for src in more_cells]
        nbformat.write(nb, folder / "warmup.ipynb")
    if bonus:
        shutil.copy(SAMPLE_SUBMISSIONS / "complete" / "sample" / "bonus.ipynb", folder / "bonus.ipynb")
    return folder


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("isolation")
    settings = _make_settings(base)
    release.release(settings, ["sample"])
    token = secrets.token_hex(6)
    plant = {"build": f"GRADEBOOK-SECRET-{token}", "hard": f"OUTSIDE-SECRET-{token}",
             "honest": f"HONEST-SECRET-{token}"}
    (settings.build / "secret.txt").write_text(plant["build"])
    outside = base / "outside.txt"
    outside.write_text(plant["hard"])

    root = base / "submitted"
    # The honest student, with a secret in a comment of its own answer.
    honest = root / "b_honest" / "sample"
    shutil.copytree(SAMPLE_SUBMISSIONS / "complete" / "sample", honest)
    nb = nbformat.read(honest / "warmup.ipynb", as_version=4)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "square").source += \
        f"\n# {plant['honest']}"
    nbformat.write(nb, honest / "warmup.ipynb")

    # Files in: folders and files that are not the student's own plain files.
    (root / "link_assignment").mkdir()
    (root / "link_assignment" / "sample").symlink_to(SAMPLE_SOURCE / "sample")   # the solutions
    (root / "link_student").symlink_to(root / "b_honest")
    link_nb = _student(root, "link_notebook", bonus=True)
    (link_nb / "warmup.ipynb").symlink_to(honest / "warmup.ipynb")
    specials = _student(root, "specials", bonus=True)
    nb = nbformat.read(SAMPLE_SUBMISSIONS / "complete" / "sample" / "warmup.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(attacks.read_everything()))   # full answers + the reader
    nbformat.write(nb, specials / "warmup.ipynb")
    (specials / "grades.txt").symlink_to(settings.build / "gradebook.db")
    (specials / "notes.txt").symlink_to(settings.build / "secret.txt")
    (specials / "source.txt").symlink_to(SAMPLE_SOURCE / "sample" / "warmup.ipynb")
    (specials / "data.txt").symlink_to("/proc/self/mem")
    os.link(outside, specials / "hard.txt")
    os.mkfifo(specials / "pipe.txt")
    os.mknod(specials / "zero.dev", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: endless if read
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(specials / "sock"))
    (specials / "own.txt").write_text("the student's own data file")

    # Network: a TCP listener on the host's 127.0.0.1, an abstract Unix socket, a path socket in /tmp.
    tcp = socket.create_server(("127.0.0.1", 0))
    tcp.setblocking(False)
    abstract = socket.socket(socket.AF_UNIX)
    abstract_name = f"autograder-test-{token}"
    abstract.bind("\0" + abstract_name)
    abstract.listen(8)
    abstract.setblocking(False)
    sock_dir = Path(f"/tmp/autograder-test-{token}")
    sock_dir.mkdir(mode=0o777)
    os.chmod(sock_dir, 0o777)
    path_sock = socket.socket(socket.AF_UNIX)
    path_sock.bind(str(sock_dir / "grader.sock"))
    os.chmod(sock_dir / "grader.sock", 0o777)
    path_sock.listen(8)
    path_sock.setblocking(False)

    shm_key = int(token[:6], 16) | 0x10000000
    lock_file = f"/run/lock/autograder-test-{token}"
    _student(root, "net", attack=attacks.net_probe(tcp.getsockname()[1], abstract_name,
                                                   str(sock_dir / "grader.sock")))
    fork, collect = attacks.fork_memory(children=8, mib=180)
    _student(root, "fork_memory", attack=fork, more_cells=(collect,))
    # First in line, and alive for ~20 s: the honest student's two notebooks (next in line) run meanwhile.
    _student(root, "a_spinner", attack=attacks.spinners(245), more_cells=(attacks.keep_alive(5),) * 4)
    _student(root, "disk", attack=attacks.disk_fill(files=20, mib=250))
    _student(root, "display", attack=attacks.display_flood(handles=20, mib=5))
    _student(root, "leftover", attack=attacks.leave_behind(lock_file, shm_key, token))
    _student(root, "zz_spy", attack=attacks.spy(lock_file, shm_key))

    subs = prepare.discover(root, ["sample"])
    entries = runner.grade(settings, subs)
    accepted = {}
    for name, s in (("tcp", tcp), ("abstract", abstract), ("path", path_sock)):
        try:
            s.accept()
            accepted[name] = True
        except BlockingIOError:
            accepted[name] = False
    host_after = {"lock_file": os.path.exists(lock_file), "shm_keys": _host_shm_keys()}
    for s in (tcp, abstract, path_sock, listening):
        s.close()
    shutil.rmtree(sock_dir, ignore_errors=True)
    rows = report.cell_rows(settings)
    return {"settings": settings, "entries": {e["student"]: e for e in entries}, "totals": report.totals(rows),
            "rows": rows, "plant": plant, "accepted": accepted, "host_after": host_after, "shm_key": shm_key,
            "lock_file": lock_file, "token": token}


def _host_shm_keys() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines if line.split()}


def score(batch, student) -> float:
    return batch["totals"][(student, "sample")]["score"]


def notes(batch, student, notebook="warmup") -> str:
    info = batch["entries"][student]["notebooks"][notebook]
    return " | ".join(info["problems"] + info["flags"])


def outputs_text(batch, student, notebook="warmup") -> str:
    path = batch["settings"].autograded / student / "sample" / f"{notebook}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells])


def probe(batch, student, tag) -> dict:
    """The JSON line the attack printed (`TAG {...}`); fails if the attack did not get that far."""
    path = batch["settings"].autograded / student / "sample" / "warmup.ipynb"
    nb = nbformat.read(path, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "stream")
    found = re.search("^" + tag + r" (\{.*\})$", text, re.M)
    assert found, f"{student}: the attack printed no {tag} line, so this test proves nothing:\n{outputs_text(batch, student)[:3000]}"
    return json.loads(found.group(1))


# ---------------------------------------------------------------------------------------- honest students
def test_honest_student_keeps_full_marks_in_a_hostile_batch(batch):
    assert score(batch, "b_honest") == HONEST_FULL, notes(batch, "b_honest")
    for nb in ("warmup", "bonus"):
        info = batch["entries"]["b_honest"]["notebooks"][nb]
        assert info["status"] == "ok" and not info["problems"], info
        assert not [f for f in info["flags"] if "timed out" in f or "truncated" in f], info


def test_every_attacker_is_graded_and_gains_nothing(batch):
    attackers = ["net", "fork_memory", "a_spinner", "disk", "display", "leftover", "zz_spy"]
    for student in attackers:
        # square (2 points) is the only answer they gave; mean's cell was the attack, bonus missing.
        assert score(batch, student) <= 2, (student, notes(batch, student))
        assert "missing bonus.ipynb" in notes(batch, student, "bonus")


# ---------------------------------------------------------------------------------------- files in
def test_linked_assignment_folder_is_refused_not_followed(batch):
    assert score(batch, "link_assignment") == 0
    text = notes(batch, "link_assignment")
    assert "link_assignment/sample: is a symbolic link" in text and "not followed" in text
    assert not (batch["settings"].autograded / "link_assignment").exists()


def test_linked_student_folder_is_refused_not_followed(batch):
    assert score(batch, "link_student") == 0
    assert "link_student: is a symbolic link" in notes(batch, "link_student")


def test_linked_notebook_is_refused_and_the_rest_is_graded(batch):
    assert "warmup.ipynb: is a symbolic link" in notes(batch, "link_notebook")
    cells = {r["cell"]: r["score"] for r in batch["rows"] if r["student"] == "link_notebook"}
    assert score(batch, "link_notebook") == 1 and sum(v for k, v in cells.items() if k != "test_cube") == 0
    assert not (batch["settings"].autograded / "link_notebook" / "sample" / "warmup.ipynb").exists()
    assert notes(batch, "link_notebook", "bonus") == ""   # the bonus notebook itself was fine


def test_special_files_are_reported_by_name_never_read_and_the_batch_goes_on(batch):
    text = notes(batch, "specials")
    for name, kind in (("grades.txt", "symbolic link"), ("notes.txt", "symbolic link"),
                       ("source.txt", "symbolic link"), ("data.txt", "symbolic link to '/proc/self/mem'"),
                       ("hard.txt", "hard link"), ("pipe.txt", "FIFO"), ("zero.dev", "character device"),
                       ("sock", "socket")):
        assert re.search(rf"refused {re.escape(name)}: is (a |)[^|]*{re.escape(kind)}", text), (name, text)
    # Graded with its (correct) answers despite all of that.
    assert score(batch, "specials") == HONEST_FULL, text
    out = outputs_text(batch, "specials")
    assert "READ own.txt" in out, "the reader cell did not run, so this test proves nothing"
    for secret in batch["plant"].values():
        assert secret not in out
    assert "SQLite format" not in out and "_hidden" not in out


# ---------------------------------------------------------------------------------------- network
def test_kernel_has_only_loopback_and_no_route(batch):
    found = probe(batch, "net", "NETPROBE")
    assert found["interfaces"] == ["lo"]
    assert found["routes"] == [] and found["routes6"] == []


def test_kernel_reaches_no_host_service_no_grader_socket_no_other_kernel(batch):
    found = probe(batch, "net", "NETPROBE")
    assert found["tcp_host"].startswith("ConnectionRefusedError"), found
    for name in ("abstract", "unix_path"):
        assert not found[name].startswith("connected"), found
    assert found["host_port_visible"] is False          # /proc/net/tcp is the namespace's own
    assert found["foreign_unix"] == [], found           # no other kernel's / grader's socket in sight
    assert found["jobs_folder"] == [found["own_folder"]]   # other slots' working folders are not there
    assert batch["accepted"] == {"tcp": False, "abstract": False, "path": False}


# ---------------------------------------------------------------------------------------- resources
def test_memory_limit_holds_for_the_notebook_as_a_whole(batch):
    found = probe(batch, "fork_memory", "FORKMEM")
    info = batch["entries"]["fork_memory"]["notebooks"]["warmup"]
    assert info.get("peak_memory_mb") is not None, "no memory cgroup: " + notes(batch, "fork_memory")
    assert info["peak_memory_mb"] <= MEMORY_MB + 1, info
    full = [s for s in found["statuses"] if s == 0]
    assert len(full) * 180 < MEMORY_MB, found          # 8 x 180 MiB did not all fit
    assert "out of memory" in notes(batch, "fork_memory"), (found, info)


def test_spinning_children_are_capped_and_do_not_starve_the_others(batch):
    found = probe(batch, "a_spinner", "SPIN")
    assert found["started"] < 245 and "Resource temporarily unavailable" in found["error"], found
    # The honest student ran while they spun (the test above) and lost no cell to a timeout.
    assert found["started"] >= 50, found


def test_disk_quota_and_small_private_scratch_folders(batch):
    found = probe(batch, "disk", "DISKFILL")
    mib = {k: v / 2**20 for k, v in found.items()}
    assert mib["."] <= 512 and mib["/tmp"] <= 64 and mib["/dev/shm"] <= 64 and mib["/var/tmp"] <= 64, mib
    assert sum(mib.values()) < 800, mib


def test_output_cap_holds_for_display_updates(batch):
    path = batch["settings"].autograded / "display" / "sample" / "warmup.ipynb"
    assert "DISPLAYED 20" in path.read_text(), "the attack did not finish, so this test proves nothing"
    assert path.stat().st_size < 6_000_000, path.stat().st_size   # 25 cells' worth, not 100 MB
    assert "output truncated" in notes(batch, "display")


def test_nothing_left_behind_reaches_a_later_notebook(batch):
    left = probe(batch, "leftover", "LEFTOVER")
    assert left["lock_file"] and left["shm"] >= 0, left      # the attack did leave both, in its namespace
    assert batch["host_after"]["lock_file"] is False
    assert batch["shm_key"] not in batch["host_after"]["shm_keys"]
    spied = probe(batch, "zz_spy", "SPY")
    assert spied == {"lock_file": None, "shm": "absent"}, spied
