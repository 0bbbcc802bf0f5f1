"""A throwaway PostgreSQL server for the tests, and one fresh database per test.

`make test` installs Debian's `postgresql`; the session starts one server from its
binaries on 127.0.0.1 with a free port and a temporary data directory, as `nobody`
when run as root (PostgreSQL refuses to run as root), and stops it by its PID at the
end. Host connections need the superuser's password (scram-sha-256), so the tests go
through the same authentication a team's server asks for. Without PostgreSQL the tests
that need it skip on a laptop and fail under CI=true (`tests/outside.py`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.outside import unavailable
from tests.servers import free_port

__all__ = ["PostgresServer", "find_bin_dir"]


def find_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian keeps them per version)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    """A running server: its superuser URL (with password) and a way to make databases."""

    host: str
    port: int
    user: str
    password: str
    process: subprocess.Popen[bytes]
    bin_dir: Path
    data_dir: Path

    def url(self, dbname: str = "postgres", *, password: bool = True) -> str:
        secret = f":{self.password}" if password else ""
        return f"postgresql://{self.user}{secret}@{self.host}:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"create database {name}")
        return name

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"drop database if exists {name} with (force)")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        """Fast shutdown (SIGINT to its PID), waited for; SIGKILL if it will not go."""
        if self.process.poll() is not None:
            return
        os.kill(self.pid, signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        """Start the same data directory again on the same port (after `stop`)."""
        self.process = _start(self.bin_dir, self.data_dir, self.port)
        _wait_ready(self)


def _as_postgres_user() -> dict[str, object]:
    """Run as `nobody` when we are root: the server refuses to run as root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "nobody", "group": "nogroup", "extra_groups": []}


def _start(bin_dir: Path, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    log = open(data_dir.parent / "server.log", "ab")
    process = subprocess.Popen(
        [
            str(bin_dir / "postgres"),
            "-D", str(data_dir),
            "-h", "127.0.0.1",
            "-p", str(port),
            "-k", str(data_dir.parent),
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=200",
        ],  # fmt: skip
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        **_as_postgres_user(),  # type: ignore[arg-type]
    )
    log.close()
    return process


def _wait_ready(server: PostgresServer) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(server.url(), connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                log = (server.data_dir.parent / "server.log").read_text(errors="replace")
                raise RuntimeError(f"PostgreSQL did not answer in 60 s:\n{log[-2000:]}") from None
            time.sleep(0.1)


def start_server() -> PostgresServer:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL's server binaries (Debian's postgresql package)")
    base = Path(tempfile.mkdtemp(prefix="hubscope-pg-"))
    data_dir = base / "data"
    password = secrets.token_urlsafe(16)
    (base / "pw").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(base, "nobody", "nogroup")
        shutil.chown(base / "pw", "nobody", "nogroup")
    base.chmod(0o700)
    subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D", str(data_dir),
            "-U", "postgres",
            f"--pwfile={base / 'pw'}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E", "UTF8",
            "--locale=C",
            "--no-sync",
        ],  # fmt: skip
        check=True,
        capture_output=True,
        **_as_postgres_user(),  # type: ignore[arg-type]
    )
    (base / "pw").unlink()
    port = free_port()
    server = PostgresServer(
        "127.0.0.1", port, "postgres", password, _start(bin_dir, data_dir, port), bin_dir, data_dir
    )
    try:
        _wait_ready(server)
    except BaseException:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL for the whole test session (skipped locally if not installed)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg (the PostgreSQL driver)")
    try:
        server = start_server()
    except FileNotFoundError as error:
        unavailable(str(error))
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh empty database for one test: its URL, password included."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once per store backend (`new_store` then makes stores of that kind)."""
    return str(request.param)


@pytest.fixture
def new_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], Path | str]]:
    """Make an empty store of the test's backend: `new_store("name")` → a `--db` value."""
    made: list[str] = []
    server: PostgresServer | None = (
        request.getfixturevalue("postgres_server") if backend == "postgresql" else None
    )

    def make(name: str = "hubscope") -> Path | str:
        if server is None:
            return tmp_path / f"{name}.db"
        made.append(server.create_database())
        return server.url(made[-1])

    yield make
    for name in made:
        assert server is not None
        server.drop_database(name)
