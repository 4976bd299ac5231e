"""Parent-side steps around execution: find submissions, sanitize notebooks, save scores.

Everything that reads or writes the gradebook happens here, in the one process that owns it.
Sanitizing = nbgrader's own preprocessors (clear outputs, de-duplicate ids, restore kernelspec and
locked cells from the gradebook) plus what nbgrader does not do: detect and *report* edited or deleted
locked cells, put deleted ones back in their place, and explain missing/renamed/corrupt notebooks.
"""
from __future__ import annotations

import copy
import hashlib
import logging
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader import utils as nbu
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, LimitOutput,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

from . import intake
from .settings import Settings

log = logging.getLogger("autograder")


@dataclass
class Submission:
    student: str
    assignment: str
    path: Path  # folder with the student's notebooks for this assignment
    refused: str = ""   # why nothing of it is read (a linked student or assignment folder, ...)
    _intake: intake.Intake | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.student}/{self.assignment}"

    @property
    def files(self) -> intake.Intake:
        """The submission's plain files, read once (intake.py: no link, FIFO or device is followed)."""
        if self._intake is None:
            self._intake = read_submission(self)
        return self._intake


def read_submission(sub: Submission) -> intake.Intake:
    if sub.refused:
        return intake.Intake(refused=[sub.refused])
    try:
        return intake.read_tree(sub.path.parent.parent, (sub.path.parent.name, sub.path.name))
    except intake.Refused as exc:
        sub.refused = f"{sub.student}/{exc}"
        return intake.Intake(refused=[sub.refused])
    except OSError as exc:
        sub.refused = f"{sub.student}/{sub.assignment}: cannot be read ({exc.strerror or exc})"
        return intake.Intake(refused=[sub.refused])


@dataclass
class PreparedNotebook:
    notebook: str
    nb: object | None          # sanitized notebook, None when it cannot be graded
    problem: str = ""          # why it cannot be graded (missing, corrupt, ...)
    flags: list[str] = field(default_factory=list)


class PrepError(Exception):
    pass


def discover(root: Path, assignments: list[str]) -> list[Submission]:
    """nbgrader layout: ROOT/<student>/<assignment>/*.ipynb. A student folder that is itself an
    assignment (ROOT/<student>/*.ipynb, as a single-assignment CI repository has) also works when
    exactly one assignment is known."""
    found = []
    if not root.is_dir():
        raise PrepError(f"submissions folder not found: {root}")
    # lstat only: a student or assignment folder that is a symbolic link (to another student, to
    # course/) is reported, never followed.
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            why = f"{entry.name}: {intake.refusal(None, entry.name, entry.stat(follow_symlinks=False))}"
            why = why.replace("symbolic link;", f"symbolic link{_target(entry.path)};")
            found += [Submission(entry.name, a, Path(entry.path) / a, refused=why) for a in assignments]
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        for assignment in assignments:
            path = Path(entry.path) / assignment
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue
            why = intake.refusal(None, assignment, st)
            if why or not stat.S_ISDIR(st.st_mode):
                why = why.replace("symbolic link;", f"symbolic link{_target(path)};") or \
                    f"is {intake.kind(st.st_mode)}, not a folder"
                found.append(Submission(entry.name, assignment, path, refused=f"{entry.name}/{assignment}: {why}"))
            else:
                found.append(Submission(entry.name, assignment, path))
    return found


def _target(path) -> str:
    try:
        return f" to {os.readlink(path)[:120]!r}"
    except OSError:
        return ""


def unpack_zips(root: Path, dest: Path, assignments: list[str]) -> Path:
    """A folder of `<student>.zip` files (what an LMS download or nbgrader's zip collection gives)
    becomes the usual `<student>/<assignment>/` layout under `dest`. Zips holding notebooks at the
    top level go to the only assignment, or to the one whose notebook names they match."""
    import zipfile

    zips = sorted(root.glob("*.zip")) if root.is_dir() else [root]
    if dest.exists():
        shutil.rmtree(dest)
    for zpath in zips:
        student = zpath.stem
        try:
            with zipfile.ZipFile(zpath) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                for m in members:
                    parts = Path(m.filename).parts
                    # zip-slip: no absolute paths, no '..', nothing hidden
                    if Path(m.filename).is_absolute() or ".." in parts or any(p.startswith(".") for p in parts):
                        raise PrepError(f"{zpath.name}: refusing suspicious path {m.filename!r}")
                if sum(m.file_size for m in members) > 200 * 2**20:
                    raise PrepError(f"{zpath.name}: more than 200 MB unpacked")
                top = {Path(m.filename).parts[0] for m in members if len(Path(m.filename).parts) > 1}
                prefix = "" if top & set(assignments) else (assignments[0] if len(assignments) == 1 else "")
                for m in members:
                    target = dest / student / prefix / m.filename
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(m))
        except zipfile.BadZipFile as exc:
            raise PrepError(f"{zpath}: not a zip file ({exc})")
    return dest


