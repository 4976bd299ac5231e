"""`make binder-badge` (issue #16.5): the README's Binder badge is derived from the git remote.

Run on a scratch copy (Makefile + README.md in a fresh git repository), never on this checkout."""
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BADGE = "[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/{}/HEAD?urlpath=lab%2Ftree%2Frelease%2Fact1_theory%2F1_three_ways.ipynb)"


@pytest.fixture
def scratch(tmp_path):
    for name in ("Makefile", "README.md"):
        shutil.copy(REPO / name, tmp_path / name)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def make_badge(where):
    return subprocess.run(["make", "--no-print-directory", "-C", str(where), "binder-badge"],
                          capture_output=True, text=True)


@pytest.mark.parametrize("remote", ["https://github.com/someone/minigraph-course.git",
                                    "git@github.com:someone/minigraph-course.git",
                                    "https://github.com/someone/minigraph-course"])
def test_the_badge_names_the_origin_repository(scratch, remote):
    subprocess.run(["git", "-C", str(scratch), "remote", "add", "origin", remote], check=True)
    done = make_badge(scratch)
    assert done.returncode == 0, done.stderr
    readme = (scratch / "README.md").read_text()
    assert BADGE.format("someone/minigraph-course") in readme.splitlines()
    assert "OWNER/REPO/HEAD" not in readme
    assert BADGE.format("someone/minigraph-course") in done.stdout
    assert make_badge(scratch).returncode == 0          # running it again changes nothing
    assert (scratch / "README.md").read_text() == readme


def test_without_a_remote_it_says_what_to_do_and_changes_nothing(scratch):
    before = (scratch / "README.md").read_text()
    done = make_badge(scratch)
    assert done.returncode != 0
    assert "no 'origin' remote" in done.stderr and "git remote add origin" in done.stderr
    assert (scratch / "README.md").read_text() == before


def test_a_remote_that_is_not_on_github_is_refused(scratch):
    subprocess.run(["git", "-C", str(scratch), "remote", "add", "origin", "https://gitlab.com/a/b.git"], check=True)
    done = make_badge(scratch)
    assert done.returncode != 0 and "not a GitHub repository" in done.stderr
