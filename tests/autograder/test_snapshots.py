"""The worker's side of the snapshot phase, with real forked snapshot children (no kernel needed):
checks are sent only at collect time, replies are plain data, and a missing, duplicated or slow
snapshot fails its cell with a reason."""
from __future__ import annotations

import os
import socket
import threading
import time

import numpy as np

from autograder import checks, kernel_snapshot
from autograder.snapshots import Snapshots


def fork_child(gid: str, path: str, namespace: dict) -> int:
    """What kernel_snapshot.snapshot does in a kernel, from this process: a forked child that waits."""
    pid = os.fork()
    if pid == 0:
        try:
            kernel_snapshot._child(gid, path, namespace)
        finally:
            os._exit(0)
    return pid


def wait_for(snaps: Snapshots, gid: str, n: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(snaps.children.get(gid, [])) < n and time.monotonic() < deadline:
        time.sleep(0.02)


def recorded(*calls):
    rec = checks.Recorder()
    for kind, args, kw in calls:
        getattr(rec, kind)(*args, **kw)
    return rec.checks


def test_checks_reach_the_children_only_at_collect_time(tmp_path):
    cs = recorded(("value", ("f on 3 numbers", "f(_v)", np.arange(3.0) * 2), {"_v": np.arange(3.0)}))
    snaps = Snapshots(tmp_path, {"ex1": [c.wire() for c in cs], "ex2": [c.wire() for c in cs]}, None, 10)
    marker = tmp_path / "evaluated"
    # the child writes a file when it evaluates: it must not before collect()
    ns = {"f": lambda v: (open(marker, "a").close(), v * 2)[1]}
    pids = [fork_child("ex1", snaps.path, ns)]
    wait_for(snaps, "ex1")
    time.sleep(0.2)
    assert not marker.exists(), "a snapshot evaluated checks before the notebook was over"
    out = snaps.collect()
    for pid in pids:
        os.waitpid(pid, 0)
    assert marker.exists()
    assert [v.passed for v in checks.judge(cs, out["ex1"]["replies"])] == [True]
    assert out["ex2"] == {"error": "the notebook did not reach this cell"}
    snaps.close()


def test_two_claimants_and_a_slow_child_fail_with_a_reason(tmp_path):
    cs = recorded(("true", ("quick", "True"), {}), ("true", ("slow", "spin()"), {}))
    wire = [c.wire() for c in cs]
    snaps = Snapshots(tmp_path, {"twice": wire, "slow": wire}, None, eval_timeout=1.5)
    snaps.requested.update({"twice": "", "slow": ""})

    def spin():
        while True:
            time.sleep(0.01)

    pids = [fork_child("twice", snaps.path, {}), fork_child("twice", snaps.path, {}),
            fork_child("slow", snaps.path, {"spin": spin})]
    wait_for(snaps, "twice", 2)
    wait_for(snaps, "slow")
    start = time.monotonic()
    out = snaps.collect()
    assert time.monotonic() - start < 5
    assert "2 processes claimed the snapshot" in out["twice"]["error"]
    assert out["slow"]["replies"][0]["ok"] and len(out["slow"]["replies"]) == 1
    assert "longer than 1.5 s" in out["slow"]["timed_out"]
    verdicts = checks.judge(cs, out["slow"]["replies"], out["slow"]["timed_out"])
    assert verdicts[0].passed and not verdicts[1].passed and "longer than 1.5 s" in verdicts[1].message
    for pid in pids:  # without a sandbox, collect kills the children it knew
        os.waitpid(pid, 0)
    snaps.close()


def test_a_hello_for_an_unknown_grade_id_is_not_a_snapshot(tmp_path):
    snaps = Snapshots(tmp_path, {"ex1": []}, None, 5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(snaps.path)
        kernel_snapshot.send_msg(s, {"grade_id": "not-a-cell", "pid": 1})
        s.settimeout(5)
        assert s.recv(1) == b""  # closed by the worker
    assert snaps.children == {}
    threading.Thread(target=snaps.collect).start()


def test_an_oversized_hello_is_refused(tmp_path):
    snaps = Snapshots(tmp_path, {"ex1": []}, None, 5)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(snaps.path)
        s.sendall((10 * 2**20).to_bytes(4, "big"))  # announces 10 MiB: not read, connection closed
        s.settimeout(5)
        assert s.recv(1) == b""
    assert snaps.children == {}
    snaps.collect()
