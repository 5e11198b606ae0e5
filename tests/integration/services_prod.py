"""PostgreSQL and Redis from Debian packages, started for the production-topology test.

``postgres_server`` runs ``initdb`` and ``postgres`` on a free loopback port with password
(scram) authentication, the way compose runs it; as root both run as the ``postgres`` user
(PostgreSQL refuses to run as root) in a private folder outside pytest's 0700 temp tree,
which that user could not enter. ``redis_server`` runs ``redis-server`` without persistence
and with a password. Both are module-scoped: only the production-topology test pays for
them. When a binary is missing the test is skipped with the reason, except on CI
(``CI=true``), where a missing service is a broken machine and fails the test.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from retrainer.dev.local_stack import free_port

__all__ = ["Postgres", "Redis", "log_tail", "postgres_server", "redis_server"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = Path("/usr/bin/redis-server")
PG_USER = "retrainer"
START_TIMEOUT = 60.0


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: install them with scripts/system-deps.sh)")
    pytest.skip(f"{reason}; install them with `make system-deps`")


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class _Service:
    """One server process in its own session, so stopping it stops its children too."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(
                f"{self.name} exited with code {self.process.returncode}; log:\n"
                f"{log_tail(self.log)}"
            )

    def stop(self, first: signal.Signals = signal.SIGTERM, timeout: float = 15) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, first)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _spawn(name: str, argv: list[str], log: Path) -> _Service:
    with log.open("ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return _Service(name, process, log)


def _wait(service: _Service, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        service.check_alive()
        try:
            if ready():
                return
        except Exception:  # not up yet: connection refused, still starting, ...
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{what} not ready after {START_TIMEOUT:.0f} s; log:\n{log_tail(service.log)}"
            )
        time.sleep(0.2)


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL server on loopback and its superuser's credentials."""

    port: int
    user: str
    password: str
    log: Path
    host: str = "127.0.0.1"

    def url(self, database: str, scheme: str = "postgresql+psycopg2") -> str:
        # psycopg2 explicitly: SQLAlchemy 2.1 would default to psycopg 3 (not installed).
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def _connect(self):  # type: ignore[no-untyped-def]
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname="postgres", connect_timeout=2,
        )  # fmt: skip

    def ping(self) -> bool:
        self._connect().close()
        return True

    def create_database(self, name: str) -> None:
        connection = self._connect()
        try:
            connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Postgres]:
    """PostgreSQL 15 on a free loopback port, password auth, data in a private temp dir."""
    for tool in ("initdb", "postgres"):
        if not (PG_BIN / tool).exists():
            _unavailable(f"PostgreSQL binary {PG_BIN / tool} not found")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        _unavailable("running as root, but `runuser` (to start PostgreSQL as postgres) is missing")
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="retrainer-pg-"))
    if as_root:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            _unavailable("running as root, but there is no `postgres` user to run PostgreSQL")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_hex(12)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    if as_root:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    log = folder / "postgres.log"
    service: _Service | None = None
    try:
        init = subprocess.run(
            [*prefix, str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-U", PG_USER,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C",
             "--no-sync"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed ({init.returncode}):\n{init.stdout}{init.stderr}")
        port = free_port()
        # Durability off: a test database, thrown away at the end; it saves seconds of fsync.
        service = _spawn(
            "postgres",
            [*prefix, str(PG_BIN / "postgres"), "-D", str(folder / "data"), "-k", str(folder),
             "-p", str(port), "-h", "127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "synchronous_commit=off", "-c", "max_connections=200"],
            log,
        )  # fmt: skip
        server = Postgres(port, PG_USER, password, log)
        _wait(service, server.ping, "PostgreSQL")
        yield server
    finally:
        if service is not None:
            # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
            service.stop(signal.SIGINT)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Redis:
    """A running Redis server on loopback with a password."""

    port: int
    password: str
    log: Path

    def url(self, database: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Redis]:
    """redis-server on a free loopback port, no persistence (a broker for one test)."""
    if not REDIS_SERVER.exists():
        _unavailable(f"{REDIS_SERVER} not found")
    folder = tmp_path_factory.mktemp("redis")
    password = secrets.token_hex(12)
    port = free_port()
    service = _spawn(
        "redis",
        [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--requirepass", password],
        folder / "redis.log",
    )  # fmt: skip
    server = Redis(port, password, folder / "redis.log")
    try:

        def ping() -> bool:
            import redis

            return bool(redis.Redis.from_url(server.url()).ping())

        _wait(service, ping, "Redis")
        yield server
    finally:
        service.stop()
