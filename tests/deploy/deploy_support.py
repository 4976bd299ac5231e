"""Helpers for tests/deploy: settings on the sample assignment, the CLI, real Unix users."""
from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder import sandbox
from autograder.settings import REPO_ROOT, SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, Settings

PY = sys.executable
# Small limits keep the sample quick; the production values live in autograder/nbgrader_config.py.
TEST_LIMITS = dict(cell_timeout=6, notebook_timeout=90, memory_mb=1024, jobs=2)

def open_up(path: Path) -> None:
    """World-traversable test folders, like a course checked out in /srv: only the real permissions
    of the exchange, the gradebook and the jail may stand between users."""
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *path.parents]:
        if str(p).startswith("/tmp/") and p != Path("/tmp"):
            os.chmod(p, 0o755)


def public_tmp(prefix: str) -> Path:
    """A temp folder other users can traverse. Not under pytest's tmp_path: pytest keeps
    /tmp/pytest-of-root at 0700 (and resets it whenever another pytest run starts)."""
    path = Path(tempfile.mkdtemp(prefix=f"ag-{prefix}-", dir="/tmp"))
    os.chmod(path, 0o755)
    return path


def make_settings(base: Path, **kw) -> Settings:
    open_up(base)
    values = dict(TEST_LIMITS, source=SAMPLE_SOURCE, build=base / "build", release=base / "release")
    values.update(kw)
    return Settings.from_config(**values)


def cli(*args, timeout=300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "autograder", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=timeout, **kw)


def settings_args(settings: Settings, grading: bool = False) -> list[str]:
    args = ["--source", str(settings.source), "--build", str(settings.build), "--release-dir", str(settings.release)]
    return args + (["--timeout", str(settings.cell_timeout), "--jobs", str(settings.jobs)] if grading else [])


class UnixUser:
    """A real account with its own 0700 home folder; commands run as it with runuser."""

    def __init__(self, name: str, home: Path):
        self.name, self.home = name, home
        remove_user(name)  # left over by a killed earlier run
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash",
                        "--comment", "autograder test student", name], check=True, capture_output=True)
        os.chmod(home, 0o700)
        pw = pwd.getpwnam(name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid

    def run(self, *argv: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        env = {"HOME": str(self.home), "USER": self.name, "LOGNAME": self.name, "LANG": "C.UTF-8",
               "PATH": f"{Path(PY).parent}:/usr/bin:/bin"}
        runuser = ["runuser", "-u", self.name, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *argv]
        shared = [str(self.home.parent.parent)]  # the test's folder: exchange and homes
        proc = subprocess.run(_with_python_visible(runuser, shared), cwd=self.home, capture_output=True,
                              text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"as {self.name}: {' '.join(argv)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        return proc

    def write(self, rel: str, data: bytes) -> None:
        """Put a file in the home folder as the user would (owned by them)."""
        dest = self.home / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        for p in [dest, *dest.relative_to(self.home).parents]:
            os.chown(self.home / p, self.uid, self.gid)


def _with_python_visible(argv: list[str], also: list[str]) -> list[str]:
    """This machine's Python may live where other users cannot enter (pyenv under /root, a CI clone in
    a 0700 folder). A student on JupyterHub has a Python of their own; here the command runs in a
    private mount namespace where each such top folder is an empty tmpfs with only the Python install,
    the venv and `also` (the test's exchange and homes) bound back, as in the jail."""
    needs = sandbox.kernel_needs()
    blocked = sorted({"/" + Path(p).parts[1] for p in needs if not _traversable(p)})
    if not blocked:
        return argv
    hide = [[top, [p for p in needs + also if p.startswith(top + "/")]] for top in blocked]
    # `unshare --mount` makes the namespace; the child refuses to mount anything unless it really is
    # in a new one (mounting over the host's /root would hide it from every process on the machine).
    host_ns = os.readlink("/proc/self/ns/mnt")
    code = ("import os, sys; from autograder.jail import build_namespace; "
            f"assert os.readlink('/proc/self/ns/mnt') != {host_ns!r}, 'not in a private mount namespace'; "
            f"build_namespace({hide!r}, []); os.execvp(sys.argv[1], sys.argv[1:])")
    return ["unshare", "--mount", "--propagation", "private", "--", PY, "-c", code, *argv]


def _traversable(path: str) -> bool:
    return all(os.stat(p).st_mode & 0o001 for p in [path, *map(str, Path(path).parents)])


def remove_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    sandbox.kill_user_processes(pwd.getpwnam(name).pw_uid)  # this test user's processes only
    subprocess.run(["userdel", "--force", name], capture_output=True)


