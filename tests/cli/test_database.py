"""Every command refuses a file that is not its database in one line (exit 2), writing nothing.

Each command runs as a real process, as a user runs it; the files are compared byte for
byte afterwards. `--init` is the one way to add hubscope's tables to another SQLite file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from proxy import store
from proxy.cli import cli, commands
from proxy.localhub.state import Store
from tests.conftest import CORPUS
from tests.servers import HUBSCOPE, REPO, free_port, hubscope_process

RECORDING = next((CORPUS / "Azure+azure-sdk-assets").rglob("*.json"))
CS = "Endpoint=sb://127.0.0.1:9/;SharedAccessKeyName=n;SharedAccessKey=k"


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    path.write_text("not a database at all\n")
    return path


def other_app(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("create table customers (id integer primary key, name text)")
    conn.execute("insert into customers (name) values ('ada')")
    conn.commit()
    conn.close()
    return path


def fingerprint(path: Path) -> tuple[str, list[str]]:
    """The file's bytes, and which files sit beside it (no -wal, -shm or -journal appears)."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(
        p.name for p in path.parent.iterdir()
    )


def hubscope(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`hubscope ARGS` as a user runs it: a process of its own."""
    return subprocess.run(
        [*HUBSCOPE, *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """The same through click's runner, for commands that refuse before starting anything."""
    result = CliRunner().invoke(cli, list(args))
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


COMMANDS = {
    "audit": lambda db: ["audit", "--db", db],
    "decode": lambda db: ["decode", "--db", db],
    "view": lambda db: ["view", "--db", db, "--listen", "127.0.0.1:0"],
    "replay": lambda db: ["replay", "--db", db, "--session", "s", "--connection-string", CS],
    "import": lambda db: ["import", str(RECORDING), "--db", db],
    "export": lambda db: ["export", "--db", db],
    "push": lambda db: ["push", "--db", db, "--to", "postgresql://nobody@127.0.0.1:9/none"],
    "curl": lambda db: ["curl", "abcdef", "--db", db],
    "resend": lambda db: ["resend", "abcdef", "--db", db, "--connection-string", CS],
    "targets": lambda db: ["targets", "--db", db],
    "proxy": lambda db: ["proxy", "--upstream", "http://127.0.0.1:9", "--db", db,
                         "--listen", "127.0.0.1:0"],  # fmt: skip
    "demo": lambda db: ["demo", "--headless", "--db", db, "--hub-port", "0",
                        "--proxy-port", "0", "--viewer-port", "0"],  # fmt: skip
}


def test_every_command_that_takes_a_db_is_covered() -> None:
    takes_db = {
        name for name, command in commands().items() if any(p.name in ("db", "db_path")
                                                               for p in command.params)
    }  # fmt: skip
    assert takes_db == {*COMMANDS, "hub"}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("make", [text_file, other_app], ids=["text-file", "other-app-sqlite"])
def test_a_file_that_is_not_a_hubscope_database_is_refused_untouched(
    tmp_path: Path, command: str, make: object
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    before = fingerprint(path)
    run = hubscope if command in ("demo", "proxy") else in_process
    result = run(*COMMANDS[command](str(path)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    if make is text_file:
        assert line == f"Error: {path} is not a database (not an SQLite file)"
    else:
        assert line.startswith(f"Error: {path} is not a hubscope database (it holds customers")
    assert fingerprint(path) == before


def test_init_adds_hubscope_tables_beside_the_others(tmp_path: Path) -> None:
    path = other_app(tmp_path)
    result = hubscope("import", str(RECORDING), "--db", str(path), "--init")
    assert result.returncode == 0, result.stderr
    db = store.connect(path, readonly=True)
    assert list(db.query("select name from customers")) == [{"name": "ada"}]
    assert db["exchanges"].count > 0
    db.conn.close()
    again = hubscope("audit", "--db", str(path), "--fail-on", "never")
    assert again.returncode == 0, again.stderr


def test_the_proxy_refuses_before_listening_and_starts_with_init(tmp_path: Path) -> None:
    path = other_app(tmp_path)
    port = free_port()
    args = ["proxy", "--upstream", "http://127.0.0.1:9", "--db", str(path),
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    refused = hubscope(*args)
    assert refused.returncode == 2
    assert "pass --init to add hubscope's tables to it" in refused.stderr
    with hubscope_process([*args, "--init"], url=f"http://127.0.0.1:{port}/"):
        pass
    assert store.is_hubscope(store.sqlite_tables(path) or [])
    free = hubscope("proxy", "--upstream", "http://127.0.0.1:9", "--no-record",
                    "--db", str(text_file(tmp_path)), "--help")  # fmt: skip
    assert free.returncode == 0


def test_a_new_or_empty_file_becomes_a_hubscope_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (tmp_path / "new.db", empty):
        result = hubscope("import", str(RECORDING), "--db", str(path))
        assert result.returncode == 0, result.stderr
        assert store.is_hubscope(store.sqlite_tables(path) or [])


def test_readers_refuse_a_missing_or_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = hubscope("decode", "--db", str(empty))
    assert (result.returncode, result.stderr) == (2, f"Error: {empty} is empty\n")
    assert empty.read_bytes() == b""


@pytest.mark.parametrize(
    "command", ["audit", "curl", "export", "push", "replay", "resend", "targets"]
)
def test_commands_that_read_a_store_refuse_a_missing_file(tmp_path: Path, command: str) -> None:
    """`db_option()`: a reader's --db must exist (`import`, `proxy`, `view` create theirs)."""
    missing = tmp_path / "missing.db"
    result = in_process(*COMMANDS[command](str(missing)))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"Invalid value for '--db': File '{missing}' does not exist." in result.stderr
    assert not missing.exists()


def test_the_hub_keeps_its_state_only_in_a_file_of_its_own(tmp_path: Path) -> None:
    recording = tmp_path / "hubscope.db"
    store.connect(recording).conn.close()
    for path, why in (
        (recording, "it is a hubscope recording database; give the hub a file of its own"),
        (other_app(tmp_path), "it holds customers"),
    ):
        before = fingerprint(path)
        result = hubscope("hub", "--db", str(path), "--listen", "127.0.0.1:0")
        assert result.returncode == 2
        assert result.stderr == (
            f"Error: {path} is not a hub state file ({why}); pass --init to add the hub's "
            "tables to it, or choose another --db\n"
        )
        assert fingerprint(path) == before
    not_db = hubscope("hub", "--db", str(text_file(tmp_path)))
    assert not_db.returncode == 2 and "is not a database" in not_db.stderr

    state = tmp_path / "hub.db"
    Store(state).close()  # the hub's own file, as `hubscope hub --db` leaves it
    from proxy.cli.hub import STATE_TABLES, check_state_file

    assert set(store.sqlite_tables(state) or []) == STATE_TABLES
    check_state_file(state, init=False)
    port = free_port()
    with hubscope_process(
        ["hub", "--db", str(recording), "--init", "--listen", f"127.0.0.1:{port}"],
        url=f"http://127.0.0.1:{port}/",
    ):
        pass
    assert STATE_TABLES <= set(store.sqlite_tables(recording) or [])
