"""The Binder recipe without Docker: binder/postBuild in a fresh virtual environment.

repo2docker would create a conda environment from binder/environment.yml, copy the repository to
$HOME (REPO_DIR), and run binder/postBuild there. Here: a venv with environment.yml's pip packages (the
same pins; Python itself comes from this machine), a copy of the repository as a fresh $HOME, and postBuild
run in it. Then the image-to-be is checked the way a curious student would look at it: the notebooks are
there, and no solution, hidden test or gradebook is anywhere in $HOME.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from e2e_support import ROOT, SECRET_MARKERS

_IGNORE_ANYWHERE = shutil.ignore_patterns(".git", ".venv", ".build", "__pycache__", ".pytest_cache",
                                         ".hypothesis", "*.egg-info", ".ipynb_checkpoints")


def IGNORE(folder: str, names: list[str]) -> set[str]:
    """What a fresh clone would not have: build outputs, caches, this test's own output."""
    skip = set(_IGNORE_ANYWHERE(folder, names))
    if Path(folder) == ROOT:
        skip |= {"release"} & set(names)
    if Path(folder) == ROOT / "tests" / "e2e":
        skip |= {"output"} & set(names)
    return skip
STUDENT_LAB_PLUGINS_OFF = {f"@jupyter/nbgrader:{p}" for p in
                           ("formgrader", "create-assignment", "course-list", "assignment-list", "menu")}


def pip_packages() -> list[str]:
    env = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    return next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))


def secret_blocks(sources: list[Path]) -> list[set[str]]:
    """Each solution or hidden-test region of the instructor's notebooks, as its set of distinctive lines
    (12+ characters, not comments, and not written anywhere outside such a region: given code and hints
    may show a line on purpose)."""
    blocks, visible = [], set()
    for src in sources:
        for cell in nbformat.read(src, as_version=4).cells:
            inside, block = False, set()
            for line in cell.source.splitlines():
                s = line.strip()
                if "BEGIN HIDDEN TESTS" in s or "BEGIN SOLUTION" in s:
                    inside, block = True, set()
                elif "END HIDDEN TESTS" in s or "END SOLUTION" in s:
                    inside = False
                    blocks.append(block)
                elif inside:
                    if len(s) >= 12 and not s.startswith("#"):
                        block.add(s)
                else:
                    visible.add(s)
    return [b - visible for b in blocks if b - visible]


def leaked_block(blocks: list[set[str]], lines: set[str]) -> set[str] | None:
    """A region counts as leaked when half its lines or more are in the file: one generic line shared
    with a support module (`for p, g in zip(params, grads):`) is not a copied solution."""
    for block in blocks:
        if len(block & lines) * 2 >= len(block):
            return block
    return None


def file_lines(path: Path) -> set[str]:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        texts = [c.source for c in nb.cells]
        texts += [o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if isinstance(o.get("text"), str)]
    else:
        texts = [path.read_text(errors="replace")]
    return {line.strip() for text in texts for line in text.splitlines()}


def run(cmd, log: Path, **kw) -> subprocess.CompletedProcess:
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    log.write_text(f"$ {' '.join(map(str, cmd))}\n# {time.monotonic() - start:.1f} s, exit {proc.returncode}\n"
                   f"{proc.stdout}\n--- stderr ---\n{proc.stderr}")
    print(f"{Path(cmd[0]).name} {' '.join(map(str, cmd[1:3]))}...: {time.monotonic() - start:.1f} s, log {log}")
    return proc


