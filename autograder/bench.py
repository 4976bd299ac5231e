"""Speed-up of our parallel autograde over plain sequential `nbgrader autograde`, same submissions.

    .venv/bin/python -m autograder.bench --students 12 --jobs 2

Both sides are timed as an instructor runs them — the whole command, after the release — on copies
of the sample submissions (complete and partial, alternating). nbgrader runs its kernels as root and
unsandboxed; ours run jailed, so the comparison includes the cost of isolation.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .settings import CONFIG_FILE, REPO_ROOT, SAMPLE_SOURCE, SAMPLE_SUBMISSIONS


def _populate(submitted: Path, students: int) -> None:
    for i in range(students):
        kind = ("complete", "partial")[i % 2]
        shutil.copytree(SAMPLE_SUBMISSIONS / kind / "sample", submitted / f"s{i:03d}" / "sample")


def _run(cmd, cwd, env=None) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return time.monotonic() - start


def bench(students: int, jobs: int, work: Path, repeat: int = 1) -> dict:
    py = sys.executable
    nbgrader = str(Path(py).parent / "nbgrader")
    env = dict(os.environ, PATH=str(Path(py).parent) + os.pathsep + os.environ.get("PATH", ""))
    # Plain nbgrader: its own course folder with the same config file.
    plain = work / "plain"
    shutil.copytree(SAMPLE_SOURCE, plain / "source")
    shutil.copy(CONFIG_FILE, plain / "nbgrader_config.py")
    _populate(plain / "submitted", students)
    _run([nbgrader, "generate_assignment", "sample", "--force"], plain, env)
    subs = work / "submitted"
    _populate(subs, students)
    # Rounds alternate the three commands so that a change in machine load hits all of them; the
    # best round of each is reported. Ours regrades with --force on its released course.
    times: dict[str, list[float]] = {"nbgrader": [], **{f"j{j}": [] for j in sorted({1, jobs})}}
    for j in sorted({1, jobs}):
        common = ["--source", str(SAMPLE_SOURCE), "--build", str(work / f"build-j{j}"),
                  "--release-dir", str(work / f"rel-j{j}")]
        _run([py, "-m", "autograder", "release", *common], REPO_ROOT, env)
    for _ in range(repeat):
        times["nbgrader"].append(_run([nbgrader, "autograde", "sample", "--force"], plain, env))
        for j in sorted({1, jobs}):
            common = ["--source", str(SAMPLE_SOURCE), "--build", str(work / f"build-j{j}"),
                      "--release-dir", str(work / f"rel-j{j}")]
            times[f"j{j}"].append(_run([py, "-m", "autograder", "autograde", str(subs), *common,
                                        "--jobs", str(j), "--force"], REPO_ROOT, env))
    t_nbgrader = min(times["nbgrader"])
    ours = {j: min(times[f"j{j}"]) for j in sorted({1, jobs})}
    return {"students": students, "notebooks": 2 * students, "cores": os.cpu_count(),
            "rounds": {k: [round(x, 1) for x in v] for k, v in times.items()},
            "nbgrader_autograde_s": round(t_nbgrader, 1),
            **{f"ours_jobs{j}_s": round(t, 1) for j, t in ours.items()},
            "speedup_vs_nbgrader": round(t_nbgrader / ours[jobs], 2),
            "speedup_vs_our_sequential": round(ours[1] / ours[jobs], 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--students", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(bench(args.students, args.jobs, Path(tmp), args.repeat), indent=1))


if __name__ == "__main__":
    main()
