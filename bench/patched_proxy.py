"""`hubscope proxy` with candidate hot-path fixes switched on by environment (bench only).

Used with bench/ab.py to measure a proposed change before it is proposed:

  HS_UVLOOP=1          run the event loop on uvloop (PYTHONPATH must reach uvloop)
  HS_SWITCH=SECONDS    sys.setswitchinterval (default 0.005): how long the writer thread
                       may hold the GIL before the event loop gets it back
  HS_LINGER_MS=N       the writer waits up to N ms to fill a batch (fewer, larger commits)
  HS_ONE_TX=1          store.write_rows in one transaction (sqlite-utils otherwise
                       commits every insert chunk of every table separately)
  HS_RAW_WRITE=1       store.write_rows with plain executemany (cached INSERT per
                       column set) in one transaction, instead of sqlite-utils insert_all
  HS_NO_FTS=1          drop the exchanges_fts insert trigger (body full-text index)
  HS_WRITER_THREAD=1   decode and write in a thread of the proxy process, as before
                       proxy/writer_process.py (the shipped writer is a child process,
                       which re-imports the modules, so the writer patches above only
                       take effect together with this flag)

    .venv/bin/python bench/patched_proxy.py proxy --upstream … --listen … --db …
"""

from __future__ import annotations

import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proxy import store
from proxy.recording import recorder


def _linger_next_batch(linger: float) -> Any:
    def _next_batch(self: recorder.Recorder) -> tuple[list[Any], bool]:
        batch: list[Any] = []
        item = self._queue.get()
        deadline = time.monotonic() + linger
        while item is not recorder._SHUTDOWN:
            batch.append(item)
            if len(batch) >= recorder.MAX_BATCH:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return batch, False
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch, False
        return batch, True

    return _next_batch


def _one_tx_write_rows(db: Any, rows: store.Rows) -> None:
    with db.atomic():
        db.table("exchanges").insert_all(rows.exchanges, batch_size=200, replace=True)
        if rows.devices:
            db.table("devices").insert_all(rows.devices, batch_size=200, replace=True)
        if rows.device_tags:
            db.table("device_tags").insert_all(rows.device_tags, batch_size=500, replace=True)


_SQL: dict[tuple[str, tuple[str, ...]], str] = {}


def _raw_write_rows(db: Any, rows: store.Rows) -> None:
    conn = db.conn
    conn.execute("BEGIN")
    try:
        for table, items in (
            ("exchanges", rows.exchanges),
            ("devices", rows.devices),
            ("device_tags", rows.device_tags),
        ):
            groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
            for item in items:
                cols = tuple(item)
                groups.setdefault(cols, []).append(tuple(item.values()))
            for cols, values in groups.items():
                sql = _SQL.get((table, cols))
                if sql is None:
                    names = ", ".join(f"[{c}]" for c in cols)
                    marks = ", ".join("?" * len(cols))
                    sql = f"insert or replace into [{table}] ({names}) values ({marks})"
                    _SQL[(table, cols)] = sql
                conn.executemany(sql, values)
        conn.execute("COMMIT")
    except BaseException:
        conn.rollback()
        raise


def main() -> None:
    if os.environ.get("HS_SWITCH"):
        sys.setswitchinterval(float(os.environ["HS_SWITCH"]))
    _patch_writer()
    if os.environ.get("HS_WRITER_THREAD") == "1":
        from proxy.capture import app

        app.ProcessRecorder = recorder.Recorder  # type: ignore[misc,assignment]
    if os.environ.get("HS_UVLOOP") == "1":
        import uvloop

        uvloop.install()
    from proxy.cli import cli

    sys.argv[0] = "hubscope"
    cli()


def _patch_writer() -> None:
    if os.environ.get("HS_LINGER_MS"):
        recorder.Recorder._next_batch = _linger_next_batch(  # type: ignore[method-assign]
            float(os.environ["HS_LINGER_MS"]) / 1000
        )
    if os.environ.get("HS_RAW_WRITE") == "1":
        store.write_rows = _raw_write_rows
    elif os.environ.get("HS_ONE_TX") == "1":
        store.write_rows = _one_tx_write_rows
    if os.environ.get("HS_NO_FTS") == "1":
        connect = store.connect

        def connect_no_fts(path: Any, *, readonly: bool = False) -> Any:
            db = connect(path, readonly=readonly)
            if not readonly:
                db.conn.execute("drop trigger if exists exchanges_fts_insert")
            return db

        store.connect = connect_no_fts


if __name__ == "__main__":
    main()
