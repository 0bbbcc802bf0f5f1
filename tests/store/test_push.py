"""Pushing a local capture into another store: everything copied, and twice adds nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from proxy.exchange import new_id
from proxy.recording.recorder import Recorder
from proxy.store import location, push
from tests.rules.factories import TOKEN_EL, el, reg


def recorded(path: Path, session: str, count: int) -> Path:
    """A local file a proxy could have written: exchanges with decoded devices and tags."""
    recorder = Recorder(path, session=session)
    recorder.start()
    for i in range(count):
        exchange = reg(TOKEN_EL, el("Tags", f"user:{i},team"), status=201)[0]
        recorder.submit(replace(exchange, id=new_id(), session=session, started_at=1000.0 + i))
    recorder.close()
    return path


TABLES = ("sessions", "exchanges", "devices", "device_tags", "findings", "findings_judged")


def counts(where: Path | str) -> dict[str, int]:
    db = location.open_db(where, readonly=True)
    try:
        return {
            table: int(db.execute(f"select count(*) from {table}").fetchone()[0])
            for table in TABLES
        }
    finally:
        db.conn.close()


def run(source: Path, destination: Path | str, session: str | None = None) -> push.Pushed:
    src = location.open_db(source, readonly=True)
    dst = location.open_db(destination)
    try:
        return push.push(src, dst, session)
    finally:
        src.conn.close()
        dst.conn.close()


def test_a_push_copies_everything_and_a_second_adds_nothing(
    tmp_path: Path, new_store: Callable[[str], Path | str]
) -> None:
    local = recorded(tmp_path / "laptop.db", "mine", 5)
    team = new_store("team")
    first = run(local, team)
    assert (first.exchanges, first.exchanges_added, first.sessions_added) == (5, 5, 1)
    assert counts(team) == counts(local)
    assert counts(local) == {"sessions": 1, "exchanges": 5, "devices": 5, "device_tags": 10,
                             "findings": 10, "findings_judged": 5}  # fmt: skip
    again = run(local, team)
    assert (again.exchanges, again.exchanges_added, again.sessions_added) == (5, 0, 0)
    assert counts(team) == counts(local)
    reader = location.open_db(team, readonly=True)
    pushed = list(reader.query("select request_body, url from exchanges order by started_at"))
    original = list(
        location.open_db(local, readonly=True).query(
            "select request_body, url from exchanges order by started_at"
        )
    )
    reader.conn.close()
    assert pushed == original and isinstance(pushed[0]["request_body"], bytes)


def test_one_session_only(tmp_path: Path, new_store: Callable[[str], Path | str]) -> None:
    local = recorded(tmp_path / "laptop.db", "one", 2)
    recorded(local, "two", 3)
    team = new_store("team")
    assert run(local, team, "two").exchanges_added == 3
    assert counts(team)["sessions"] == 1 and counts(team)["exchanges"] == 3
