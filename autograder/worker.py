"""Execute one notebook in a jailed kernel. Runs in a pool worker (process, thread or Dask worker).

Pure function of its input: it never touches the gradebook (the single writer is the parent), so any
`concurrent.futures.Executor` can run it. What it defends against:
- a cell that runs too long: nbclient interrupts it after `cell_timeout`, we record an error on it;
- a loop that ignores SIGINT: a watchdog kills the kernel at `notebook_timeout`;
- a kernel that dies (os._exit, segfault, memory): the notebook gets a reason, never a crash here;
- a flood of output: capped per cell and per notebook while it streams, display updates included
  (outputs.py), so the worker's memory and the graded notebook stay bounded;
- the network: the kernel has a network namespace of its own; the worker talks to it over
  jupyter_client's `ipc` transport (Unix sockets in the slot's 0700 working folder);
- memory, processes, CPU, disk: a cgroup and a tmpfs quota per notebook (sandbox.Resources);
- a student silencing exceptions (custom exception handlers): a cell whose execute_reply says
  "error" always ends up with an error output, so nbgrader cannot score it as passed.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from traitlets import List as TList

from . import sandbox, snapshots
from .outputs import CappedOutputs
from .records import Result, Task

# The whole notebook's outputs may be this many times one cell's (plots add up over a notebook).
NOTEBOOK_OUTPUT_CELLS = 10


class JailedKernelManager(AsyncKernelManager):
    jail_prefix = TList()

    def format_kernel_cmd(self, extra_arguments=None):
        # The jail becomes the kernel via exec, so the pid jupyter_client tracks is the kernel's.
        return list(self.jail_prefix) + super().format_kernel_cmd(extra_arguments)


def _error(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GradingClient(CappedOutputs):
    """nbclient with output budgets (outputs.py) and a record of what each cell's reply said."""

    def __init__(self, nb, max_output_bytes: int, max_notebook_bytes: int | None = None, **kw):
        super().__init__(nb, max_output_bytes, max_notebook_bytes or NOTEBOOK_OUTPUT_CELLS * max_output_bytes, **kw)
        self.replies: dict[int, str] = {}
        self.timed_out: set[int] = set()
        self.current = -1
        self.kill_reason = ""
        self.on_cell_start = self._start
        self.on_cell_executed = self._executed

    def _start(self, cell, cell_index):
        self.current = cell_index

    def _executed(self, cell, cell_index, execute_reply):
        self.replies[cell_index] = (execute_reply or {}).get("content", {}).get("status", "none")

    async def _async_handle_timeout(self, timeout, cell=None):
        if self.current in self.timed_out:
            # Interrupted one full timeout ago and still no reply: the code ignores SIGINT.
            self.kill_reason = (f"{_label(self.nb, self.current)} ran over {timeout} s and ignored the interrupt; "
                                "kernel killed")
            pid = getattr(self.km.provisioner, "pid", None)
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise DeadKernelError(self.kill_reason)
        self.timed_out.add(self.current)
        return await super()._async_handle_timeout(timeout, cell)


def warm_up() -> int:
    """Submitted once per pool worker at start: unpickling it imports this module."""
    return os.getpid()


