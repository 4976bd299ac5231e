"""Subcommands for running a real course: nbgrader exchange, PostgreSQL gradebook, Dask certificates.

    exchange-release ASSIGNMENT --exchange DIR      generate + nbgrader release_assignment
    collect-and-grade ASSIGNMENT --exchange DIR     nbgrader collect --update, grade, late penalties
    exchange-feedback ASSIGNMENT --exchange DIR     leak-free feedback + nbgrader release_feedback
    postgres {install,start,stop,url} [--dir DIR]   a private PostgreSQL server (Unix socket only)
    dask-certs DIR                                  a throw-away CA and the cluster's certificate
"""
from __future__ import annotations

import time
from pathlib import Path

from . import cluster, exchange
from .pgserver import PostgresUnavailable, PrivateServer, ensure_installed, pg_bin

DEFAULT_PG_DIR = Path("/var/lib/autograder/postgres")


def register(sub, common, grading, commands: dict) -> None:
    """Add our parsers to the main CLI's subparsers; `common`/`grading` add the shared options."""
    p = sub.add_parser("exchange-release", help="generate an assignment and release it to nbgrader's exchange")
    common(p)
    _exchange_args(p)
    p.add_argument("--force", action="store_true", help="replace an assignment already in the exchange")
    p = sub.add_parser("collect-and-grade", help="collect the newest submissions from the exchange and grade them")
    common(p)
    grading(p)
    _exchange_args(p)
    p = sub.add_parser("exchange-feedback", help="feedback (without hidden tests) released to the exchange")
    common(p)
    _exchange_args(p)
    p.add_argument("--student", action="append", help="only these students (repeatable)")
    p = sub.add_parser("postgres", help="start/stop a private PostgreSQL server for the gradebook")
    p.add_argument("action", choices=("install", "start", "stop", "url"))
    p.add_argument("--dir", type=Path, default=DEFAULT_PG_DIR, help=f"server folder (default {DEFAULT_PG_DIR})")
    p.add_argument("-v", "--verbose", action="store_true")
    p = sub.add_parser("dask-certs", help="write ca.pem, node.pem, node-key.pem for a TLS Dask cluster")
    p.add_argument("folder", type=Path)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("-v", "--verbose", action="store_true")
    commands.update({"exchange-release": cmd_exchange_release, "collect-and-grade": cmd_collect_and_grade,
                     "exchange-feedback": cmd_exchange_feedback, "postgres": cmd_postgres,
                     "dask-certs": cmd_dask_certs})


def _exchange_args(p) -> None:
    p.add_argument("assignment")
    p.add_argument("--exchange", type=Path, required=True,
                   help="nbgrader's exchange root (Exchange.root; on JupyterHub usually /srv/nbgrader/exchange)")


def _settings(args):
    from .cli import settings_from
    return settings_from(args)


def cmd_exchange_release(args) -> int:
    settings = _settings(args)
    dest = exchange.release_to_exchange(settings, args.exchange.resolve(), args.assignment, force=args.force)
    print(f"released {args.assignment} to {dest}")
    return 0


def cmd_collect_and_grade(args) -> int:
    from .cli import _executor, _print_batch
    settings = _settings(args)
    start = time.monotonic()
    with _executor(args, settings) as executor:
        entries, late = exchange.collect_and_grade(settings, args.exchange.resolve(), args.assignment,
                                                   executor, force=args.force)
    if not entries:
        print(f"no submissions of {args.assignment} in {args.exchange}")
        return 1
    _print_batch(settings, entries, time.monotonic() - start)
    for student, seconds in sorted(late.items()):
        if seconds > 0:
            print(f"late: {student} submitted {args.assignment} {seconds:.0f} s after the due date")
    return 0


def cmd_exchange_feedback(args) -> int:
    settings = _settings(args)
    released = exchange.return_feedback(settings, args.exchange.resolve(), args.assignment, args.student)
    print(f"released feedback on {args.assignment} for {len(released)} student(s): {', '.join(released)}")
    return 0


def cmd_postgres(args) -> int:
    server = PrivateServer(args.dir.resolve())
    try:
        if args.action == "install":
            ensure_installed()
            print(f"PostgreSQL programs: {pg_bin('initdb')}")
        elif args.action == "start":
            url = server.start()
            print(f"PostgreSQL running in {server.data} (Unix socket in {server.socket_dir}, no TCP)")
            print(f"gradebook: --db '{url}'   (or export AUTOGRADER_DB_URL='{url}')")
        elif args.action == "stop":
            server.stop()
            print(f"stopped the server in {server.data}")
        else:
            print(server.url())
    except PostgresUnavailable as exc:
        print(f"error: {exc}")
        return 2
    return 0


def cmd_dask_certs(args) -> int:
    paths = cluster.write_certificates(args.folder.resolve(), args.days)
    print("wrote " + ", ".join(str(p) for p in paths.values()) + " (the key is readable by its owner only)")
    print("copy the folder to every grading machine; see README 'Running a real course'")
    return 0


