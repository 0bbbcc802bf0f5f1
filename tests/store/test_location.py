"""`--db` as a file or a URL: opened, checked, written and read the same way on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from proxy import store
from proxy.store import location


def test_parse_keeps_urls_as_text() -> None:
    url = "postgresql://u@h:5/db"
    assert location.parse(url) == url and location.is_postgres(url)
    assert location.parse("x.db") == Path("x.db") and not location.is_postgres(Path("x.db"))
    assert location.describe("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_written_rows_read_back_alike(new_store: Callable[[str], Path | str]) -> None:
    where = new_store("one")
    db = location.open_db(where)
    store.ensure_session(db, "s", kind="proxy")
    store.ensure_session(db, "s", kind="other")  # kept as first made
    row = {"id": "x1", "session": "s", "started_at": 2.5, "duration_ms": 1.0, "method": "PUT",
           "url": "https://h/hub/installations/i?api-version=2020-06", "request_body": b"{}",
           "request_headers": '[["a", "b"]]', "status": 200,
           "instance": "h/1/127.0.0.1:8080"}  # fmt: skip
    store.write_rows(db, store.Rows([row], [], []))
    db.conn.close()
    reader = location.open_db(where, readonly=True)
    rows = list(store.iter_exchange_rows(reader))
    assert [(r["id"], r["request_body"], r["instance"]) for r in rows] == [
        ("x1", b"{}", "h/1/127.0.0.1:8080")
    ]
    assert store.exchange_from_row(rows[0]).request.headers == (("a", "b"),)
    assert [r["kind"] for r in reader.query("select kind from sessions")] == ["proxy"]
    reader.conn.close()


def test_an_empty_store_is_refused_to_readers(new_store: Callable[[str], Path | str]) -> None:
    where = new_store("empty")
    with pytest.raises(store.NotAHubscopeDatabase):
        location.check(where, readonly=True)


def test_an_unreachable_server_is_refused_without_its_password() -> None:
    from tests.servers import free_port

    url = f"postgresql://app:hunter22@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(store.NotAHubscopeDatabase) as caught:
        location.check(url, readonly=True)
    assert "127.0.0.1" in str(caught.value) and "hunter22" not in str(caught.value)
