"""Fast checks without kernels: the sanitizer, the jail, the release leak check."""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest

from autograder import prepare, release, sandbox
from autograder.settings import SAMPLE_SOURCE, SAMPLE_SUBMISSIONS, assignments_with_notebooks



@pytest.fixture(scope="module")
def released(tmp_path_factory, settings_factory):
    settings = settings_factory(tmp_path_factory.mktemp("units"))
    release.release(settings, ["sample"])
    return settings


def test_tampered_cells_are_restored_with_hidden_tests(released):
    sub = prepare.Submission("tampered", "sample", SAMPLE_SUBMISSIONS / "tampered" / "sample")
    with __import__("nbgrader.api", fromlist=["Gradebook"]).Gradebook(released.gradebook_url) as gb:
        gb.update_or_create_student("tampered")
        gb.update_or_create_submission("sample", "tampered")
    prep = prepare.sanitize(released, sub, "warmup")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in prep.nb.cells]
    assert ids == ["intro", "setup", "square", "test_square", "mean", "test_mean"]
    by_id = dict(zip(ids, prep.nb.cells))
    assert "grade.value('square(-1.5)'" in by_id["test_square"].source and "optional" not in by_id["test_square"].source
    assert "grade.value('mean([2, 4, 9])'" in by_id["test_mean"].source
    assert any("test_mean" in f and "deleted" in f for f in prep.flags)


def test_jail_hides_secrets_and_drops_root(tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("grades")
    code = (
        "import os\n"
        f"for p in [{str(secret)!r}, '/work/main/.git/HEAD', '/etc/shadow']:\n"
        "    try:\n        open(p).read(); print('READ', p)\n"
        "    except OSError as e:\n        print('denied', p)\n"
        "print('uid', os.getuid())\n"
    )
    with sandbox.slot() as s:
        spec = sandbox.jail_spec(s, sandbox.kernel_env(s.workdir), {"as": 2**30}, [str(tmp_path)])
        out = subprocess.run(sandbox.launcher_cmd(spec) + [sys.executable, "-c", code],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "READ" not in out.stdout and out.stdout.count("denied") == 3
    assert "uid 0" not in out.stdout


def test_never_kills_root_processes():
    with pytest.raises(ValueError):
        sandbox.kill_user_processes(0)


def test_release_leak_check_catches_a_solution(tmp_path, released):
    leaky = tmp_path / "sample"
    leaky.mkdir()
    nb = nbformat.read(released.release / "sample" / "warmup.ipynb", as_version=4)
    nb.cells[2].source = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
    nbformat.write(nb, leaky / "warmup.ipynb")
    with pytest.raises(release.ReleaseError, match="BEGIN SOLUTION"):
        release.check_no_leaks(leaky, SAMPLE_SOURCE / "sample")


def test_empty_assignments_are_skipped(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.ipynb").write_text("{}")
    assert assignments_with_notebooks(tmp_path) == ["real"]


def test_ci_example_workflow_runs_the_ci_command():
    yaml = pytest.importorskip("yaml")
    from autograder.settings import PACKAGE_DIR
    flow = yaml.safe_load((PACKAGE_DIR / "ci-example.yml").read_text())
    runs = " ".join(step.get("run", "") for step in flow["jobs"]["grade"]["steps"])
    assert "-m autograder ci" in runs and "--out" in runs


def test_zip_collection_is_unpacked_safely(tmp_path):
    import zipfile
    zips = tmp_path / "zips"
    zips.mkdir()
    with zipfile.ZipFile(zips / "alice.zip", "w") as zf:  # notebooks at the top level
        for nb in (SAMPLE_SUBMISSIONS / "complete" / "sample").glob("*.ipynb"):
            zf.write(nb, nb.name)
    with zipfile.ZipFile(zips / "bob.zip", "w") as zf:  # nbgrader layout inside
        for nb in (SAMPLE_SUBMISSIONS / "partial" / "sample").glob("*.ipynb"):
            zf.write(nb, f"sample/{nb.name}")
    out = prepare.unpack_zips(zips, tmp_path / "out", ["sample"])
    subs = {s.student: s for s in prepare.discover(out, ["sample"])}
    assert set(subs) == {"alice", "bob"}
    assert (subs["alice"].path / "warmup.ipynb").exists() and (subs["bob"].path / "bonus.ipynb").exists()
    with zipfile.ZipFile(zips / "mallory.zip", "w") as zf:
        zf.writestr("../../etc/evil.ipynb", "{}")
    with pytest.raises(prepare.PrepError, match="suspicious"):
        prepare.unpack_zips(zips, tmp_path / "out2", ["sample"])


def test_jail_covers_a_secret_inside_a_kept_folder():
    """A build folder inside the venv (bound back for the kernel) must still be invisible."""
    import shutil
    import tempfile
    secret_dir = tempfile.mkdtemp(prefix="ag-test-secret-", dir=sys.prefix)
    try:
        secret = f"{secret_dir}/gradebook.db"
        open(secret, "w").write("grades")
        code = f"import os\ntry:\n    open({secret!r}).read(); print('READ')\nexcept OSError:\n    print('denied')\n"
        with sandbox.slot() as s:
            spec = sandbox.jail_spec(s, sandbox.kernel_env(s.workdir), {}, [secret_dir])
            out = subprocess.run(sandbox.launcher_cmd(spec) + [sys.executable, "-c", code],
                                 capture_output=True, text=True, timeout=60)
        assert out.stdout.strip() == "denied", out.stderr
    finally:
        shutil.rmtree(secret_dir)
