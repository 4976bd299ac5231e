"""A quick, in-process stand-in for the autograder's snapshot protocol, for authoring the course's checks.

    .venv/bin/python tests/course/course_harness.py course/act2_practice/1_first_steps.ipynb [--release]

Runs a notebook's code cells with `exec` in one namespace (graded cells reduced to their visible part, as
the worker does), forks a child after each graded cell that evaluates the cell's checks in its copy of the
namespace (autograder.kernel_snapshot.run_check), and judges the replies with autograder.checks.judge.
No kernel, no sandbox, no nbgrader: it trusts the code it runs, so it is for the course's own solutions,
releases and answer variants only. The real grading path is tests/course/course_grading.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(path: Path, replace: dict[str, str] | None = None, release: bool = False) -> dict:
    """{grade_id: {"points", "max", "verdicts": [messages], "visible_error": str|None}} plus "_errors"."""
    import nbformat
    import numpy as np
    from autograder import checks
    from autograder.kernel_snapshot import decode, encode, run_check

    os.environ["NBGRADER_EXECUTION"] = "autograde"
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(path.parent)
    sys.path.insert(0, str(path.parent))
    nb = nbformat.read(path, as_version=4)
    ns = {"__name__": "__main__"}
    out, errors = {}, []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        source = cell.source
        if meta.get("solution") and replace and meta["grade_id"] in replace:
            source = replace[meta["grade_id"]]
        elif meta.get("solution") and release:
            source = _stub(source)
        visible, hidden = checks.split_cell(source)
        error = None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(visible, f"<cell {index}>", "exec"), ns)
        except BaseException as exc:  # noqa: BLE001 - a student's error is part of the result
            error = f"{type(exc).__name__}: {str(exc)[:300]}"
            errors.append((index, error))
        if not meta.get("grade"):
            continue
        recorded = checks.validate_graded_cell(meta["grade_id"], source)
        replies = _in_child([json.loads(json.dumps(c.wire())) for c in recorded], ns, run_check, decode, encode)
        verdicts = checks.judge(recorded, replies)
        out[meta["grade_id"]] = {"points": checks.cell_points(verdicts, meta["points"]), "max": meta["points"],
                                 "verdicts": [v.message for v in verdicts], "visible_error": error}
    out["_errors"] = errors
    return out


def _stub(source: str) -> str:
    """The release's version of a solution cell: the region between the markers becomes a stub."""
    lines, inside = [], False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
            indent = line[:len(line) - len(line.lstrip())]
            lines += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError()"]
        elif "### END SOLUTION" in line:
            inside = False
        elif not inside:
            lines.append(line)
    return "\n".join(lines)


def _in_child(wire, ns, run_check, decode, encode):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                replies = [run_check(c, ns) for c in wire]
            data = json.dumps(replies).encode()
        except BaseException:  # noqa: BLE001
            data = json.dumps([{"ok": False, "error": traceback.format_exc()[-300:]}] * len(wire)).encode()
        with os.fdopen(write, "wb") as fh:
            fh.write(data)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def run_in_subprocess(notebook: Path, replace: dict[str, str], timeout: int = 300) -> dict:
    """run() in a fresh interpreter (it changes directory, sys.path and global library state)."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / "replace.json", Path(tmp) / "result.json"
        spec.write_text(json.dumps(replace))
        done = subprocess.run([sys.executable, __file__, str(notebook), "--replace", str(spec), "--json", str(out)],
                              capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"harness failed on {notebook}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    target = Path(sys.argv[1]).resolve()
    args = sys.argv[2:]
    replace = json.loads(Path(args[args.index("--replace") + 1]).read_text()) if "--replace" in args else None
    result = run(target, replace=replace, release="--release" in sys.argv)
    if "--json" in args:
        Path(args[args.index("--json") + 1]).write_text(json.dumps(result))
        sys.exit(0)
    total = sum(v["points"] for k, v in result.items() if k != "_errors")
    full = sum(v["max"] for k, v in result.items() if k != "_errors")
    for gid, r in result.items():
        if gid == "_errors":
            continue
        print(f"{gid}: {r['points']:g}/{r['max']}" + (f"   visible: {r['visible_error'][:150]}" if r["visible_error"] else ""))
        for m in r["verdicts"]:
            if "--quiet" not in sys.argv or m.startswith("✗"):
                print("   ", m[:300])
    for i, e in result["_errors"]:
        print(f"cell {i} error: {e[:200]}")
    print(f"TOTAL {total:g}/{full}")
