"""One source of truth for dependencies: pyproject.toml; the conda files must list the same pins."""
import pathlib
import tomllib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])


@pytest.mark.parametrize("path", ["environment.yml", "binder/environment.yml"])
def test_conda_environment_matches_pyproject(path):
    env = yaml.safe_load((ROOT / path).read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda
    missing, extra = pyproject_pins() - set(pip), set(pip) - pyproject_pins()
    assert not missing and not extra, f"{path} differs from pyproject.toml: missing {missing}, extra {extra}"


def test_every_dependency_is_pinned():
    unpinned = [d for d in pyproject_pins() if "==" not in d]
    assert not unpinned, f"pin these in pyproject.toml: {unpinned}"
