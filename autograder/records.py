"""The records the grader passes around: a task for a worker, its result, a journal entry.

Task and Result travel between processes and machines (a spawn pool, Dask workers elsewhere), so
they hold plain picklable data: the notebook as JSON text and support files as bytes, never a path
to read. A JournalEntry is the per-submission record written under build/journal/ as JSON after its
scores are committed; `to_json`/`from_json` are its only on-disk form. A journal that does not parse
as the current format is treated as absent, so its submission is simply graded again.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from . import defaults

JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class Task:
    """One notebook to execute: everything the worker needs, nothing it would have to read."""
    key: str                          # student/assignment/notebook, for logs and the result
    nb: str                           # the sanitized notebook, nbformat JSON text
    files: dict[str, bytes] = field(default_factory=dict)   # support files: relative path -> content
    cell_timeout: int = defaults.CELL_TIMEOUT_S
    notebook_timeout: int = defaults.NOTEBOOK_TIMEOUT_S
    memory_mb: int = defaults.MEMORY_MB
    max_output_bytes: int = defaults.MAX_OUTPUT_BYTES
    max_notebook_output_bytes: int | None = None   # None: a multiple of max_output_bytes (worker.py)
    max_pids: int = defaults.MAX_PIDS
    disk_mb: int = defaults.DISK_MB
    sandbox: bool = True
    extra_hidden: list[str] = field(default_factory=list)   # folders the jail hides besides the defaults
    snapshot_checks: dict = field(default_factory=dict)     # scoring.wire(): grade id -> wired checks

    def __post_init__(self):
        # A wrong type here would surface deep inside a worker on another machine; say it here.
        if not isinstance(self.nb, str):
            raise TypeError(f"Task {self.key!r}: nb must be the notebook's JSON text (str), got {type(self.nb).__name__}")
        for rel, data in self.files.items():
            if not isinstance(data, bytes):
                raise TypeError(f"Task {self.key!r}: files[{rel!r}] must be bytes, got {type(data).__name__}")

    @classmethod
    def of(cls, task: "Task | dict") -> "Task":
        """A Task as is, or one built from a dict of its fields (unknown keys are an error that names them)."""
        if isinstance(task, cls):
            return task
        unknown = set(task) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"Task: unknown field(s) {sorted(unknown)}")
        return cls(**task)


@dataclass
class Result:
    """What the worker hands back for one Task (it never touches the gradebook)."""
    key: str
    status: str = "ok"                # "ok", "kernel_died" or "infrastructure error"
    reason: str = ""                  # why, when status is not "ok"
    nb: str = ""                      # the executed notebook, nbformat JSON text
    seconds: float = 0.0
    truncated: list[str] = field(default_factory=list)   # cells whose output was capped
    timed_out: list[str] = field(default_factory=list)   # cells interrupted at cell_timeout
    notes: list[str] = field(default_factory=list)       # limits not applied, out-of-memory kills
    peak_memory_mb: float | None = None                  # None without a memory cgroup
    oom_kills: int = 0
    snapshots: dict | None = None     # grade id -> values the kernel handed over (snapshots.py)
    snapshot_seconds: dict = field(default_factory=dict)


@dataclass
class NotebookEntry:
    """One notebook of a submission as the journal and the report show it."""
    status: str = "ok"                # "ok", "not graded", "kernel_died", "infrastructure error"
    problems: list[str] = field(default_factory=list)    # why points were lost outside the checks
    flags: list[str] = field(default_factory=list)       # for the instructor: edits, limits, refusals
    seconds: float | None = None                         # set once executed
    snapshot_seconds: dict | None = None
    peak_memory_mb: float | None = None
    checks: dict | None = None        # scoring.score_notebook's verdicts per grade id

    def to_json(self) -> dict:
        # Fields that never got a value are left out, as a notebook that was not executed has none.
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class JournalEntry:
    """One submission, graded: written to the journal only after its scores are in the gradebook."""
    student: str
    assignment: str
    digest: str                       # of the submitted files: a changed submission is graded again
    notebooks: dict[str, NotebookEntry] = field(default_factory=dict)
    graded_at: str = ""

    @property
    def infrastructure_error(self) -> bool:
        return any(nb.status == "infrastructure error" for nb in self.notebooks.values())

    def to_json(self) -> dict:
        return {"format": JOURNAL_FORMAT, "student": self.student, "assignment": self.assignment,
                "digest": self.digest, "graded_at": self.graded_at,
                "notebooks": {name: nb.to_json() for name, nb in self.notebooks.items()}}

    @classmethod
    def from_json(cls, data: dict) -> "JournalEntry":
        """Raises ValueError for anything that is not a journal entry of the current format."""
        if not isinstance(data, dict) or data.get("format") != JOURNAL_FORMAT:
            raise ValueError(f"not a journal entry of format {JOURNAL_FORMAT}")
        try:
            notebooks = {name: NotebookEntry(**info) for name, info in data["notebooks"].items()}
            return cls(student=data["student"], assignment=data["assignment"], digest=data["digest"],
                       notebooks=notebooks, graded_at=data.get("graded_at", ""))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed journal entry: {type(exc).__name__}: {exc}") from exc
