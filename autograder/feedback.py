"""Feedback HTML for students, built so that hidden tests cannot leak.

nbgrader's own feedback renders the autograded notebook, where the hidden tests were put back — their
source, and the tracebacks that quote them, reach the student. Here every graded cell whose source
differs from the released one shows the released source and only a pass/fail line, and any other
output that quotes a hidden-test line (a student can print `In`, or inspect the calling frame) is
removed. A final scan of the rendered HTML refuses to write a file that still contains one.
"""
from __future__ import annotations

import html
import logging
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbformat.v4 import new_markdown_cell, new_output

from . import report
from .settings import Settings

log = logging.getLogger("autograder")
MIN_SECRET = 8  # shorter hidden lines (`)`, `pass`) say nothing and appear everywhere


class LeakError(RuntimeError):
    pass


def hidden_test_lines(source_dir: Path) -> set[str]:
    lines, inside = set(), False
    for path in sorted(source_dir.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                s = line.strip()
                if "BEGIN HIDDEN TESTS" in s:
                    inside = True
                elif "END HIDDEN TESTS" in s:
                    inside = False
                elif inside and len(s) >= MIN_SECRET:
                    lines.add(s)
    return lines


def secret_lines(autograded, released) -> set[str]:
    """Lines the grader put back into locked cells that students never saw: the hidden tests.
    Taken from the graded notebook itself (restored from the gradebook), so no source folder is
    needed and nothing can be missed because an assignment moved."""
    visible = {line.strip() for c in released.cells for line in c.source.splitlines()}
    locked = [c for c in autograded.cells if c.metadata.get("nbgrader", {}).get("locked")
              or c.metadata.get("nbgrader", {}).get("grade")]
    return {line.strip() for c in locked for line in c.source.splitlines()
            if len(line.strip()) >= MIN_SECRET and line.strip() not in visible}


def _text_of(output) -> str:
    parts = [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
    for value in output.get("data", {}).values():
        parts.append(value if isinstance(value, str) else str(value))
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def sanitize_for_student(nb, released, secrets: set[str]):
    released_src = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in released.cells}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in released_src and cell.source != released_src[gid] and cell.cell_type == "code":
            failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            cell.source = released_src[gid]
            cell.outputs = [new_output("stream", name="stdout" if not failed else "stderr",
                                       text="Hidden tests failed.\n" if failed else "All tests passed.\n")]
            continue
        if cell.cell_type == "code":
            cell.outputs = [o if not any(s in _text_of(o) for s in secrets) else
                            new_output("stream", name="stderr",
                                       text="[output removed: it quoted hidden test code]\n")
                            for o in cell.outputs]
    return nb


def generate(settings: Settings, students: list[str] | None = None) -> list[Path]:
    written = []
    exporter = HTMLExporter(template_name="classic")
    rows = report.cell_rows(settings)
    for nb_path in sorted(settings.autograded.glob("*/*/*.ipynb")):
        student, assignment = nb_path.parent.parent.name, nb_path.parent.name
        if students and student not in students:
            continue
        released_path = settings.release_build / assignment / nb_path.name
        if not released_path.exists():
            continue
        released = nbformat.read(released_path, as_version=4)
        graded = nbformat.read(nb_path, as_version=4)
        secrets = secret_lines(graded, released)
        nb = sanitize_for_student(graded, released, secrets)
        mine = [r for r in rows if (r["student"], r["assignment"], r["notebook"]) == (student, assignment, nb_path.stem)]
        total = sum(r["score"] for r in mine), sum(r["max_score"] for r in mine)
        summary = "\n".join(f"| `{html.escape(r['cell'])}` | {r['score']:g} / {r['max_score']:g} |" for r in mine)
        nb.cells.insert(0, new_markdown_cell(
            f"# Feedback: {assignment} / {nb_path.stem}\n\n**Score: {total[0]:g} / {total[1]:g}**\n\n"
            f"| cell | points |\n|---|---|\n{summary}"))
        body, _ = exporter.from_notebook_node(nb)
        leaked = [s for s in secrets if s in body or html.escape(s) in body]
        if leaked:
            raise LeakError(f"feedback for {student}/{assignment}/{nb_path.name} would show hidden test "
                            f"text {leaked[0]!r}; not written")
        out = settings.feedback / student / assignment / f"{nb_path.stem}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body)
        written.append(out)
    return written
