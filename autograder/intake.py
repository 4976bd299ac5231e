"""Reading a student's submission as root without being tricked into reading anything else.

A submission is untrusted: `act2_practice` may be a symbolic link to the course's source folder, a
notebook a link to another student's, `grades.txt` a link to the gradebook, `data.txt` a link to
/proc/self/mem, a FIFO that blocks any reader, a device, or a hard link to a file outside the
submission. So every name is opened relative to its parent folder's descriptor with O_NOFOLLOW
(a link is refused, not followed, even if it is swapped in after a check), O_NONBLOCK (a FIFO cannot
block us) and checked with fstat on the open descriptor: regular files with a single link only, read
up to a size cap. Everything refused is reported by name with the reason; the rest is graded.
"""
from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 20 * 2**20      # one file (a notebook with plots stays far below)
MAX_TOTAL_BYTES = 100 * 2**20    # one submission, every file together
MAX_ENTRIES = 2000               # names in one submission (folders included)
MAX_DEPTH = 8

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class Refused(Exception):
    """A name in the submission that is not a plain file or folder of its own; the message says why."""


@dataclass
class Intake:
    files: dict[str, bytes] = field(default_factory=dict)   # relative path -> content
    refused: list[str] = field(default_factory=list)        # "name: why", one per refused name


def kind(mode: int) -> str:
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file")):
        if test(mode):
            return name
    return "a special file"


def _link_target(dir_fd: int, name: str) -> str:
    with contextlib.suppress(OSError):
        target = os.readlink(name, dir_fd=dir_fd)  # reads the link itself, never what it points to
        return f" to {target[:120]!r}"
    return ""


def refusal(dir_fd: int | None, name: str, st: os.stat_result) -> str:
    """Why `name` (already lstat'ed) is not read, or "" when it is a plain file or folder."""
    if stat.S_ISLNK(st.st_mode):
        target = _link_target(dir_fd, name) if dir_fd is not None else ""
        return f"is a symbolic link{target}; links are not followed"
    if stat.S_ISREG(st.st_mode):
        if st.st_nlink > 1:
            return f"is a hard link ({st.st_nlink} names for one file); refused, it may be a file from outside the submission"
        return ""
    if stat.S_ISDIR(st.st_mode):
        return ""
    return f"is {kind(st.st_mode)}, not a regular file; not read"


def open_dir(parent_fd: int, name: str) -> int:
    """Open the folder `name` under `parent_fd` without following a link; Refused otherwise."""
    try:
        st = os.lstat(name, dir_fd=parent_fd)
    except FileNotFoundError:
        raise Refused(f"{name}: not found")
    why = refusal(parent_fd, name, st)
    if why or not stat.S_ISDIR(st.st_mode):
        raise Refused(f"{name}: {why or 'is ' + kind(st.st_mode) + ', not a folder'}")
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:  # swapped for a link after the lstat: O_NOFOLLOW refuses it (ELOOP/ENOTDIR)
        raise Refused(f"{name}: cannot be opened as a folder ({os.strerror(exc.errno)}); not followed")


def read_file_at(dir_fd: int, name: str, cap: int = MAX_FILE_BYTES) -> bytes:
    """Content of the plain file `name` under `dir_fd`; Refused (with the reason) for anything else."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        try:
            st = os.lstat(name, dir_fd=dir_fd)
            why = refusal(dir_fd, name, st) or os.strerror(exc.errno)
        except OSError:
            why = os.strerror(exc.errno)
        raise Refused(f"{name}: {why}")
    try:
        st = os.fstat(fd)  # the file we actually opened, not the name we looked at
        why = refusal(None, name, st)
        if why or not stat.S_ISREG(st.st_mode):
            raise Refused(f"{name}: {why or 'is ' + kind(st.st_mode) + ', not a regular file'}")
        if st.st_size > cap:
            raise Refused(f"{name}: {st.st_size} bytes, over the {cap} byte limit; not read")
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:  # grew while we read
            raise Refused(f"{name}: over the {cap} byte limit; not read")
        return b"".join(chunks)
    finally:
        os.close(fd)


def open_path(root: Path, rel_parts: tuple[str, ...]) -> int:
    """Open root (trusted: the instructor chose it) then each part below it without following links."""
    fd = os.open(str(root), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in rel_parts:
            nxt = open_dir(fd, part)
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def read_tree(root: Path, rel_parts: tuple[str, ...]) -> Intake:
    """Every plain file under root/rel_parts (names starting with '.' are skipped, as nbgrader does),
    with the names that were refused. Raises Refused only when the folder itself is refused."""
    intake = Intake()
    fd = open_path(root, rel_parts)
    try:
        _walk(fd, "", 0, intake, [0, 0])
    finally:
        os.close(fd)
    return intake


def _walk(dir_fd: int, prefix: str, depth: int, intake: Intake, counts: list[int]) -> None:
    for name in sorted(os.listdir(dir_fd)):
        if name.startswith("."):
            continue
        rel = prefix + name
        counts[0] += 1
        if counts[0] > MAX_ENTRIES:
            intake.refused.append(f"{prefix or './'}: more than {MAX_ENTRIES} names in the submission; the rest is not read")
            return
        try:
            st = os.lstat(name, dir_fd=dir_fd)
        except OSError as exc:
            intake.refused.append(f"{rel}: {os.strerror(exc.errno)}")
            continue
        try:
            if stat.S_ISDIR(st.st_mode):
                if depth >= MAX_DEPTH:
                    raise Refused(f"{rel}: folders nested deeper than {MAX_DEPTH}; not read")
                sub = open_dir(dir_fd, name)
                try:
                    _walk(sub, rel + "/", depth + 1, intake, counts)
                finally:
                    os.close(sub)
                continue
            left = MAX_TOTAL_BYTES - counts[1]
            if st.st_size > left:
                raise Refused(f"{name}: the submission's files together are over {MAX_TOTAL_BYTES} bytes; not read")
            data = read_file_at(dir_fd, name, min(MAX_FILE_BYTES, left))
            counts[1] += len(data)
            intake.files[rel] = data
        except Refused as exc:
            msg = str(exc)
            intake.refused.append(prefix + msg if not msg.startswith(rel) else msg)
