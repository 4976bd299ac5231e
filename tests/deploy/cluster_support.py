"""A real Dask cluster for the tests: `dask scheduler` and `dask worker` processes, TLS, 127.0.0.1.

Each worker runs in its own working folder and its own mount namespace in which the grader's folder
(gradebook, submissions, release) and the repository's sample notebooks are empty tmpfs: what a worker
grades can only come from the bytes in its tasks, as on a machine with no shared filesystem."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder import cluster
from autograder.settings import SAMPLE_SOURCE, SAMPLE_SUBMISSIONS

DASK = str(Path(sys.executable).parent / "dask")


class Cluster:
    def __init__(self, base: Path, hidden: list[Path]):
        self.base, self.hidden = base, [str(p) for p in hidden]
        self.certs = base / "certs"
        cluster.write_certificates(self.certs)
        self.tls = ["--tls-ca-file", str(self.certs / cluster.CA_FILE), "--tls-cert",
                    str(self.certs / cluster.CERT_FILE), "--tls-key", str(self.certs / cluster.KEY_FILE)]
        self.procs: dict[str, subprocess.Popen] = {}
        self.address = self._start_scheduler()

    def _spawn(self, name: str, argv: list[str], hide: bool) -> subprocess.Popen:
        folder = self.base / name
        folder.mkdir(parents=True, exist_ok=True)
        if hide:
            # A private mount namespace: the grader's files are not on this "machine".
            mounts = " && ".join(f"mount -t tmpfs -o size=1m,mode=0755 tmpfs '{p}'" for p in self.hidden)
            argv = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                    f"{mounts} && exec \"$@\"", "sh", *argv]
        log = open(folder / "log.txt", "w")
        proc = subprocess.Popen(argv, cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def _start_scheduler(self) -> str:
        info = self.base / "scheduler" / "scheduler.json"
        self._spawn("scheduler", [DASK, "scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(info), *self.tls], hide=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if info.exists():
                try:
                    return json.loads(info.read_text())["address"]
                except ValueError:
                    pass
            self._check_alive("scheduler")
            time.sleep(0.2)
        raise AssertionError("the scheduler did not start:\n" + self.log("scheduler"))

    def start_worker(self, name: str, nthreads: int = 1) -> subprocess.Popen:
        proc = self._spawn(name, [DASK, "worker", self.address, "--name", name, "--no-nanny", "--nthreads",
                                  str(nthreads), "--no-dashboard", "--local-directory",
                                  str(self.base / name / "scratch"), "--death-timeout", "60", *self.tls], hide=True)
        self.wait_for_workers({name})
        return proc

    def client(self):
        from distributed import Client
        return Client(self.address, security=cluster.security(self.certs), timeout=30)

    def wait_for_workers(self, names: set[str], timeout: float = 90) -> None:
        with self.client() as client:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                present = {w["name"] for w in client.scheduler_info()["workers"].values()}
                if names <= present:
                    return
                for name in names:
                    self._check_alive(name)
                time.sleep(0.2)
        raise AssertionError(f"workers {names} did not join:\n" + "\n".join(self.log(n) for n in names))

    def _check_alive(self, name: str) -> None:
        if self.procs[name].poll() is not None:
            raise AssertionError(f"{name} exited ({self.procs[name].returncode}):\n{self.log(name)}")

    def log(self, name: str) -> str:
        try:
            return (self.base / name / "log.txt").read_text()[-3000:]
        except OSError:
            return ""

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait()

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def hidden_from_workers(grader_dir: Path) -> list[Path]:
    """The grader's own folder and the repository's sample notebooks (source and submissions)."""
    return [grader_dir, SAMPLE_SOURCE, SAMPLE_SUBMISSIONS]
