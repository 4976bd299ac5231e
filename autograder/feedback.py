"""Feedback HTML for students: their own work, their points, and what each check found.

Per notebook: a score table (points per exercise), then the student's notebook as the grader ran it —
their own code and outputs (plots included) — where each graded cell shows the released (visible)
source, the kernel's visible output (the self-check's own message) and the grader's verdict list.

Why nothing hidden can be in it: hidden tests never ran in the kernel whose outputs are shown (they
ran in forks of it after it was dead, see snapshots.py), and the graded notebook holds only the visible
part of each graded cell. Defence in depth anyway: an output that quotes a hidden-test line, plainly or
base64/zlib-encoded, is removed, and a final scan of the rendered HTML refuses to write a file that
still contains one.
"""
from __future__ import annotations

import base64
import binascii
import html
import logging
import re
import zlib
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_output

from . import checks, report, scoring
from .nbgrader_patches import use_fast_alembic_head
from .settings import Settings

log = logging.getLogger("autograder")
MIN_SECRET = 8  # shorter hidden lines (`)`, `pass`) say nothing and appear everywhere
_B64 = re.compile(r"[A-Za-z0-9+/=_-]{24,}")


class LeakError(RuntimeError):
    pass


def hidden_lines_of(source: str) -> set[str]:
    """Stripped lines of a cell's hidden part that are long enough to identify it."""
    try:
        _, hidden = checks.split_cell(source)
    except checks.AuthoringError:
        hidden = source
    return {s for s in (line.strip() for line in hidden.splitlines()) if len(s) >= MIN_SECRET}


def hidden_test_lines(source_dir: Path) -> set[str]:
    """Hidden lines of every source notebook in a folder (the instructor's copy)."""
    lines: set[str] = set()
    for path in sorted(source_dir.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            lines |= hidden_lines_of(cell.source)
    return lines


def gradebook_hidden_lines(settings: Settings) -> dict[tuple[str, str], set[str]]:
    """{(assignment, notebook): hidden lines} from the gradebook's copy of the source cells."""
    from nbgrader.api import Gradebook
    use_fast_alembic_head()
    out: dict[tuple[str, str], set[str]] = {}
    with Gradebook(settings.gradebook_url, settings.course_id) as gb:
        for assignment in gb.assignments:
            for notebook in assignment.notebooks:
                lines = out.setdefault((assignment.name, notebook.name), set())
                for cell in notebook.source_cells:
                    lines |= hidden_lines_of(cell.source)
    return out


def decoded_texts(text: str) -> list[str]:
    """The text plus whatever base64 (plain or zlib-compressed) or hex tokens in it decode to."""
    found = [text]
    for token in _B64.findall(text):
        raw = None
        for decode in (lambda t: base64.b64decode(t + "=" * (-len(t) % 4), validate=False),
                       lambda t: base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)), bytes.fromhex):
            try:
                raw = decode(token)
            except (binascii.Error, ValueError):
                continue
            for data in (raw, _inflate(raw)):
                if data:
                    found.append(data.decode("utf-8", errors="replace"))
    return found


def _inflate(raw: bytes) -> bytes | None:
    for wbits in (15, -15, 31):
        try:
            return zlib.decompress(raw, wbits)
        except zlib.error:
            continue
    return None


def _text_of(output) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    for value in output.get("data", {}).values():
        parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def quotes_secret(text: str, secrets: set[str]) -> bool:
    return any(s in t for t in decoded_texts(text) for s in secrets)


def student_notebook(graded, released, secrets: set[str], rows: list[dict], title: str):
    """The feedback notebook (see the module docstring)."""
    released_src = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in released.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id")}
    nb = nbformat.v4.new_notebook(metadata=graded.metadata)
    nb.cells.append(new_markdown_cell(_header(title, rows, graded)))
    for cell in graded.cells:
        cell = nbformat.from_dict(cell)
        meta = cell.metadata.get("nbgrader", {})
        graded_cell = "autograder" in cell.metadata or (meta.get("grade") and not meta.get("solution"))
        if cell.cell_type == "code":
            outputs = [o for o in cell.outputs if not o.get("metadata", {}).get(scoring.VERDICT_MARK)]
            cell.outputs = [o if not quotes_secret(_text_of(o), secrets) else
                            new_output("stream", name="stderr",
                                       text="[output removed: it quoted hidden test code]\n") for o in outputs]
        if graded_cell and meta.get("grade_id") in released_src:
            cell.source = released_src[meta["grade_id"]]
        record = cell.metadata.pop("autograder", None)
        nb.cells.append(cell)
        if graded_cell:
            nb.cells.append(new_markdown_cell(_verdicts_md(meta.get("grade_id", ""), record)))
    return nb


