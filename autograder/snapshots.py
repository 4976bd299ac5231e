"""Worker side of the snapshot phase (GRADING_PROTOCOL.md): hidden checks run in forks of a DEAD kernel.

    snaps = Snapshots(slot, task, sandbox=...)   # listens on <slot workdir>/.snap.sock
    snaps.attach(client)                         # nbclient hooks: define the helper, snapshot graded cells
    ... notebook runs; its outputs are collected; the kernel is killed ...
    result["snapshots"] = snaps.collect()        # {grade_id: {"replies": [...]} or {"error": "..."}}

The kernel whose outputs are shown to anyone never runs hidden code: after each graded cell the worker
sends a silent request that forks the kernel (kernel_snapshot.snapshot); the child connects here and
waits. Only once the notebook is over and the kernel killed (and, in the sandbox, every other process of
the slot's user) do the children get their checks. They have no output stream left to print to.
"""
from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import struct
import threading
import time
from pathlib import Path

from .kernel_snapshot import recv_msg, send_msg

MODULE = "_autograder_snapshot"
KERNEL_SOURCE = (Path(__file__).with_name("kernel_snapshot.py")).read_text()
HELLO_TIMEOUT = 10          # s for a child to say which grade id it holds
MAX_CONNECTIONS = 256       # per notebook: a flood of connections from student code is not served
REQUEST_TIMEOUT = 30        # s for the kernel to answer the silent snapshot request

# Defines the module in the kernel without touching the user namespace (names starting with _ag_ are
# deleted again). Public code: nothing here is secret.
_DEFINE = (
    "import sys as _ag_sys, types as _ag_types\n"
    f"_ag_mod = _ag_types.ModuleType({MODULE!r})\n"
    f"exec(compile({KERNEL_SOURCE!r}, '<autograder snapshot>', 'exec'), _ag_mod.__dict__)\n"
    f"_ag_sys.modules[{MODULE!r}] = _ag_mod\n"
    "del _ag_sys, _ag_types, _ag_mod\n"
)


def _request_code(grade_id: str, path: str) -> str:
    return f"__import__('sys').modules[{MODULE!r}].snapshot({json.dumps(grade_id)}, {json.dumps(path)})"