def submission_digest(sub: Submission, settings: Settings) -> str:
    """Identity of what is being graded: the student's files (what intake read, and what it refused)
    and the released assignment (ours: read normally)."""
    h = hashlib.sha256()
    for rel, data in sorted(sub.files.files.items()):
        h.update(rel.encode() + b"\0" + data + b"\0")
    for why in sub.files.refused:
        h.update(b"refused\0" + why.encode() + b"\0")
    base = settings.release_build / sub.assignment
    for f in sorted(p for p in base.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(base)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def resources(settings: Settings, sub: Submission, notebook: str) -> dict:
    return {"nbgrader": {"notebook": notebook, "assignment": sub.assignment, "student": sub.student,
                         "db_url": settings.gradebook_url}}


class _TrackingOverwriteCells(OverwriteCells):
    """nbgrader's restore of locked cells from the gradebook, remembering what it had to change.
    The checksum comparison is ours (against the released cell): the gradebook's checksum includes the
    hidden tests that the student never saw, so it differs for every untouched test cell."""

    changes: list

    def report_change(self, name, attr, old, new):
        if attr != "checksum":
            self.changes.append(f"{name}: {attr} changed from {old} to {new} (restored)")


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def sanitize(settings: Settings, sub: Submission, notebook: str) -> PreparedNotebook:
    path = sub.path / f"{notebook}.ipynb"
    released_path = settings.release_build / sub.assignment / f"{notebook}.ipynb"
    if sub.refused:
        return PreparedNotebook(notebook, None, f"not graded: {sub.refused}")
    refused = [why for why in sub.files.refused if why.startswith(f"{notebook}.ipynb:")]
    if refused:
        return PreparedNotebook(notebook, None, f"not graded: {refused[0]}")
    if path.name not in sub.files.files:
        others = sorted(n for n in sub.files.files if n.endswith(".ipynb") and "/" not in n
                        and n[:-6] not in _expected_notebooks(settings, sub.assignment))
        hint = f"; found unexpected {', '.join(others)} — renamed? notebooks must keep their names" if others else ""
        return PreparedNotebook(notebook, None, f"missing {notebook}.ipynb{hint}")
    try:
        nb = nbformat.reads(sub.files.files[path.name].decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        return PreparedNotebook(notebook, None, f"corrupt {path.name}: {type(exc).__name__}: {str(exc)[:200]}")
    released = nbformat.read(released_path, as_version=4)
    res = resources(settings, sub, notebook)
    flags: list[str] = []
    try:
        nb, _ = ClearOutput().preprocess(nb, res)
        flags += _ignore_duplicate_ids(nb, released)
        nb, _ = DeduplicateIds().preprocess(nb, res)
        flags += _restore_locked_cells(nb, released)
        nb, _ = OverwriteKernelspec().preprocess(nb, res)
        overwrite = _TrackingOverwriteCells()
        overwrite.changes = []
        nb, _ = overwrite.preprocess(nb, res)
        flags += overwrite.changes
        nb, _ = CheckCellMetadata().preprocess(nb, res)
    except Exception as exc:
        return PreparedNotebook(notebook, None,
                                f"unusable {path.name}: {type(exc).__name__}: {str(exc)[:200]}", flags)
    return PreparedNotebook(notebook, nb, "", flags)


def _ignore_duplicate_ids(nb, released) -> list[str]:
    """A pasted copy of a cell carries the same grade id. Keep one cell per id as the graded one (for a
    locked cell the first copy identical to the release, else the first), and turn the others into
    plain code cells: they still run (they are the student's), but score nothing and cannot win a
    restore. nbgrader alone would empty their metadata and make the notebook unusable."""
    flags, by_id = [], {}
    for i, cell in enumerate(nb.cells):
        gid = _grade_id(cell)
        if gid:
            by_id.setdefault(gid, []).append(i)
    released_cells = {_grade_id(c): c for c in released.cells if _grade_id(c)}
    for gid, places in by_id.items():
        if len(places) < 2:
            continue
        original = released_cells.get(gid)
        keep = places[0]
        if original is not None and nbu.is_locked(original):
            keep = next((i for i in places if nb.cells[i].source == original.source), places[0])
        for i in places:
            if i != keep:
                nb.cells[i].metadata.pop("nbgrader", None)
                flags.append(f"{gid}: a copy of this cell (cell {i + 1}) was ignored; the original is graded")
    return flags


def _restore_locked_cells(nb, released) -> list[str]:
    """Flag locked cells whose text differs from the release, and put deleted ones back after the
    nearest preceding cell that is still there (order taken from the release)."""
    flags = []
    rel_cells = [c for c in released.cells if _grade_id(c)]
    locked = {_grade_id(c): c for c in rel_cells if nbu.is_locked(c)}
    present = {}
    for i, cell in enumerate(nb.cells):
        gid = _grade_id(cell)
        if gid in locked:
            present[gid] = i
            original = locked[gid]
            if (cell.cell_type != original.cell_type or cell.metadata.get("nbgrader") != original.metadata.nbgrader
                    or nbu.compute_checksum(cell) != nbu.compute_checksum(original)):
                flags.append(f"{gid}: locked cell was edited (restored)")
                # Whole cell, metadata included: flipping `grade` or `points` must not stick either.
                nb.cells[i] = copy.deepcopy(original)
    order = [_grade_id(c) for c in rel_cells]
    for pos, gid in enumerate(order):
        if gid in locked and gid not in present:
            flags.append(f"{gid}: locked cell was deleted (restored)")
            after = -1
            for prev in reversed(order[:pos]):
                idx = next((i for i, c in enumerate(nb.cells) if _grade_id(c) == prev), None)
                if idx is not None:
                    after = idx
                    break
            nb.cells.insert(after + 1, copy.deepcopy(locked[gid]))
            present[gid] = after + 1
    return flags


def _expected_notebooks(settings: Settings, assignment: str) -> list[str]:
    return sorted(p.stem for p in (settings.release_build / assignment).glob("*.ipynb"))


def expected_notebooks(settings: Settings, assignment: str) -> list[str]:
    return _expected_notebooks(settings, assignment)


STUDENT_SUPPORT_FILE_BYTES = 10 * 2**20


def support_files(settings: Settings, sub: Submission) -> dict[str, bytes]:
    """Files the kernel's working folder gets: the student's extra files (as intake read them: plain
    files only), then the instructor's versions of the assignment's data files on top (as nbgrader does)."""
    files = {rel: data for rel, data in sub.files.files.items()
             if not rel.endswith(".ipynb") and len(data) < STUDENT_SUPPORT_FILE_BYTES}
    base = settings.source / sub.assignment
    for f in sorted(base.rglob("*")):
        rel = f.relative_to(base)
        if f.is_file() and f.suffix != ".ipynb" and not any(part.startswith(".") for part in rel.parts):
            files[str(rel)] = f.read_bytes()
    return files


def refused_files(sub: Submission, notebooks: list[str] = ()) -> list[str]:
    """What the report says about the submission's files that were not read (empty when all were).
    A refused graded notebook is left out: that notebook's own problem already names it."""
    own = tuple(f"{nb}.ipynb:" for nb in notebooks)
    return [f"refused {why}" for why in sub.files.refused if not sub.refused and not why.startswith(own)]


def save_scores(settings: Settings, sub: Submission, notebook: str, nb) -> object:
    """Output limits and scores: nbgrader's LimitOutput and SaveAutoGrades, in the writer process."""
    res = resources(settings, sub, notebook)
    limit = LimitOutput(max_lines=settings.max_lines, max_traceback=settings.max_traceback)
    nb, _ = limit.preprocess(nb, res)
    nb, _ = SaveAutoGrades().preprocess(nb, res)
    return nb


def zero_scores(gb, sub: Submission, notebook: str) -> None:
    """A notebook we could not run scores zero — explicitly, so it needs no manual grading."""
    snb = gb.find_submission_notebook(notebook, sub.assignment, sub.student)
    for grade in snb.grades:
        grade.auto_score = 0
        grade.needs_manual_grade = False
    gb.db.commit()