def execute_notebook(task: Task | dict) -> Result:
    """Run task.nb in a fresh jailed kernel (records.Task: a dict of its fields is accepted too);
    return the executed notebook and what happened to it (records.Result)."""
    start = time.monotonic()
    task = Task.of(task)
    nb = nbformat.reads(task.nb, as_version=4)
    result = Result(key=task.key)
    resources = sandbox.Resources(memory_bytes=task.memory_mb * 2**20, max_pids=task.max_pids,
                                  disk_bytes=task.disk_mb * 2**20) if task.sandbox else None
    with sandbox.slot(task.sandbox, resources) as slot:
        result.notes = list(slot.notes)
        for rel, data in task.files.items():
            dest = slot.workdir / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        if task.sandbox:
            for root, dirs, files in os.walk(slot.workdir):
                for name in dirs + files:
                    os.chown(os.path.join(root, name), slot.uid, slot.gid)
        km = JailedKernelManager(kernel_name="python3")
        km.connection_file = str(slot.workdir / ".kernel.json")
        # Unix sockets in the 0700 working folder: reachable by this worker (root, or the same user
        # without the sandbox) and by nothing else — the kernel has no network to offer TCP ports on.
        km.transport = "ipc"
        km.ip = str(slot.workdir / ".kernel")
        limits = {"as": task.memory_mb * 2**20, "fsize": 256 * 2**20, "core": 0}
        if task.sandbox:
            limits["nproc"] = 256  # per uid, and each slot has its own uid
        spec = sandbox.jail_spec(slot, sandbox.kernel_env(slot.workdir), limits,
                                 task.extra_hidden, chown=[km.connection_file])
        if not task.sandbox:
            spec.update(namespace=False, uid=None, chown=[])
        km.jail_prefix = sandbox.launcher_cmd(spec)
        client = GradingClient(
            nb, task.max_output_bytes, task.max_notebook_output_bytes, km=km, timeout=task.cell_timeout,
            interrupt_on_timeout=True, allow_errors=True, shell_timeout_interval=1,
            startup_timeout=60, kernel_name="python3", record_timing=False,
            resources={"metadata": {"path": str(slot.workdir)}})
        # Hidden checks: a snapshot (fork) of the kernel after each graded cell, evaluated once it is dead.
        snaps = snapshots.Snapshots(slot.workdir, task.snapshot_checks,
                                    slot.uid if task.sandbox else None, eval_timeout=task.cell_timeout)
        snaps.attach(client)
        killed = threading.Event()

        def watchdog():
            # Backstop for code that ignores SIGINT: kill the whole kernel when the notebook is over time.
            if not done.wait(task.notebook_timeout):
                killed.set()
                pid = getattr(km.provisioner, "pid", None) if km.provisioner else None
                if pid:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass

        done = threading.Event()
        threading.Thread(target=watchdog, daemon=True).start()
        try:
            # The kernel's own stdout/stderr is chatter (connection banners) or the student's raw fd
            # writes; neither belongs in the grader's log.
            # A private event loop: nbclient's sync wrapper shares loops between threads, which
            # breaks when an executor runs several notebooks in threads of one process (Dask).
            asyncio.run(client.async_execute(cwd=str(slot.workdir), stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
        except DeadKernelError:
            result.status = "kernel_died"
            result.reason = client.kill_reason or _death_reason(km, killed.is_set(), task.notebook_timeout)
            if client.current < 0:  # died before running a single cell: the jail or the kernel, not the student
                result.status = "infrastructure error"
                result.reason = f"kernel did not start ({result.reason})"
        except Exception as exc:  # not the student's doing (those are handled above): the grader's
            result.status = "infrastructure error"
            result.reason = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            done.set()
            _stop_kernel(client, km)
            result.snapshots = snaps.collect()  # the kernel is dead: only now do checks run
            result.snapshot_seconds = snaps.seconds
            _memory_report(slot, result, task.memory_mb)
    _mark_unscored_cells(client, nb, result, task.cell_timeout)
    result.truncated = [_label(nb, i) for i in sorted(client.truncated)]
    result.timed_out = [_label(nb, i) for i in sorted(client.timed_out)]
    result.nb = nbformat.writes(nb)
    result.seconds = round(time.monotonic() - start, 3)
    return result


def _memory_report(slot, result: Result, memory_mb: int) -> None:
    """What the notebook as a whole used; an out-of-memory kill names the notebook's limit."""
    if slot.cgroup is None or slot.cgroup.layout == "none":
        return
    peak = slot.cgroup.peak_memory()
    result.peak_memory_mb = round(peak / 2**20, 1) if peak is not None else None
    result.oom_kills = slot.cgroup.oom_kills()
    if result.oom_kills:
        note = (f"out of memory: the notebook's processes together reached its {memory_mb} MiB limit; "
                f"{result.oom_kills} process(es) killed")
        result.notes.append(note)
        if result.status == "kernel_died" and "SIGKILL" in result.reason:
            result.reason = f"kernel killed: {note}"


def _stop_kernel(client: GradingClient, km: JailedKernelManager) -> None:
    # We own the kernel manager, so nbclient leaves the kernel alone; close its sockets (a long-lived
    # worker would otherwise leak descriptors) and kill it. The slot's cleanup kills any child it left.
    if client.kc is not None:
        try:
            client.kc.stop_channels()
        except Exception:
            pass
    proc = getattr(km.provisioner, "process", None) if km.provisioner else None
    if proc is not None and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(10)
        except Exception:
            pass


def _death_reason(km, watchdog_fired: bool, notebook_timeout: int) -> str:
    if watchdog_fired:
        return f"notebook ran over {notebook_timeout} s; kernel killed"
    proc = getattr(km.provisioner, "process", None) if km.provisioner else None
    code = None
    if proc is not None:
        try:  # nbclient may notice the death (heartbeat) a moment before the process is gone
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
    if code is None:
        return "kernel stopped responding"
    if code < 0:
        name = signal.Signals(-code).name
        hint = {"SIGSEGV": " (segmentation fault)", "SIGKILL": " (killed; out of memory?)"}.get(name, "")
        return f"kernel died: signal {name}{hint}"
    return f"kernel died: exit code {code}"


def _label(nb, index: int) -> str:
    """How the report names a cell: its position (1-based, as Jupyter counts) and nbgrader id."""
    if not 0 <= index < len(nb.cells):
        return f"cell {index + 1}"
    gid = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1}" + (f" ({gid})" if gid else "")


def _mark_unscored_cells(client: GradingClient, nb, result: Result, cell_timeout: int) -> None:
    """nbgrader gives full marks to a grade cell without an error output; make sure every cell that
    did not really pass carries one."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        has_error = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if i in client.timed_out and not has_error:
            cell.outputs.append(_error("CellTimeoutError", f"cell ran over {cell_timeout} s and was interrupted"))
        elif i not in client.replies and result.status != "ok":
            cell.outputs.append(_error("NotExecuted", result.reason or "notebook did not finish"))
        elif client.replies.get(i, "ok") != "ok" and not has_error:
            cell.outputs.append(_error("ExecutionError", f"the kernel reported status {client.replies[i]!r}"))
