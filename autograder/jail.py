"""Kernel launcher that runs as root for a few milliseconds, builds the sandbox, then becomes the kernel.

    python -m autograder.jail SPEC_JSON -- python -m ipykernel_launcher -f kernel.json

Steps (order matters):
1. a private mount namespace in which every secret place (the repository with .git, the gradebook
   folder, source notebooks, other students' submissions, /tmp, /root, /home, ...) is covered by an
   empty tmpfs; only what the kernel needs (the Python install, the venv, `minigraph`, this job's
   private folder) is bound back, read-only except the job folder;
2. resource limits (address space, file size, processes, no core files);
3. drop to the slot's unprivileged uid/gid with no supplementary groups — so the kernel cannot undo 1;
4. exec the real kernel command, so the kernel keeps this pid and jupyter_client's signals reach it.

It imports nothing heavy: it runs once per notebook, on the critical path.
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def build_namespace(hide: list[list], writable: list[str], cover: list[str] = ()) -> None:
    """hide: [[dir, [kept sub-paths...]], ...] — dir becomes an empty tmpfs except the kept paths."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Our mounts must not propagate back to the host.
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for top, keeps in hide:
        if not os.path.isdir(top):
            continue
        # Open the kept directories first: after the tmpfs covers `top`, /proc/self/fd/N still
        # reaches the original directory, which is what we bind back.
        fds = [(k, os.open(k, os.O_RDONLY | os.O_DIRECTORY)) for k in keeps if os.path.isdir(k)]
        mode = "1777" if top in writable else "0755"
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size=256m")
        for keep, fd in fds:
            os.makedirs(keep, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", keep, None, MS_BIND | MS_REC)
            if keep not in writable:
                _mount(None, keep, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            os.close(fd)
    for path in cover:
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0755,size=1m")


def apply_limits(limits: dict) -> None:
    names = {"as": resource.RLIMIT_AS, "fsize": resource.RLIMIT_FSIZE,
             "nproc": resource.RLIMIT_NPROC, "core": resource.RLIMIT_CORE}
    for key, value in limits.items():
        resource.setrlimit(names[key], (value, value))


def drop_privileges(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:  # pragma: no cover - paranoia
        raise SystemExit("jail: failed to drop root")


def main(argv: list[str]) -> None:
    spec = json.loads(argv[1])
    cmd = argv[argv.index("--") + 1:]
    if spec.get("namespace", True):
        build_namespace(spec["hide"], spec["writable"], spec.get("cover", []))
    for path in spec.get("chown", []):
        os.chown(path, spec["uid"], spec["gid"])
    apply_limits(spec.get("limits", {}))
    os.chdir(spec["cwd"])
    if spec.get("uid") is not None:
        drop_privileges(spec["uid"], spec["gid"])
    os.umask(0o077)
    if spec.get("check"):
        # Preflight mode: prove the Python stack is reachable from inside the jail.
        os.execve(sys.executable, [sys.executable, "-c", "import ipykernel, numpy"], spec["env"])
    env = dict(spec["env"])
    if "JPY_PARENT_PID" in os.environ:  # lets the kernel exit by itself if its worker dies
        env["JPY_PARENT_PID"] = os.environ["JPY_PARENT_PID"]
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main(sys.argv)
