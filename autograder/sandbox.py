"""Who a student's kernel runs as, and what it can see.

Each concurrently running notebook takes a *slot*: an unprivileged system user (`agsbx0`, `agsbx1`, ...,
created with useradd on first use — CI starts from a fresh clone on a root machine) plus a private
0700 working folder owned by that user. Slots are claimed with an flock, so any mix of processes and
threads on one machine (process pool, Dask workers) never shares a uid between two live kernels, and
after each notebook every process left behind by that uid is killed. With `Resources`, the slot also
gets a per-notebook cgroup (`cgroups.py`: memory of all its processes, pids, CPU share) and a working
folder that is a size-limited tmpfs (the disk quota); both are removed when the notebook is done.
`jail.py` does the rest inside the kernel process (namespaces, limits, setuid).
"""
from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cgroups, defaults, jail

JOBS_ROOT = Path(os.environ.get("AUTOGRADER_JOBS_ROOT", "/tmp/autograder-jobs"))
USER_PREFIX = "agsbx"
MAX_SLOTS = 64
# Top-level places that may hold secrets or other people's files; hidden inside the jail unless a
# path the kernel needs lives there (then only that path is bound back, read-only).
HIDDEN_TOPS = ("/root", "/home", "/tmp", "/mnt", "/media", "/srv", "/opt", "/work")
# Scratch places every program expects to write to: a fresh, small, private tmpfs each, so that nothing
# a notebook leaves there (a lock file, a socket) reaches a later one. /tmp is one too (a hidden top).
PRIVATE_DIRS = (("/dev/shm", "1777"), ("/run", "0755"), ("/run/lock", "1777"), ("/var/tmp", "1777"))
# Packages a course kernel may import that live outside site-packages (editable installs).
KERNEL_PACKAGES = ("minigraph",)


class SandboxUnavailable(RuntimeError):
    """The machine cannot isolate student code; we refuse to grade rather than grade unsafely."""


@dataclass
class Resources:
    """What one notebook may use, all its processes together."""
    memory_bytes: int
    max_pids: int = defaults.MAX_PIDS
    disk_bytes: int = defaults.DISK_MB * 2**20   # the working folder's tmpfs


@dataclass
class Slot:
    index: int
    uid: int
    gid: int
    workdir: Path
    cgroup: cgroups.Cgroup | None = None
    notes: list[str] = field(default_factory=list)   # limits that could not be applied, for the report


def _user_name(i: int) -> str:
    return f"{USER_PREFIX}{i}"


def ensure_user(i: int) -> tuple[int, int]:
    name = _user_name(i)
    try:
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        pass
    with _locked(JOBS_ROOT / "useradd.lock"):
        try:  # another process may have created it while we waited for the lock
            pw = pwd.getpwnam(name)
            return pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
        cmd = ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
               "--shell", "/usr/sbin/nologin", "--comment", "autograder sandbox", name]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise SandboxUnavailable(f"cannot create sandbox user {name!r} ({' '.join(cmd)}): {detail}")
        pw = pwd.getpwnam(name)
        return pw.pw_uid, pw.pw_gid


def _prepare_root() -> None:
    JOBS_ROOT.mkdir(parents=True, exist_ok=True)
    # Traversable but not listable: a kernel never sees this folder anyway (fresh /tmp in the jail),
    # this is defence in depth for the case where the jail's namespace is unavailable.
    os.chmod(JOBS_ROOT, 0o711)


@contextlib.contextmanager
def _locked(path: Path):
    _prepare_root()
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def slot(sandbox: bool = True, resources: Resources | None = None):
    """Claim a free slot for one notebook; clean up everything its user left behind on exit."""
    _prepare_root()
    if not sandbox:
        workdir = Path(tempfile.mkdtemp(prefix="job-", dir=JOBS_ROOT))
        try:
            yield Slot(-1, os.getuid(), os.getgid(), workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    while True:
        for i in range(MAX_SLOTS):
            fh = open(JOBS_ROOT / f"slot{i}.lock", "a")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                continue
            try:
                uid, gid = ensure_user(i)
                kill_user_processes(uid)  # a killed previous run may have left some
                for stale in JOBS_ROOT.glob(f"job{i}-*"):  # we hold slot i: its old folders are dead
                    _remove_workdir(stale)
                workdir = Path(tempfile.mkdtemp(prefix=f"job{i}-", dir=JOBS_ROOT))
                os.chown(workdir, uid, gid)
                current = Slot(i, uid, gid, workdir)
                try:
                    if resources is not None:
                        _apply_resources(current, resources)
                    yield current
                finally:
                    kill_user_processes(uid)
                    if current.cgroup is not None:
                        current.cgroup.remove()
                    _remove_workdir(workdir)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
                fh.close()
            return
        time.sleep(0.2)


def _apply_resources(s: Slot, res: Resources) -> None:
    s.cgroup = cgroups.create(_user_name(s.index), res.memory_bytes, res.max_pids)
    s.notes += s.cgroup.notes
    try:
        jail.mount_tmpfs(str(s.workdir), f"size={res.disk_bytes},mode=0700,uid={s.uid},gid={s.gid}")
    except OSError as exc:
        s.notes.append(f"no disk quota for the working folder (tmpfs: {exc})")


def _remove_workdir(path: Path) -> None:
    with contextlib.suppress(OSError):
        jail.unmount(str(path))  # the quota tmpfs, if it is one; its files go with it
    shutil.rmtree(path, ignore_errors=True)


def kill_user_processes(uid: int) -> None:
    """SIGKILL every process of the slot's user: a student's background daemon must not outlive its
    notebook and watch the next one. Only ever called with a sandbox uid."""
    if uid == 0:
        raise ValueError("refusing to kill root's processes")
    for _ in range(5):
        pids = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == uid:
                        pids.append(int(entry.name))
                except FileNotFoundError:
                    continue
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, 9)
        time.sleep(0.05)


