"""Grading on a real Dask cluster: a TLS scheduler and workers started as separate processes on
127.0.0.1, each worker in its own folder and mount namespace (no shared filesystem with the grader).

- the same scores as grading on this machine, with a hostile student in the batch whose kernel goes
  for the scheduler (issue #14: it once ran a function as root outside the sandbox);
- a worker killed mid-batch: its notebooks are graded elsewhere, nothing lost or doubled."""
from __future__ import annotations

import json
import shutil
import subprocess
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import report
from cluster_support import Cluster, hidden_from_workers
from deploy_support import PY, REPO_ROOT, SAMPLE_SUBMISSIONS, cli, make_settings, public_tmp, settings_args

HONEST = ("complete", "partial", "blank")

ATTACK = '''
import json, os, socket
report = {{}}
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    report["tcp"] = "connected"
except OSError as exc:
    report["tcp"] = type(exc).__name__
report["interfaces"] = sorted(line.split(":")[0].strip() for line in open("/proc/net/dev").readlines()[2:])
report["routes"] = open("/proc/net/route").read().splitlines()[1:]
try:
    open({key!r}).read()
    report["key"] = "read"
except OSError as exc:
    report["key"] = type(exc).__name__

def loot():  # what the attacker wants to run on a worker: as root, outside the sandbox
    open({marker!r}, "w").write(str(os.getuid()))
    return os.getuid()

for address in ("tls://127.0.0.1:{port}", "tcp://127.0.0.1:{port}"):
    try:
        from distributed import Client
        client = Client(address, timeout=2)
        report[address] = "submitted: uid %s" % client.submit(loot, pure=False).result(timeout=2)
    except BaseException as exc:
        report[address] = type(exc).__name__
print("ATTACK-REPORT " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def deployment():
    base = public_tmp("dask")
    grader = base / "grader"
    subs = grader / "submitted"
    for student in HONEST:
        shutil.copytree(SAMPLE_SUBMISSIONS / student, subs / student)
    dask_cluster = Cluster(base / "cluster", hidden_from_workers(grader))
    try:
        dask_cluster.start_worker("w0")
        dask_cluster.start_worker("w1")
        yield {"base": base, "grader": grader, "subs": subs, "cluster": dask_cluster}
    finally:
        dask_cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def local_rows(deployment):
    """The reference: the same honest submissions graded on this machine (process pool)."""
    settings = make_settings(deployment["grader"] / "local")
    res = cli("autograde", str(deployment["subs"]), *settings_args(settings, grading=True))
    assert res.returncode == 0, res.stderr[-2000:]
    return report.cell_rows(settings)


def _dask_args(deployment) -> list[str]:
    c = deployment["cluster"]
    return ["--dask", c.address, "--dask-tls-dir", str(c.certs)]


def _attacker(deployment) -> None:
    c = deployment["cluster"]
    port = int(c.address.rsplit(":", 1)[1])
    marker = deployment["base"] / "cluster" / "looted"
    src = SAMPLE_SUBMISSIONS / "complete" / "sample"
    dest = deployment["subs"] / "mallory" / "sample"
    shutil.copytree(src, dest)
    nb = nbformat.read(dest / "warmup.ipynb", as_version=4)
    nb.cells.insert(2, new_code_cell(ATTACK.format(port=port, key=str(c.certs / "node-key.pem"), marker=str(marker))))
    nbformat.write(nb, dest / "warmup.ipynb")


def test_same_scores_as_local_and_the_kernel_cannot_reach_the_cluster(deployment, local_rows):
    c = deployment["cluster"]
    _attacker(deployment)
    settings = make_settings(deployment["grader"] / "on-dask")
    res = cli("autograde", str(deployment["subs"]), *settings_args(settings, grading=True), *_dask_args(deployment))
    assert res.returncode == 0, res.stderr[-2000:]
    rows = report.cell_rows(settings)
    honest = [r for r in rows if r["student"] in HONEST]
    assert honest == local_rows, "the honest students' scores must be exactly those of local grading"
    totals = {k[0]: v["score"] for k, v in report.totals(rows).items()}
    assert totals["mallory"] == totals["complete"], "the attack cell changes nothing in the graded cells"

    graded = nbformat.read(settings.autograded / "mallory" / "sample" / "warmup.ipynb", as_version=4)
    outputs = [o.get("text", "") for cell in graded.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    found = [line for text in outputs for line in text.splitlines() if line.startswith("ATTACK-REPORT ")]
    assert found, f"the attack cell did not run or lost its output: {outputs}"
    attack = json.loads(found[0].split(" ", 1)[1])
    # From inside the kernel: no network but its own loopback, and nothing listens there.
    assert attack["interfaces"] == ["lo"] and attack["routes"] == [], attack
    assert attack["tcp"] == "ConnectionRefusedError", f"the kernel reached the scheduler's port: {attack}"
    assert attack["key"] in ("FileNotFoundError", "PermissionError"), attack
    for address in (f"tls://127.0.0.1:{c.address.rsplit(':', 1)[1]}", f"tcp://127.0.0.1:{c.address.rsplit(':', 1)[1]}"):
        assert not attack[address].startswith("submitted"), attack
    assert not (deployment["base"] / "cluster" / "looted").exists(), "a student's function ran on a worker"


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(deployment, local_rows):
    c = deployment["cluster"]
    subs = deployment["grader"] / "submitted-big"
    students = [*HONEST, "complete2", "partial2"]
    for student in students:
        shutil.copytree(SAMPLE_SUBMISSIONS / student.rstrip("2"), subs / student)
    c.start_worker("doomed")
    settings = make_settings(deployment["grader"] / "killed")
    args = ["autograde", str(subs), *settings_args(settings, grading=True), *_dask_args(deployment)]
    batch = subprocess.Popen([PY, "-m", "autograder", *args], cwd=REPO_ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = False
    with c.client() as client:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and batch.poll() is None:
            names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
            busy = {names.get(addr) for addr, keys in client.processing().items() if keys}
            if "doomed" in busy:
                time.sleep(1.0)  # let its kernel get going
                c.kill("doomed")
                killed = True
                break
            time.sleep(0.1)
    out, err = batch.communicate(timeout=600)
    assert killed, "the doomed worker never got a notebook to grade"
    assert batch.returncode == 0, err[-3000:]
    journal = {p.stem: json.loads(p.read_text()) for p in (settings.journal / "sample").glob("*.json")}
    assert sorted(journal) == sorted(students), "a submission was lost"
    for entry in journal.values():
        assert all(nb["status"] != "infrastructure error" for nb in entry["notebooks"].values()), entry
    rows = report.cell_rows(settings)
    per_student = len(local_rows) // len(HONEST)
    assert len(rows) == per_student * len(students), "each student × cell exactly once"
    expected = {(r["student"], r["notebook"], r["cell"]): r["score"] for r in local_rows}
    for r in rows:
        assert r["score"] == expected[r["student"].rstrip("2"), r["notebook"], r["cell"]], r


def test_dask_certs_command_and_clear_errors(tmp_path):
    res = cli("dask-certs", str(tmp_path / "certs"))
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "certs").iterdir()) == ["ca.pem", "node-key.pem", "node.pem"]
    assert (tmp_path / "certs" / "node-key.pem").stat().st_mode & 0o777 == 0o600
    assert "BEGIN CERTIFICATE" in (tmp_path / "certs" / "node.pem").read_text()
    subs = str(SAMPLE_SUBMISSIONS)
    no_dir = cli("autograde", subs, "--build", str(tmp_path / "b"), "--dask", "tls://127.0.0.1:9")
    assert no_dir.returncode == 2 and "pass --dask-tls-dir" in no_dir.stderr, no_dir.stderr[-500:]
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = cli("autograde", subs, "--build", str(tmp_path / "b"), "--dask", "tls://127.0.0.1:9",
                  "--dask-tls-dir", str(empty))
    assert missing.returncode == 2 and "missing ca.pem, node.pem, node-key.pem" in missing.stderr
    assert "Traceback" not in no_dir.stderr + missing.stderr
