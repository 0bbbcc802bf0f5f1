"""Which target a `--db` gets, where its journal lives, and the instance each row names."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from proxy.recording import stores
from proxy.recording.pg_target import PgTarget
from proxy.recording.records import SessionStart
from proxy.store import location
from proxy.store.rows import capture
from tests.recording.test_recorder import exchange


def test_instance_names_host_pid_and_listen_address() -> None:
    assert stores.instance_name("127.0.0.1:8080") == (
        f"{socket.gethostname()}/{os.getpid()}/127.0.0.1:8080"
    )
    assert stores.instance_name(pid=7) == f"{socket.gethostname()}/7"


def test_a_file_keeps_its_journal_beside_it_a_url_in_the_user_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stores.journal_dir_for(tmp_path / "a.db") == tmp_path / "a.db.capture"
    monkeypatch.setenv("HUBSCOPE_HOME", str(tmp_path / "home"))
    folder = stores.journal_dir_for("postgresql://app:pw@db.example:6543/staging")
    assert folder == tmp_path / "home" / "journals" / "app@db.example-6543-_staging"
    assert "pw" not in folder.name


def test_sqlite_rows_name_their_instance_too(tmp_path: Path) -> None:
    target = stores.open_target(tmp_path / "x.db", instance="box/1/127.0.0.1:9")
    target.ensure_session(SessionStart("s", "proxy", None, None))
    batch = [capture(exchange(i), 1 << 20) for i in range(2)]
    assert target.write(batch, target.prepare(batch), {}).stored == 2
    stores.close(target)
    db = location.open_db(tmp_path / "x.db", readonly=True)
    assert [r["instance"] for r in db.query("select instance from exchanges")] == [
        "box/1/127.0.0.1:9"
    ] * 2


def test_a_url_gets_the_postgresql_target() -> None:
    assert isinstance(stores.open_target("postgresql://h/db"), PgTarget)
