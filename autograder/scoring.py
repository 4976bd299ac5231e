"""Writer side of the grading protocol: split graded cells before execution, score them after.

    specs, problems = split_notebook(nb)        # graded cells reduced to their visible part (in place)
    task["snapshot_checks"] = wire(specs)       # only kernel code + inputs travel to a worker
    ... worker runs the notebook and returns result["snapshots"] ...
    cells = score_notebook(gb, sub, nb_name, nb, specs, result)   # gradebook + verdicts in the graded nb

Points for a graded cell = its points when every check passes, else 0. nbgrader's SaveAutoGrades has
already scored the cell from its error outputs (which now only say whether the visible self-check
failed); its auto_score is overwritten here, so the self-check's own pass/fail gives no points.
"""
from __future__ import annotations

from nbformat.v4 import new_output

from . import checks

VERDICT_MARK = "autograder-verdicts"   # output metadata key of the verdict output we append


def graded_test_cells(nb):
    """Autograded test cells: grade=True, not a (manually graded) answer cell."""
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution") and meta.get("grade_id"):
            yield cell


def split_notebook(nb, where: str = "") -> tuple[dict, list[str]]:
    """Reduce every graded test cell to its visible part; return ({grade_id: [Check] or None}, problems).
    None (with a problem) marks a cell whose hidden part cannot be run: an authoring error, scored 0."""
    specs, problems = {}, []
    for cell in graded_test_cells(nb):
        gid = cell.metadata.nbgrader["grade_id"]
        source = cell.source
        try:
            cell.source, _ = checks.split_cell(source)
            specs[gid] = checks.validate_graded_cell(gid, source)
        except checks.AuthoringError as exc:
            # Never let hidden code reach the kernel: keep only what comes before the first marker.
            lines = source.split("\n")
            first = next((i for i, ln in enumerate(lines) if checks.BEGIN in ln or checks.END in ln), len(lines))
            cell.source = "\n".join(lines[:first])
            specs[gid] = None
            text = str(exc) if repr(gid) in str(exc) else f"graded cell {gid!r}: {exc}"
            problems.append(f"authoring error ({where or 'notebook'}): {text}")
    return specs, problems


def wire(specs: dict) -> dict:
    return {gid: [c.wire() for c in cs] for gid, cs in specs.items() if cs}


def score_notebook(gb, sub, nb_name: str, nb, specs: dict, snapshots: dict | None, failure: str = "") -> dict:
    """Judge each graded cell, write its points into the gradebook, append the verdicts to the cell's
    outputs (the instructor's graded notebook) and its metadata (feedback reads them).
    Returns {grade_id: {"points", "max_points", "checks": [{"passed", "message"}]}}."""
    snapshots = snapshots or {}
    summary = {}
    for cell in graded_test_cells(nb):
        gid = cell.metadata.nbgrader["grade_id"]
        if gid not in specs:
            continue
        max_points = float(cell.metadata.nbgrader.get("points", 0))
        cell_checks = specs[gid]
        if cell_checks is None:
            verdicts = [checks.Verdict(False, "✗ this exercise could not be graded (an error in the course's "
                                              "hidden tests; the instructor has been told)")]
        else:
            snap = snapshots.get(gid, {})
            reason = snap.get("error") or snap.get("timed_out") or \
                "the kernel stopped before this check was answered"
            if failure and reason == "the notebook did not reach this cell":
                reason += f" ({failure})"
            verdicts = checks.judge(cell_checks, snap.get("replies"), reason)
        points = checks.cell_points(verdicts, max_points)
        grade = gb.find_grade(gid, nb_name, sub.assignment, sub.student)
        grade.auto_score = points
        grade.needs_manual_grade = False
        record = {"points": points, "max_points": max_points,
                  "checks": [{"passed": v.passed, "message": v.message} for v in verdicts]}
        summary[gid] = record
        cell.metadata["autograder"] = record
        text = f"Grader: {points:g} / {max_points:g} points\n" + "\n".join(v.message for v in verdicts) + "\n"
        cell.outputs.append(new_output("display_data", data={"text/plain": text},
                                       metadata={VERDICT_MARK: True}))
    gb.db.commit()
    return summary
