"""A private PostgreSQL server for the gradebook: initdb + pg_ctl in one folder, Unix socket only.

    python -m autograder postgres start --dir .build/postgres   # prints the gradebook URL
    python -m autograder postgres stop --dir .build/postgres

For one grading machine (or a test) this is all the set-up a PostgreSQL gradebook needs. A course that
already runs a database server just passes its URL with `--db` instead. PostgreSQL refuses to run as
root, so when we are root the server runs as an unprivileged system user (`agpostgres`, created on first
use); the socket folder stays reachable only by that user and root. No TCP listener at all
(`listen_addresses=''`): nothing on the network, and no port to collide with other servers.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "agpostgres"
DB_ROLE = "grader"
DB_NAME = "gradebook"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's programs are missing or the server would not start; the message says which."""


def pg_bin(program: str) -> str:
    """Debian keeps the server programs in /usr/lib/postgresql/<version>/bin, off PATH."""
    found = shutil.which(program)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if candidates:
        return candidates[-1]
    raise PostgresUnavailable(f"{program} not found (on PATH or in /usr/lib/postgresql/*/bin): install "
                              "Debian's postgresql package (`make postgres` does it)")


def _server_user() -> tuple[int, int] | None:
    """The account the server runs as: ourselves unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--comment", "autograder gradebook server", SERVER_USER],
                       check=True, capture_output=True)
        pw = pwd.getpwnam(SERVER_USER)
    return pw.pw_uid, pw.pw_gid


def _check_reachable(folder: Path) -> None:
    """The server's user must be able to enter every folder above its own (root's may not)."""
    if os.geteuid() != 0:
        return
    for parent in folder.resolve().parents:
        if not os.stat(parent).st_mode & 0o001:
            raise PostgresUnavailable(
                f"{parent} is closed to other users (mode {oct(os.stat(parent).st_mode & 0o777)}), so the "
                f"server's user {SERVER_USER!r} cannot reach {folder}: pick a --dir outside it "
                "(the default /var/lib/autograder/postgres works)")


@dataclass
class PrivateServer:
    folder: Path  # holds data/, socket/ and server.log

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @property
    def log(self) -> Path:
        return self.folder / "server.log"

    def url(self, database: str = DB_NAME) -> str:
        """SQLAlchemy URL for psycopg 3 over the Unix socket (no host name, no password)."""
        return f"postgresql+psycopg://{DB_ROLE}@/{database}?host={self.socket_dir}"

    def _run(self, argv: list[str], check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        ids = _server_user()
        kwargs = {}
        if ids:
            uid, gid = ids

            def demote():  # runs in the child before exec: the server never runs as root
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            kwargs["preexec_fn"] = demote
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PGHOST": str(self.socket_dir)}
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, **kwargs)
        if check and proc.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(argv[:2])} failed (exit {proc.returncode}):\n"
                                      f"{(proc.stderr or proc.stdout)[-2000:]}\n{self._log_tail()}")
        return proc

    def _log_tail(self) -> str:
        try:
            return "server log: " + self.log.read_text()[-1500:]
        except OSError:
            return ""

    def _own(self, *paths: Path) -> None:
        ids = _server_user()
        for p in paths:
            p.mkdir(parents=True, exist_ok=True)
            os.chmod(p, 0o700)
            if ids:
                os.chown(p, *ids)

    def running(self) -> bool:
        if not (self.data / "postmaster.pid").exists():
            return False
        return self._run([pg_bin("pg_ctl"), "status", "-D", str(self.data)], check=False).returncode == 0

    def start(self) -> str:
        """Create the cluster on first use, start it, make sure the gradebook database exists; the URL."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _check_reachable(self.folder)
        # The server user must be able to reach its folder; nobody else needs to.
        os.chmod(self.folder, 0o711)
        if not (self.data / "PG_VERSION").exists():
            self._own(self.data)
            self._run([pg_bin("initdb"), "-D", str(self.data), "-U", DB_ROLE, "--auth=trust",
                       "--encoding=UTF8", "--no-instructions"])
        self._own(self.socket_dir)
        self.log.touch()
        ids = _server_user()
        if ids:
            os.chown(self.log, *ids)
        if not self.running():
            # listen_addresses='' : Unix socket only. fsync stays on (a killed grader must lose nothing).
            opts = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=50"
            self._run([pg_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                       "-o", opts])
        for _ in range(50):  # the socket accepts connections a moment after pg_ctl returns
            probe = self._run([pg_bin("psql"), "-h", str(self.socket_dir), "-U", DB_ROLE, "-d", "postgres",
                               "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"], check=False)
            if probe.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise PostgresUnavailable(f"server in {self.data} does not accept connections:\n{probe.stderr}")
        if probe.stdout.strip() != "1":
            self._run([pg_bin("createdb"), "-h", str(self.socket_dir), "-U", DB_ROLE, DB_NAME])
        return self.url()

    def create_database(self, name: str) -> str:
        self._run([pg_bin("createdb"), "-h", str(self.socket_dir), "-U", DB_ROLE, name])
        return self.url(name)

    def stop(self) -> None:
        if self.running():
            self._run([pg_bin("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data)])


def ensure_installed() -> None:
    """Debian's postgresql package when its programs are missing (as `make chromium` does for the browser)."""
    try:
        pg_bin("initdb")
        return
    except PostgresUnavailable:
        pass
    if os.geteuid() != 0:
        raise PostgresUnavailable("PostgreSQL is not installed: run `sudo apt-get install postgresql` (Debian/Ubuntu)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    pg_bin("initdb")

