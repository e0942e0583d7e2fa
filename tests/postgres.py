"""A throwaway PostgreSQL server for the test session, started from the installed binaries.

`initdb` refuses to run as root, and CI runs as root: then the server runs as the unprivileged
`postgres` user (or `nobody`) through `runuser`, in a temporary folder that user owns.
Set TEST_DATABASE_URL to use an existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REQUIRE_VARIABLE = "PARTICIPATION_REQUIRE_POSTGRES"


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries on this machine (or they would not start)."""


def find_bindir() -> Path | None:
    candidates = []
    if found := shutil.which("pg_ctl"):
        candidates.append(Path(found).resolve().parent)
    for pg_ctl in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True):
        candidates.append(Path(pg_ctl).parent)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "postgres").exists():
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unprivileged_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL as")


def _run(command: list[str], user: str | None) -> None:
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-500:]}"
        )


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a server, yield a SQLAlchemy URL of an empty database on it, stop and delete it."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server binaries found (install Debian's package `postgresql`)"
        )
    user = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="participation-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chmod(root, 0o755)
        for path in (root, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            user,
        )  # fmt: skip
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
              "-t", "60", "start"], user)  # fmt: skip
        _create_database(port, "participation_test")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/participation_test"
    finally:
        if data.exists():
            with contextlib.suppress(PostgresUnavailable):
                _run(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user
                )
        shutil.rmtree(root, ignore_errors=True)


def _create_database(port: int, name: str) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres", autocommit=True
            ) as connection:
                connection.execute(f'CREATE DATABASE "{name}"')
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def create_extra_database(url: str, name: str) -> str:
    """Another empty database on the same server (for the migration tests)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    with psycopg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        dbname=parsed.database, autocommit=True,
    ) as connection:  # fmt: skip
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)