def _header(title: str, rows: list[dict], graded) -> str:
    total = sum(r["score"] for r in rows), sum(r["max_score"] for r in rows)
    records = {c.metadata.get("nbgrader", {}).get("grade_id"): c.metadata.get("autograder")
               for c in graded.cells if c.metadata.get("autograder")}
    lines = [f"# Feedback: {title}", "", f"**Score: {total[0]:g} / {total[1]:g}**", "",
             "| exercise | points | checks passed |", "|---|---|---|"]
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    for r in sorted(rows, key=lambda r: order.index(r["cell"]) if r["cell"] in order else len(order)):
        rec = records.get(r["cell"]) or {}
        passed = [c["passed"] for c in rec.get("checks", [])]
        lines.append(f"| `{html.escape(r['cell'])}` | {r['score']:g} / {r['max_score']:g} | "
                     f"{sum(passed)} of {len(passed)} |" if passed else
                     f"| `{html.escape(r['cell'])}` | {r['score']:g} / {r['max_score']:g} | not run |")
    return "\n".join(lines)


def _verdicts_md(grade_id: str, record: dict | None) -> str:
    if not record:
        return f"**Grader — `{html.escape(grade_id)}`: not graded** (the notebook stopped before this cell)."
    items = "\n".join(f"- {_md_escape(c['message'])}" for c in record.get("checks", []))
    return (f"**Grader — `{html.escape(grade_id)}`: {record['points']:g} / {record['max_points']:g} points**"
            f"\n\n{items}")


def _md_escape(text: str) -> str:
    """Messages are plain text: keep markdown/HTML from interpreting them (backticks stay code)."""
    text = html.escape(text, quote=False)
    return re.sub(r"([\\*_\[\]#|])", r"\\\1", text)


def generate(settings: Settings, students: list[str] | None = None) -> list[Path]:
    """Feedback HTML for every graded notebook (of `students`). Rendering (nbconvert, ~1 s a notebook)
    runs on `settings.jobs` processes; the gradebook is read once, here."""
    rows = report.cell_rows(settings)
    hidden = gradebook_hidden_lines(settings)
    jobs = []
    for nb_path in sorted(settings.autograded.glob("*/*/*.ipynb")):
        student, assignment = nb_path.parent.parent.name, nb_path.parent.name
        released_path = settings.release_build / assignment / nb_path.name
        if (students and student not in students) or not released_path.exists():
            continue
        mine = [r for r in rows if (r["student"], r["assignment"], r["notebook"]) == (student, assignment, nb_path.stem)]
        out = settings.feedback / student / assignment / f"{nb_path.stem}.html"
        jobs.append((nb_path, released_path, hidden.get((assignment, nb_path.stem), set()), mine, out))
    if settings.jobs > 1 and len(jobs) > 2:
        import concurrent.futures as cf
        import multiprocessing
        with cf.ProcessPoolExecutor(min(settings.jobs, len(jobs)),
                                    mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_render, jobs))
    else:
        results = [_render(job) for job in jobs]
    leaks = [r for r in results if isinstance(r, str)]
    if leaks:
        raise LeakError(leaks[0])
    return results


def _render(job) -> Path | str:
    """Write one feedback file; return its path, or (for a leak) the reason it was not written."""
    nb_path, released_path, secrets, rows, out = job
    student, assignment = nb_path.parent.parent.name, nb_path.parent.name
    released = nbformat.read(released_path, as_version=4)
    graded = nbformat.read(nb_path, as_version=4)
    # a line students were given (in the release) is no secret, even if a hidden part repeats it
    secrets = secrets - {line.strip() for c in released.cells for line in c.source.splitlines()}
    nb = student_notebook(graded, released, secrets, rows, f"{assignment} / {nb_path.stem}")
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(nb)
    # what a reader sees too: highlighted code is split into <span>s, which the raw scan would miss
    seen = html.unescape(re.sub(r"<[^>]+>", "", body))
    leaked = [s for s in secrets if s in body or html.escape(s) in body or s in seen]
    if leaked:
        return (f"feedback for {student}/{assignment}/{nb_path.name} would show hidden test text "
                f"{leaked[0]!r}; not written")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body)
    return out
