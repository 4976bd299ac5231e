"""Scores from the gradebook, the grade table, and CSV/JSON export down to single cells."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .nbgrader_patches import use_fast_alembic_head
from .settings import Settings


def cell_rows(settings: Settings, students: list[str] | None = None,
              assignments: list[str] | None = None) -> list[dict]:
    """One row per student × assignment × notebook × graded cell."""
    use_fast_alembic_head()
    rows = []
    with Gradebook(settings.gradebook_url, settings.course_id) as gb:
        for assignment in gb.assignments:
            if assignments and assignment.name not in assignments:
                continue
            for sub in assignment.submissions:
                if students and sub.student.id not in students:
                    continue
                for snb in sub.notebooks:
                    for grade in snb.grades:
                        rows.append({
                            "student": sub.student.id, "assignment": assignment.name,
                            "notebook": snb.name, "cell": grade.name,
                            "score": float(grade.score), "max_score": float(grade.max_score),
                            "needs_manual_grade": bool(grade.needs_manual_grade),
                        })
    rows.sort(key=lambda r: (r["student"], r["assignment"], r["notebook"], r["cell"]))
    return rows


def totals(rows: list[dict]) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        t = out.setdefault((r["student"], r["assignment"]), {"score": 0.0, "max_score": 0.0, "notebooks": {}})
        t["score"] += r["score"]
        t["max_score"] += r["max_score"]
        nb = t["notebooks"].setdefault(r["notebook"], {"score": 0.0, "max_score": 0.0})
        nb["score"] += r["score"]
        nb["max_score"] += r["max_score"]
    return out


def notes_for(entry: dict | None) -> str:
    if not entry:
        return ""
    notes = []
    for nb, info in sorted(entry.get("notebooks", {}).items()):
        for text in info.get("problems", []) + info.get("flags", []):
            notes.append(f"{nb}: {text}")
    return "; ".join(notes)


def table(rows: list[dict], entries: list[dict]) -> str:
    by_key = {(e["student"], e["assignment"]): e for e in entries}
    tots = totals(rows)
    keys = sorted(set(tots) & set(by_key)) if by_key else sorted(tots)
    header = ("student", "assignment", "score", "notes")
    lines = []
    for key in keys:
        t = tots[key]
        lines.append((key[0], key[1], f"{t['score']:g} / {t['max_score']:g}", notes_for(by_key.get(key))))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)] if lines else [len(h) for h in header]
    widths[-1] = min(widths[-1], 100)
    fmt = "  ".join(f"{{:<{w}}}" for w in widths[:-1]) + "  {}"
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    for line in lines:
        note = line[-1]
        out.append(fmt.format(*line[:-1], note if len(note) <= 100 else note[:97] + "..."))
    return "\n".join(out)


def export(settings: Settings, out_dir: Path | None = None) -> tuple[Path, Path]:
    out_dir = out_dir or settings.build / "export"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = cell_rows(settings)
    csv_path, json_path = out_dir / "grades.csv", out_dir / "grades.json"
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["student", "assignment", "notebook", "cell", "score",
                                             "max_score", "needs_manual_grade"])
    writer.writeheader()
    writer.writerows(rows)
    csv_path.write_text(buf.getvalue())
    nested = {}
    for (student, assignment), t in totals(rows).items():
        nested.setdefault(student, {})[assignment] = {
            "score": t["score"], "max_score": t["max_score"],
            "notebooks": {nb: {**v, "cells": {r["cell"]: {"score": r["score"], "max_score": r["max_score"]}
                                              for r in rows if (r["student"], r["assignment"], r["notebook"])
                                              == (student, assignment, nb)}}
                          for nb, v in t["notebooks"].items()}}
    json_path.write_text(json.dumps(nested, indent=1, sort_keys=True))
    return csv_path, json_path


def submission_score(settings: Settings, student: str, assignment: str) -> tuple[float, float]:
    with Gradebook(settings.gradebook_url, settings.course_id) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except MissingEntry:
            return 0.0, 0.0
        return float(sub.score), float(sub.max_score)