class Snapshots:
    def __init__(self, workdir: Path, checks: dict, uid: int | None, eval_timeout: float):
        """checks: {grade_id: [wire dicts]} (what task["snapshot_checks"] holds); uid: the slot's user
        in the sandbox (its other processes are killed before checks are sent), None without it."""
        self.checks = checks
        self.uid = uid
        self.eval_timeout = eval_timeout
        self.path = str(workdir / ".snap.sock")
        self.children: dict[str, list[tuple[socket.socket, int]]] = {}
        self.requested: dict[str, str] = {}   # grade id -> why it has no snapshot ("" when requested fine)
        self.seconds = {"requests": 0.0, "checks": 0.0}   # what the protocol costs, for the report
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.path)
        if uid is not None:
            os.chown(self.path, uid, -1)
        os.chmod(self.path, 0o600)
        self._server.listen(64)
        self._closing = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ while the notebook runs
    def attach(self, client) -> None:
        """Chain our hooks after the client's own."""
        before_start, before_exec = client.on_cell_start, client.on_cell_executed

        async def notebook_start(notebook):
            await self._silent(client, _DEFINE, "defining the snapshot helper", must_succeed=True)

        async def cell_start(cell, cell_index):
            if before_start:
                before_start(cell=cell, cell_index=cell_index)
            # nbclient skips a blank cell (no reply, no on_cell_executed): its state is the state now.
            if self._gid(cell) and not cell.source.strip():
                await self._take(client, self._gid(cell))

        async def cell_executed(cell, cell_index, execute_reply):
            if before_exec:
                before_exec(cell=cell, cell_index=cell_index, execute_reply=execute_reply)
            if self._gid(cell):
                await self._take(client, self._gid(cell))

        client.on_notebook_start = notebook_start
        client.on_cell_start = cell_start
        client.on_cell_executed = cell_executed

    def _gid(self, cell) -> str | None:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        return gid if cell.cell_type == "code" and gid in self.checks else None

    async def _take(self, client, gid: str) -> None:
        if gid in self.requested:
            return  # a pasted copy of the cell is removed by the writer; never snapshot twice
        start = time.monotonic()
        try:
            self.requested[gid] = ""
            await self._silent(client, _request_code(gid, self.path), "snapshot")
        except Exception as exc:  # noqa: BLE001 - the checks of this cell fail with the reason
            self.requested[gid] = f"the snapshot after this cell failed ({exc})"
        self.seconds["requests"] += round(time.monotonic() - start, 3)

    async def _silent(self, client, code: str, what: str, must_succeed: bool = False) -> None:
        msg_id = client.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{what}: the kernel did not answer within {REQUEST_TIMEOUT} s")
            try:
                msg = await client.kc.get_shell_msg(timeout=min(left, 1.0))
            except Exception:  # queue.Empty: check the kernel is still alive and wait on
                if not await client.km.is_alive():
                    raise RuntimeError(f"{what}: the kernel died")
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = msg.get("content", {})
            if content.get("status") != "ok":
                err = f"{content.get('ename', '')}: {content.get('evalue', '')}"[:200]
                if must_succeed:
                    raise RuntimeError(f"{what} failed in the kernel: {err}")
                raise RuntimeError(err)
            return

    def _accept_loop(self) -> None:
        accepted = 0
        while not self._closing:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            accepted += 1
            if accepted > MAX_CONNECTIONS:
                conn.close()
                continue
            threading.Thread(target=self._hello, args=(conn,), daemon=True).start()

    def _hello(self, conn: socket.socket) -> None:
        try:
            creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid, uid, _ = struct.unpack("3i", creds)
            conn.settimeout(HELLO_TIMEOUT)
            hello = recv_msg(conn, limit=4096)
            gid = hello.get("grade_id") if isinstance(hello, dict) else None
            if (self.uid is not None and uid != self.uid) or not isinstance(gid, str) or gid not in self.checks:
                conn.close()
                return
            conn.settimeout(None)
            with self._lock:
                self.children.setdefault(gid, []).append((conn, pid))
        except Exception:  # noqa: BLE001 - a broken or hostile hello is simply not a snapshot
            conn.close()

    # ------------------------------------------------------------------ after the kernel is dead
    def collect(self) -> dict:
        """Send every snapshot child its checks, gather the replies, kill the children."""
        start = time.monotonic()
        try:
            return self._collect()
        finally:
            self.seconds["checks"] = round(time.monotonic() - start, 3)

    def _collect(self) -> dict:
        self._closing = True
        with contextlib.suppress(OSError):
            self._server.close()
        time.sleep(0.05)  # a hello already in flight
        with self._lock:
            children = {g: list(c) for g, c in self.children.items()}
        if self.uid is not None:
            keep = {pid for conns in children.values() for _, pid in conns}
            _kill_uid_except(self.uid, keep)
        out: dict[str, dict] = {}
        live: dict[socket.socket, tuple[str, int]] = {}
        for gid, checks in self.checks.items():
            conns = children.get(gid, [])
            if len(conns) != 1:
                if len(conns) > 1:
                    reason = f"{len(conns)} processes claimed the snapshot of this cell (an impostor?)"
                else:
                    reason = self.requested.get(gid) or (
                        "the notebook did not reach this cell" if gid not in self.requested
                        else "the kernel's snapshot never arrived (did student code replace it, or the kernel die?)")
                out[gid] = {"error": reason}
                continue
            conn, pid = conns[0]
            try:
                conn.settimeout(5)
                send_msg(conn, {"checks": checks})
                conn.setblocking(False)
                live[conn] = (gid, len(checks))
                out[gid] = {"replies": []}
            except OSError as exc:
                out[gid] = {"error": f"the snapshot of this cell is gone ({type(exc).__name__})"}
        self._gather(live, out)
        for conns in children.values():
            for conn, pid in conns:
                with contextlib.suppress(OSError):
                    conn.close()
                if self.uid is None:  # in the sandbox the slot cleanup kills the uid's processes
                    _kill_child(pid)
        return out

    def _gather(self, live: dict, out: dict) -> None:
        buffers = {c: b"" for c in live}
        deadline = time.monotonic() + self.eval_timeout
        while live and time.monotonic() < deadline:
            ready, _, _ = select.select(list(live), [], [], max(0.0, min(1.0, deadline - time.monotonic())))
            for conn in ready:
                gid, expected = live[conn]
                try:
                    chunk = conn.recv(1 << 20)
                except OSError:
                    chunk = b""
                if not chunk:
                    del live[conn]
                    continue
                buffers[conn] += chunk
                while len(buffers[conn]) >= 4:
                    (size,) = struct.unpack("!I", buffers[conn][:4])
                    if len(buffers[conn]) < 4 + size:
                        break
                    try:
                        reply = json.loads(buffers[conn][4:4 + size])
                    except ValueError:
                        reply = {"ok": False, "error": "malformed reply"}
                    buffers[conn] = buffers[conn][4 + size:]
                    out[gid]["replies"].append(reply)
                if len(out[gid]["replies"]) >= expected:
                    del live[conn]
        for conn, (gid, expected) in live.items():
            out[gid]["timed_out"] = f"checks took longer than {self.eval_timeout:g} s"

    def close(self) -> None:
        self._closing = True
        with contextlib.suppress(OSError):
            self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _kill_uid_except(uid: int, keep: set[int]) -> None:
    """Everything the student left running (daemons, forks) except the registered snapshot children."""
    if uid == 0:
        return
    for _ in range(5):
        victims = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) not in keep:
                with contextlib.suppress(OSError):
                    if entry.stat().st_uid == uid:
                        victims.append(int(entry.name))
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)


def _kill_child(pid: int) -> None:
    """Without the sandbox (trusted code) the children run as us: kill exactly the ones that registered."""
    if pid and pid != os.getpid():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
