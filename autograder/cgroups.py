"""One control group per notebook: memory for all its processes, a process cap, a CPU share.

rlimits are per process: six forked children of 1 GiB each get 6 GiB, and 245 spinning children take
245 shares of the CPU from a concurrent honest student. A cgroup counts the notebook as a whole. The
grader creates one per notebook (before the kernel starts; `jail.py` moves the kernel into it while
still root, so every process the student forks is born inside) and removes it afterwards.

Two layouts are supported:
- cgroup v2 (one tree, `cgroup.controllers` lists memory, pids and cpu), pure or hybrid
  (`/sys/fs/cgroup/unified`);
- cgroup v1 (one tree per controller: `/sys/fs/cgroup/{memory,pids,cpu}`).
The notebook's group is created *below the grader's own group* in each tree, so whatever limits the
grader itself runs under (a CI job's, a container's) still hold for its notebooks.
When a controller is missing, `create` says so in `Cgroup.notes` — the report shows it on each notebook —
and only the per-process rlimits apply.
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")
CPU_SHARES_V1 = 1024   # the kernel's default weight: every notebook gets the same share of the CPU
CPU_WEIGHT_V2 = 100


@dataclass
class Cgroup:
    layout: str                              # "v2", "v1" or "none"
    dirs: dict[str, Path] = field(default_factory=dict)   # controller -> its directory ("*" for v2)
    notes: list[str] = field(default_factory=list)        # what is NOT enforced, for the report

    @property
    def procs_files(self) -> list[str]:
        """Where the jail writes its own pid to join (one file per distinct directory)."""
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def peak_memory(self) -> int | None:
        d = self.dirs.get("memory") or self.dirs.get("*")
        name = "memory.max_usage_in_bytes" if self.layout == "v1" else "memory.peak"
        return _read_int(d / name) if d else None

    def oom_kills(self) -> int:
        d = self.dirs.get("memory") or self.dirs.get("*")
        name = "memory.oom_control" if self.layout == "v1" else "memory.events"
        return _read_key(d / name, "oom_kill") if d else 0

    def pids(self) -> list[int]:
        found: set[int] = set()
        for f in self.procs_files:
            with contextlib.suppress(OSError):
                found.update(int(x) for x in Path(f).read_text().split())
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL everything inside, until nothing is left (a fork racing the kill is caught by the
        next pass; the pids cap bounds how many there can be)."""
        if "*" in self.dirs and (self.dirs["*"] / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                (self.dirs["*"] / "cgroup.kill").write_text("1")
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in sorted(set(self.dirs.values()), reverse=True):
            for _ in range(100):  # killed processes leave the group when they are reaped
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _read_key(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, fs type, super options) of every cgroup file system."""
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            left, _, right = line.partition(" - ")
            fstype, _, opts = (right.split(" ") + ["", "", ""])[:3]
            if fstype in ("cgroup", "cgroup2"):
                found.append((left.split(" ")[4], fstype, set(opts.split(","))))
    return found


def _own_paths() -> dict[str, str]:
    """This process's group in each tree: {"memory": "/x", ..., "": "/y" (v2)}."""
    own = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            for name in names.split(",") if names else [""]:
                own[name] = path
    return own


def layout() -> tuple[str, dict[str, Path], list[str]]:
    """Which layout this machine offers: ("v2" | "v1" | "none", parent dir per controller, notes)."""
    mounts, own = _mounts(), _own_paths()
    for point, fstype, _ in mounts:
        if fstype == "cgroup2":
            parent = _v2_parent(Path(point), own.get("", "/"))
            if parent is not None:
                return "v2", {"*": parent}, []
    parents, missing = {}, []
    for ctl in CONTROLLERS:
        point = next((p for p, t, opts in mounts if t == "cgroup" and ctl in opts), None)
        parent = Path(point) / own.get(ctl, "/").lstrip("/") if point else None
        if parent and os.access(parent, os.W_OK):
            parents[ctl] = parent
        else:
            missing.append(ctl)
    if not parents:
        return "none", {}, [("no usable cgroup (neither v2 with memory, pids and cpu nor writable v1 "
                             "controllers): only per-process rlimits apply — memory, process count and "
                             "CPU are not capped for the notebook as a whole")]
    notes = [f"no cgroup controller for {', '.join(missing)}: only per-process rlimits apply to it"] if missing else []
    return "v1", parents, notes


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _controllers(group: Path) -> set[str]:
    return set((_read_text(group / "cgroup.controllers") or "").split())


def _v2_parent(root: Path, own_path: str) -> Path | None:
    """Where notebook groups go in a cgroup2 tree: below the grader's own group when that group can
    have children with the controllers; otherwise (v2's no-internal-process rule: a group holding
    processes, like a service's, cannot) below a group `autograder` of ours under the root, which the
    rule exempts. None when the tree does not offer memory, pids and cpu at all."""
    own = root / own_path.lstrip("/")
    if set(CONTROLLERS) <= _controllers(own) and _enable_v2(own):
        return own
    if own != root and set(CONTROLLERS) <= _controllers(root) and _enable_v2(root):
        ours = root / "autograder"
        with contextlib.suppress(FileExistsError):
            ours.mkdir()
        if _enable_v2(ours):
            return ours
    return None


def _enable_v2(parent: Path) -> bool:
    """Children of `parent` get the controllers only when its subtree_control lists them."""
    enabled = set((_read_text(parent / "cgroup.subtree_control") or "").split())
    wanted = [c for c in CONTROLLERS if c not in enabled]
    if not wanted:
        return True
    try:
        (parent / "cgroup.subtree_control").write_text(" ".join("+" + c for c in wanted))
        return True
    except OSError:  # e.g. the grader's own group holds processes (v2's no-internal-process rule)
        return False


def create(name: str, memory_bytes: int, max_pids: int) -> Cgroup:
    """A fresh group `name` with the limits; a leftover of the same name (a killed run) is removed first."""
    kind, parents, notes = layout()
    group = Cgroup(kind, {}, list(notes))
    for ctl, parent in parents.items():
        d = parent / name
        if d.exists():
            Cgroup(kind, {ctl: d}).remove()
        try:
            d.mkdir()
            group.dirs[ctl] = d
            _configure(kind, ctl, d, memory_bytes, max_pids)
        except OSError as exc:
            group.notes.append(f"cgroup {ctl} not applied ({exc}): only per-process rlimits apply to it")
            group.dirs.pop(ctl, None)
            with contextlib.suppress(OSError):
                d.rmdir()
    if kind != "none" and not group.dirs:
        group.layout = "none"
    return group


def _configure(kind: str, ctl: str, d: Path, memory_bytes: int, max_pids: int) -> None:
    if kind == "v2":
        (d / "memory.max").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # absent when the kernel has no swap accounting
            (d / "memory.swap.max").write_text("0")
        (d / "pids.max").write_text(str(max_pids))
        (d / "cpu.weight").write_text(str(CPU_WEIGHT_V2))
    elif ctl == "memory":
        (d / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):  # memsw exists only with swap accounting; must be >= the limit
            (d / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
    elif ctl == "pids":
        (d / "pids.max").write_text(str(max_pids))
    elif ctl == "cpu":
        (d / "cpu.shares").write_text(str(CPU_SHARES_V1))