@pytest.fixture(scope="module")
def binder_image(tmp_path_factory, e2e_output):
    """The student image: binder/postBuild run in a copy of the repository that is also $HOME."""
    tmp = tmp_path_factory.mktemp("binder")
    venv, home = tmp / "venv", tmp / "home"
    repo = home                      # repo2docker: REPO_DIR is $HOME
    pip_cache = subprocess.run([sys.executable, "-m", "pip", "cache", "dir"], capture_output=True,
                               text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # --no-compile: bytecode for ~1 GB of packages would triple the time; imports compile what they use.
    proc = run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", *pip_packages()],
               e2e_output / "binder-pip.log", timeout=600)
    assert proc.returncode == 0, f"pip install of binder/environment.yml failed:\n{proc.stderr[-3000:]}"

    shutil.copytree(ROOT, repo, ignore=IGNORE)
    # What the release must hold and must not leak, read from this copy before postBuild deletes it
    # (course/ is being written while this runs: compare with the copy, not with ROOT).
    expected = {a.name: sorted(p.name for p in a.glob("*.ipynb"))
                for a in sorted((repo / "course").iterdir()) if a.is_dir() and any(a.glob("*.ipynb"))}
    sources = sorted((repo / "course").rglob("*.ipynb"))
    secrets = secret_blocks(sources)
    # The leak detector must see a solution where there is one: an instructor's notebook is one.
    assert sources and leaked_block(secrets, file_lines(sources[0])), "the leak check finds nothing"
    (repo / ".git").mkdir()                     # stands for the history repo2docker copies in
    (repo / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MINIGRAPH", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), REPO_DIR=str(repo), VIRTUAL_ENV=str(venv),
               PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    # Warming runs every notebook on Binder; one is enough to show that it works (and keeps this quick).
    env["WARM_CACHES_ONLY"] = "act2_practice/1_*.ipynb"
    if pip_cache:
        env["PIP_CACHE_DIR"] = pip_cache        # the build-isolation setuptools, from the local cache
    proc = run(["bash", str(repo / "binder" / "postBuild")], e2e_output / "binder-postBuild.log",
               cwd=repo, env=env, timeout=600)
    assert proc.returncode == 0, f"binder/postBuild failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return Image(repo, home, venv, env, expected, secrets)


@dataclasses.dataclass
class Image:
    repo: Path
    home: Path
    venv: Path
    env: dict
    notebooks: dict          # assignment -> notebook names in course/ when the copy was made
    secrets: list            # their solution and hidden-test regions (see secret_blocks)


def test_release_has_every_student_notebook(binder_image):
    repo, venv, env = binder_image.repo, binder_image.venv, binder_image.env
    assert (repo / "release" / "welcome.ipynb").is_file()
    assert binder_image.notebooks, "course/ had no notebooks to release"
    for assignment, sources in binder_image.notebooks.items():
        released = sorted(p.name for p in (repo / "release" / assignment).glob("*.ipynb"))
        assert released == sources, f"release/{assignment}: {released}, course has {sources}"
    # minigraph is importable from the student's kernel, which starts in the notebook's folder
    out = subprocess.run([venv / "bin" / "python", "-c", "import minigraph.tensor as T; print(T.dscalar('x'))"],
                         cwd=repo / "release", env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "x" in out.stdout, out.stderr


def test_nothing_secret_is_left(binder_image):
    repo, home = binder_image.repo, binder_image.home
    for gone in ("course", "autograder/samples", ".build", "tests", "bench", ".git"):
        assert not (repo / gone).exists(), f"{gone} must not be in the student image"
    gradebooks = [p for p in home.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3")
                  or p.name.startswith("gradebook")]
    assert not gradebooks, f"gradebook files in the image: {gradebooks}"

    secrets = binder_image.secrets
    assert secrets, "found no solution lines in course/: is this test still looking at the right thing?"
    # Every text file in $HOME: the repository as Binder leaves it, the release, the caches.
    for path in sorted(p for p in home.rglob("*") if p.is_file() and p.stat().st_size < 5_000_000):
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue                                     # binary: compiled kernels, fonts, images
        if path.suffix == ".ipynb":
            for marker in SECRET_MARKERS:
                assert marker not in text, f"{path} contains {marker!r}"
        leaked = leaked_block(secrets, file_lines(path))
        assert not leaked, f"{path} holds a solution or hidden test:\n" + "\n".join(sorted(leaked))


def test_only_validate_is_left_of_nbgrader(binder_image):
    venv, env = binder_image.venv, binder_image.env
    code = ("import json; from jupyter_core.paths import jupyter_config_path;"
            "from jupyter_server.extension.config import ExtensionConfigManager as M;"
            "print(json.dumps(M(read_config_path=jupyter_config_path()).get_jpserver_extensions()))")
    out = subprocess.run([venv / "bin" / "python", "-c", code], env=env, capture_output=True, text=True, timeout=120)
    server = {k: v for k, v in json.loads(out.stdout).items() if k.startswith("nbgrader.")}
    assert server == {"nbgrader.server_extensions.formgrader": False,
                      "nbgrader.server_extensions.course_list": False,
                      "nbgrader.server_extensions.assignment_list": False,
                      "nbgrader.server_extensions.validate_assignment": True}, server

    out = subprocess.run([venv / "bin" / "jupyter", "labextension", "list"], env=env,
                         capture_output=True, text=True, timeout=120)
    listing = out.stdout + out.stderr
    disabled = {line.strip() for line in listing.split("Disabled extensions:")[-1].splitlines()
                if line.strip().startswith("@")}
    assert STUDENT_LAB_PLUGINS_OFF <= disabled, listing
    assert "@jupyter/nbgrader:validate-assignment" not in disabled
    assert "@jupyter/nbgrader v" in listing and "enabled" in listing


def test_numba_cache_is_warm(binder_image):
    repo, home = binder_image.repo, binder_image.home
    if not (repo / "minigraph" / "backends" / "numba_cpu").exists():
        pytest.skip("minigraph has no numba backend: postBuild has nothing to compile")
    cache = home / ".cache" / "minigraph"
    kernels = sorted(cache.glob("mg_*.py"))
    indexes = sorted(cache.rglob("*.nbi"))
    assert kernels and indexes, f"no compiled kernels under {cache}: {sorted(cache.rglob('*'))}"
    print(f"{len(kernels)} numba kernel(s) cached for the notebooks' given code")


def test_post_build_refuses_to_run_outside_repo2docker(tmp_path):
    """It deletes course/: never in a checkout, only where REPO_DIR says (repo2docker sets it)."""
    (tmp_path / "binder").mkdir()
    shutil.copy(ROOT / "binder" / "postBuild", tmp_path / "binder" / "postBuild")
    (tmp_path / "course").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "REPO_DIR"}
    proc = subprocess.run(["bash", "binder/postBuild"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and "refusing" in proc.stderr
    assert (tmp_path / "course").is_dir()
