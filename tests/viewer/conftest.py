"""A database with something to triage: two runs of one device's story, failures, a replay."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from proxy import store
from proxy.store import push, write_transaction
from viewer import sample
from viewer.app import make_app

T0 = 1_795_000_000.0
REPLAY = "demo-replay"


def build_triage(path: Path) -> None:
    """`demo` (the sample story, a refused FCM registration, a 503), `demo-2` (the story
    again), and `demo-replay`, a replay of `demo` whose first answer differs."""
    demo = sample.scenario("demo", T0)
    sample.record(path, demo + sample.troubles("demo", T0 + 20))
    sample.record(path, sample.scenario("demo-2", T0 + 100))
    replayed = sample.scenario(REPLAY, T0 + 200)
    db = store.connect(path)
    try:
        store.ensure_session(db, REPLAY, kind="replay", upstream=sample.NS, replay_of="demo")
    finally:
        db.conn.close()
    sample.record(path, replayed, kind="replay")
    db = store.connect(path)
    try:
        with db.conn:
            db.table("replay_links").insert_all(
                {"replay_exchange_id": r.id, "original_exchange_id": o.id,
                 "verdict": "different" if i == 0 else "same",
                 "diff": '[["status", "201", "200"]]' if i == 0 else "[]"}
                for i, (r, o) in enumerate(zip(replayed, demo, strict=True))
            )  # fmt: skip
    finally:
        db.conn.close()


@pytest.fixture(scope="session")
def triage_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("triage") / "triage.db"
    build_triage(path)
    return path


@pytest.fixture
def triage_db(triage_master: Path, tmp_path: Path) -> Path:
    """A fresh copy per test: the viewer writes its search index into the file."""
    path = tmp_path / "triage.db"
    shutil.copyfile(triage_master, path)
    return path


def on_backend(path: Path, new_store: Callable[[str], Path | str]) -> Path | str:
    """This file's store on the test's backend: the file, or pushed into a new PostgreSQL."""
    target = new_store("copy")
    if isinstance(target, Path):
        return path
    source, destination = store.connect(path, readonly=True), store.connect(target)
    try:
        push.push(source, destination)
    finally:
        source.conn.close()
        destination.conn.close()
    return target


@pytest.fixture
def triage_store(triage_db: Path, new_store: Callable[[str], Path | str]) -> Path | str:
    """The triage database on SQLite and on PostgreSQL (`backend`, tests/postgres.py)."""
    return on_backend(triage_db, new_store)


def execute(where: Path | str, *statements: str) -> None:
    """Change a store behind the viewer's back, in SQLite's words (either backend)."""
    db = store.connect(where)
    try:
        with write_transaction(db):
            for statement in statements:
                db.conn.execute(statement)
    finally:
        db.conn.close()


@pytest.fixture
async def triage(aiohttp_client, triage_db: Path) -> TestClient:
    return await aiohttp_client(make_app(triage_db))


async def ids(client: TestClient, query: str) -> list[str]:
    """The ids the JSON list answers for a query (newest first), all pages."""
    found: list[str] = []
    cursor = ""
    while True:
        resp = await client.get(f"/api/exchanges?{query}&limit=500&cursor={cursor}")
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        found += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            return found
        cursor = page["next_cursor"]
