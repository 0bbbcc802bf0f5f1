"""`bench/exchanges.py`, the traffic every scale bench records (and a PostgreSQL bench will).

The benches themselves run only in `make bench`; these tests keep what they share honest:
the numbering, the times, the batching, and that the traffic decodes as the proxy's does.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from proxy import store
from proxy.store import rows
from tests.servers import REPO


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The module as the bench scripts import it: `bench/` on the path, only while importing."""
    folder = str(REPO / "bench")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module("exchanges")
    finally:
        sys.path.remove(folder)


def test_exchanges_are_numbered_from_start_one_a_millisecond_from_t0(bench: ModuleType) -> None:
    made = list(bench.generate_exchanges(4, session="s", start=10, t0=1000.0))
    assert [ex.started_at for ex in made] == pytest.approx([1000.010, 1000.011, 1000.012, 1000.013])
    assert {ex.session for ex in made} == {"s"}
    assert len({ex.id for ex in made}) == 4
    assert [ex.method for ex in made] == ["POST", "PUT", "POST", "PUT"]
    assert all(ex.url.startswith(f"http://{bench.UPSTREAM_HOST}/") for ex in made)
    request_ids = [dict(ex.request.headers)["x-ms-client-request-id"] for ex in made]
    assert request_ids[0].endswith("00000000000a") and request_ids[3].endswith("00000000000d")


def test_by_default_the_last_exchange_starts_now(bench: ModuleType) -> None:
    before = time.time()
    *_, last = bench.generate_exchanges(3, session="s", start=5)
    assert before - 1 <= last.started_at + 0.001 <= time.time() + 1


def test_batched_keeps_the_order_and_cuts_the_last_batch_short(bench: ModuleType) -> None:
    made = list(bench.generate_exchanges(5, session="s", t0=0.0))
    batches = list(bench.batched(iter(made), 2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [ex.id for batch in batches for ex in batch] == [ex.id for ex in made]
    assert list(bench.batched([], 3)) == []


def test_the_traffic_decodes_and_stores_as_recorded_traffic_does(
    bench: ModuleType, tmp_path: Path
) -> None:
    db = tmp_path / "bench.db"
    conn = store.connect(db)
    store.ensure_session(conn, "s", kind="proxy")
    for batch in bench.batched(bench.generate_exchanges(6, session="s"), 4):
        store.write_rows(conn, rows.build(batch, body_cap=1 << 20, keys={}))
    conn.conn.close()
    with sqlite3.connect(db) as check:
        count, decoded = check.execute(
            "select count(*), count(operation) from exchanges where session = 's'"
        ).fetchone()
        devices = check.execute("select count(*) from devices").fetchone()[0]
    assert (count, decoded) == (6, 6)
    assert devices == 9  # three registrations (request and answer), three installations


def test_finish_writes_the_figures_and_removes_the_database_unless_kept(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "run.db"
    with sqlite3.connect(db) as conn:
        conn.execute("pragma journal_mode = wal")
        conn.execute("create table t (x)")
        conn.execute("insert into t values (1)")
        assert bench.database_bytes(db) == sum(
            Path(f"{db}{suffix}").stat().st_size for suffix in ("", "-wal", "-shm")
        )
    monkeypatch.setenv("BENCH_KEEP_DB", "1")
    bench.finish({"rate": 1.5}, tmp_path / "kept.json", db)
    assert db.exists() and json.loads((tmp_path / "kept.json").read_text()) == {"rate": 1.5}
    monkeypatch.delenv("BENCH_KEEP_DB")
    bench.finish({}, tmp_path / "gone.json", db)
    assert not any(Path(f"{db}{suffix}").exists() for suffix in ("", "-wal", "-shm"))
    assert bench.database_bytes(db) == 0