def kernel_needs() -> list[str]:
    """Directories the kernel must read: the interpreter, the venv, editable course packages."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    for name in KERNEL_PACKAGES:
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            paths.add(os.path.realpath(loc))
    return sorted(os.path.realpath(p) for p in paths)


def jail_spec(slot: Slot, env: dict, limits: dict, extra_hidden: list[str] = (),
              chown: list[str] = ()) -> dict:
    needs = kernel_needs() + [str(slot.workdir)]
    tops = sorted(set(HIDDEN_TOPS) | {_top(p) for p in extra_hidden})
    hide = [[top, [n for n in needs if n == top or n.startswith(top + "/")]] for top in tops]
    # A secret folder inside something the kernel needs (a course checked out under /usr/local,
    # a build folder inside the venv) would come back with the bind mount: cover it directly.
    secrets = [os.path.realpath(p) for p in extra_hidden]
    cover = [p for p in secrets if not any(n == p or n.startswith(p + "/") for n in needs)]
    return {
        "cover": cover,
        "uid": slot.uid, "gid": slot.gid, "cwd": str(slot.workdir), "env": env, "limits": limits,
        "hide": hide, "writable": ["/tmp", str(slot.workdir)],
        "private": [[path, mode, jail.SCRATCH_SIZE] for path, mode in PRIVATE_DIRS],
        "network_namespace": True,
        "cgroup_procs": slot.cgroup.procs_files if slot.cgroup else [],
        "chown": list(chown),
    }


def _top(path: str) -> str:
    parts = Path(os.path.realpath(path)).parts
    return "/" + parts[1] if len(parts) > 1 else "/"


def launcher_cmd(spec: dict) -> list[str]:
    return [sys.executable, "-m", "autograder.jail", json.dumps(spec), "--"]


_PREFLIGHT: dict = {}


def preflight(extra_hidden: list[str] = ()) -> None:
    """Fail early, with the reason, if this machine cannot run a jailed kernel."""
    key = tuple(extra_hidden)
    if key in _PREFLIGHT:
        if _PREFLIGHT[key]:
            raise SandboxUnavailable(_PREFLIGHT[key])
        return
    problem = ""
    if os.geteuid() != 0:
        problem = ("the sandbox needs root (to create unprivileged users and a private mount "
                   "namespace per kernel); run as root, or pass --insecure-no-sandbox on a "
                   "machine where every submission is trusted")
    else:
        try:
            with slot(True) as s:
                spec = jail_spec(s, kernel_env(s.workdir), {}, extra_hidden)
                spec["check"] = True
                proc = subprocess.run(launcher_cmd(spec) + ["true"], capture_output=True, text=True,
                                      timeout=60)
                if proc.returncode != 0:
                    problem = ("a jailed test process failed (is CAP_SYS_ADMIN available for mount, IPC "
                               "and network namespaces? is the Python install readable?):\n"
                               f"{proc.stderr[-2000:]}")
        except SandboxUnavailable as exc:
            problem = str(exc)
    _PREFLIGHT[key] = problem
    if problem:
        raise SandboxUnavailable(problem)


def kernel_env(workdir: Path) -> dict:
    """A minimal environment: nothing of ours (CI tokens, database URLs) reaches student code."""
    w = str(workdir)
    return {
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": w, "TMPDIR": w, "IPYTHONDIR": f"{w}/.ipython", "MPLCONFIGDIR": f"{w}/.mpl",
        "JUPYTER_RUNTIME_DIR": f"{w}/.jupyter", "JUPYTER_CONFIG_DIR": f"{w}/.jupyter",
        "NUMBA_CACHE_DIR": f"{w}/.numba", "LANG": "C.UTF-8",
        # Inline (not agg): plots become image outputs of the graded notebook, which feedback shows.
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONDONTWRITEBYTECODE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # One thread each: several kernels share the machine, and BLAS pools reserve address space.
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "NUMBA_NUM_THREADS": "1", "NBGRADER_EXECUTION": "autograde",
    }
