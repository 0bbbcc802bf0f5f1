"""Loading many rows: COPY, indexes set aside and built again; the 1,000,000-row bench, small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from proxy.store import pg
from proxy.store.pg import bulk
from tests.servers import REPO


def _indexes(conn: psycopg.Connection[object]) -> list[str]:
    return [
        str(row[0])
        for row in conn.execute(
            "select indexname from pg_indexes where tablename = 'exchanges' order by indexname"
        )
    ]


def test_rows_are_copied_while_the_indexes_wait(postgres_url: str) -> None:
    db = pg.connect(postgres_url)
    conn = db.conn.raw
    before = _indexes(conn)
    try:
        with bulk.indexes_set_aside(conn, ["exchanges"]) as dropped:
            assert set(dropped) == set(before) - {"exchanges_pkey", "exchanges_rowid_key"}
            assert "idx_exchanges_search" in dropped and "idx_exchanges_instance" in dropped
            assert _indexes(conn) == ["exchanges_pkey", "exchanges_rowid_key"]
            rows = [
                {"id": "a", "url": "http://h/x\x00y", "request_body": b"\x00\xff"},
                {"id": "b", "status": 404},  # columns a row lacks are NULL
            ]
            assert bulk.copy_rows(conn, "exchanges", rows) == 2
            assert bulk.copy_rows(conn, "exchanges", []) == 0
        assert _indexes(conn) == before
        stored = conn.execute("select id, url, request_body, status from exchanges order by id")
        assert stored.fetchall() == [
            ("a", "http://h/x\ufffdy", b"\x00\xff", None),
            ("b", None, None, 404),
        ]
        with pytest.raises(psycopg.errors.UniqueViolation):  # COPY is for new rows only
            bulk.copy_rows(conn, "exchanges", [{"id": "a"}])
    finally:
        db.close()


def test_the_pg_viewer_bench_runs_on_a_few_hundred_rows(postgres_url: str, tmp_path: Path) -> None:
    """What `bench/pg_viewer.py` does on 1,000,000 exchanges, on 300: load, then every page."""
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, "bench/pg_viewer.py", "--rows", "300", "--repeat", "2",
         "--url", postgres_url, "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert pg.url.password(postgres_url) not in done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["rows"] == 300 and result["server"].startswith("PostgreSQL ")
    figures = result["figures"]
    for label in ("list page /api/exchanges (JSON, warm)", "list f=status:4xx",
                  "list q=vip (common word)", "list f=instance:<one proxy>", "tags"):  # fmt: skip
        assert figures[label]["median"] > 0, label
    with psycopg.connect(postgres_url) as conn:
        counted = conn.execute(
            "select count(*), count(distinct instance), count(distinct session) from exchanges"
        ).fetchone()
    assert counted == (300, 4, 10)
