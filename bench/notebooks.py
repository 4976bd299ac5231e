"""`make bench-notebooks`: every course notebook run top to bottom, timed, under four settings.

    auto, empty cache   MINIGRAPH_BACKEND=auto, empty MINIGRAPH_CACHE_DIR and NUMBA_CACHE_DIR: a
                        student's first run
    auto, warm cache    the same again, caches kept from the run before
    numba, empty cache  MINIGRAPH_BACKEND=numba, empty caches (every function compiled before it runs)
    numpy               MINIGRAPH_BACKEND=numpy (the reference backend: no compilation at all)

The notebooks are the generated source notebooks of course/act1_theory, course/act2_practice and
course/svi with their solutions filled in and their hidden-test blocks removed (those run only in
the grader, where `grade` exists): what a student who solved everything runs. They are executed with nbclient in a fresh kernel of this Python, with
full-length training (NBGRADER_EXECUTION unset). The seconds are the whole execution, kernel start
included. For each notebook the four settings run one after the other (interleaved across
notebooks, not four batches), so slow drifts of the machine's load hit every setting alike.

Targets (issue #20): auto empty / auto warm <= 1.2 (first runs at compiled speed);
numba empty <= numpy for the two SVI notebooks. Writes bench/notebooks.md. Takes 10-20 minutes
(16 min on this 2-core machine under load 3): not part of `make bench`.

    python bench/notebooks.py [--only svi,act1] [--settings auto-empty,auto-warm]
"""
import argparse
import glob
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ("course/act1_theory", "course/act2_practice", "course/svi")
SETTINGS = {"auto-empty": ("auto", True), "auto-warm": ("auto", False),
            "numba-empty": ("numba", True), "numpy": ("numpy", True)}
SVI = ("svi/1_svi_logistic_regression", "svi/2_categorical_latent_gp")
FIRST_RUN_BOUND, NUMBA_VS_NUMPY_BOUND = 1.2, 1.0


def notebooks(words=()):
    paths = sorted(p for folder in FOLDERS for p in glob.glob(os.path.join(ROOT, folder, "*.ipynb")))
    return [p for p in paths if not words or any(w in os.path.relpath(p, ROOT) for w in words)]


def kernel_env(backend, cache):
    """The environment the notebook's kernel inherits: this tree's minigraph, its own caches,
    .pyc files allowed (as for any user), full-length training."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NBGRADER_EXECUTION")}
    env.update(MINIGRAPH_BACKEND=backend, MINIGRAPH_CACHE_DIR=os.path.join(cache, "mg"),
               NUMBA_CACHE_DIR=os.path.join(cache, "nb"),
               PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def without_hidden_tests(source):
    """A cell's source without its ### BEGIN HIDDEN TESTS ... ### END HIDDEN TESTS blocks."""
    kept, hidden = [], False
    for line in source.splitlines():
        if "### BEGIN HIDDEN TESTS" in line:
            hidden = True
        elif "### END HIDDEN TESTS" in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


def run_notebook(path, env, timeout=1800):
    """Seconds to execute the notebook in a fresh kernel with `env`; raises with the cell's error."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = without_hidden_tests(cell.source)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)                      # the kernel process inherits this environment
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": os.path.dirname(path)}}).execute()
        return time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)


def measure(paths, settings, log=print):
    """{notebook name: {setting: seconds}}."""
    times = {}
    with tempfile.TemporaryDirectory(prefix="mg-notebooks-") as tmp:
        for path in paths:
            name = os.path.splitext(os.path.relpath(path, os.path.join(ROOT, "course")))[0]
            times[name] = {}
            for setting in settings:
                backend, empty = SETTINGS[setting]
                cache = os.path.join(tmp, backend)
                if empty:
                    shutil.rmtree(cache, ignore_errors=True)
                times[name][setting] = run_notebook(path, kernel_env(backend, cache))
                log(f"{name} [{setting}]: {times[name][setting]:.1f} s")
    return times


def verdict(ratio, bound):
    return "met" if ratio <= bound else "missed"


def report(times, load=None):
    """The markdown table: seconds per setting, then each ratio next to its target."""
    settings = [s for s in SETTINGS if any(s in row for row in times.values())]
    lines = ["| notebook | " + " | ".join(f"{s} (s)" for s in settings)
             + " | auto empty / warm (target <= 1.2) | numba empty / numpy (target <= 1.0 for SVI) |",
             "|" + "---|" * (len(settings) + 3)]
    for name, row in times.items():
        cells = [f"{row[s]:.1f}" if s in row else "—" for s in settings]
        first = ""
        if "auto-empty" in row and "auto-warm" in row:
            r = row["auto-empty"] / row["auto-warm"]
            first = f"{r:.2f} {verdict(r, FIRST_RUN_BOUND)}"
        numba = ""
        if "numba-empty" in row and "numpy" in row:
            r = row["numba-empty"] / row["numpy"]
            numba = f"{r:.2f}" + (f" {verdict(r, NUMBA_VS_NUMPY_BOUND)}" if name.endswith(SVI) else " (no target)")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {first} | {numba} |")
    if load:
        lines += ["", "load average (1, 5, 15 min) before / after: " + " / ".join(
            ", ".join(f"{x:.2f}" for x in avg) for avg in load) + f"; cpus: {os.cpu_count()}"]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated words: the notebooks whose path has one")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"from {', '.join(SETTINGS)}")
    args = parser.parse_args(argv)
    settings = [s for s in args.settings.split(",") if s]
    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        sys.exit(f"bench/notebooks.py: unknown setting(s) {unknown}; expected some of {list(SETTINGS)}")
    if "auto-warm" in settings and "auto-empty" not in settings:
        sys.exit("bench/notebooks.py: auto-warm needs auto-empty before it (it reuses that run's cache)")
    paths = notebooks([w for w in args.only.split(",") if w])
    if not paths:
        sys.exit(f"bench/notebooks.py: no notebook under {', '.join(FOLDERS)} matches {args.only!r}")
    before = os.getloadavg()
    text = report(measure(paths, settings), (before, os.getloadavg()))
    print(text)
    with open(os.path.join(ROOT, "bench", "notebooks.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
