"""Kernel launcher that runs as root for a few milliseconds, builds the sandbox, then becomes the kernel.

    python -m autograder.jail SPEC_JSON -- python -m ipykernel_launcher -f kernel.json

Steps (order matters):
1. join the notebook's cgroups (memory for all its processes, pids, CPU share), so that everything the
   student forks later is born inside them;
2. new namespaces: mount, IPC (System V segments/queues die with the kernel) and network (only `lo`,
   no route anywhere: no other kernel, no grader socket, no service on the host, no internet;
   the grader talks to the kernel over Unix sockets in the job folder, which need no network);
3. in the mount namespace, every secret place (the repository with .git, the gradebook folder, source
   notebooks, other students' submissions, /root, /home, ...) is covered by an empty tmpfs; only what
   the kernel needs (the Python install, the venv, `minigraph`, this job's private folder) is bound
   back, read-only except the job folder; /tmp, /var/tmp, /dev/shm, /run and /run/lock are fresh,
   small and private, so nothing left there reaches a later notebook;
4. resource limits (address space, file size, processes, no core files);
5. drop to the slot's unprivileged uid/gid with no supplementary groups — so the kernel cannot undo 1-3;
6. exec the real kernel command, so the kernel keeps this pid and jupyter_client's signals reach it.

The kernel stays in the host's PID namespace on purpose: processes it forks survive its death (the
grading protocol's snapshot children do), and the slot's cleanup finds them by uid and by cgroup.
It imports nothing heavy: it runs once per notebook, on the critical path.
"""
from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import socket
import struct
import sys

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1, 2, 4, 8, 32, 4096, 16384, 1 << 18)
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
MNT_DETACH = 2
SCRATCH_SIZE = "64m"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(_libc.mount(enc(src), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def mount_tmpfs(target: str, options: str) -> None:
    """Used by the grader (host namespace) for the size-limited working folder."""
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)


def unmount(target: str) -> None:
    _check(_libc.umount2(target.encode(), MNT_DETACH), f"umount {target}")


def join_cgroups(procs_files: list[str]) -> None:
    for path in procs_files:
        with open(path, "w") as fh:
            fh.write(str(os.getpid()))


def new_namespaces(network: bool) -> None:
    flags = CLONE_NEWNS | CLONE_NEWIPC | (CLONE_NEWNET if network else 0)
    _check(_libc.unshare(flags), "unshare(mount, IPC" + (", network)" if network else ")"))
    if network:
        loopback_up()


def loopback_up() -> None:
    """A new network namespace has only `lo`, down. Up, it lets student code talk to itself over
    127.0.0.1 (some libraries do) while reaching nothing outside the namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def build_namespace(hide: list[list], writable: list[str], cover: list[str] = (),
                    private: list[list] = ()) -> None:
    """hide: [[dir, [kept sub-paths...]], ...] — dir becomes an empty tmpfs except the kept paths.
    private: [[dir, mode, size], ...] — a fresh empty tmpfs each (created inside an earlier one if needed)."""
    # Our mounts must not propagate back to the host.
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for top, keeps in hide:
        if not os.path.isdir(top):
            continue
        # Open the kept directories first: after the tmpfs covers `top`, /proc/self/fd/N still
        # reaches the original directory, which is what we bind back.
        fds = [(k, os.open(k, os.O_RDONLY | os.O_DIRECTORY)) for k in keeps if os.path.isdir(k)]
        # Writable scratch space is small (its pages count against the notebook's memory anyway);
        # a read-only cover only holds the mount points of what is bound back.
        mode, size = ("1777", SCRATCH_SIZE) if top in writable else ("0755", "1m")
        _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size}")
        for keep, fd in fds:
            os.makedirs(keep, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", keep, None, MS_BIND | MS_REC)
            if keep not in writable:
                _mount(None, keep, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            os.close(fd)
    for path, mode, size in private:
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)  # only succeeds inside a tmpfs of ours (root-owned, 0755)
        _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"mode={mode},size={size}")
    if os.path.isdir("/dev/mqueue"):  # POSIX queues of the new IPC namespace only
        _mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)
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
    join_cgroups(spec.get("cgroup_procs", []))
    if spec.get("namespace", True):
        new_namespaces(spec.get("network_namespace", True))
        build_namespace(spec["hide"], spec["writable"], spec.get("cover", []), spec.get("private", []))
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
