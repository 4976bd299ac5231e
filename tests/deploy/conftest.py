"""Real deployments: each test starts the real component (Unix users, PostgreSQL, a Dask cluster).

These need root (users, namespaces, a server that runs as another user), as grading itself does."""
from __future__ import annotations

import os
import shutil

import pytest

from deploy_support import UnixUser, open_up, public_tmp, remove_user

if os.geteuid() != 0:
    pytest.fail("tests/deploy need root (Unix users, namespaces); CI runs as root", pytrace=False)


@pytest.fixture
def public_dir():
    """A fresh folder that other Unix users (students, the database server) can reach."""
    path = public_tmp("test")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def unix_users(public_dir):
    made = []

    def make(name: str) -> UnixUser:
        user = UnixUser(name, public_dir / "home" / name)
        made.append(user)
        return user

    open_up(public_dir / "home")
    yield make
    for user in made:
        remove_user(user.name)

