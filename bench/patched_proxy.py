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
  HS_WRITER_PROCESS=1  decode and write in a child process (its own GIL): a feeder thread
                       sends batches of plain tuples down a pipe; the child runs the
                       ordinary Recorder

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

from proxy import recorder, store


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


_FIELDS = (
    "id",
    "session",
    "started_at",
    "duration_ms",
    "method",
    "url",
    "status",
    "reason",
    "error",
    "client",
    "proxy_status",
    "sas_verdict",
)


def _flatten(ex: Any) -> tuple[Any, ...]:
    resp = ex.response
    return (
        *(getattr(ex, f) for f in _FIELDS),
        ex.request.headers,
        ex.request.body,
        None if resp is None else resp.headers,
        None if resp is None else resp.body,
    )


def _unflatten(t: tuple[Any, ...]) -> Any:
    from proxy.exchange import Exchange, Message

    n = len(_FIELDS)
    fields = dict(zip(_FIELDS, t[:n], strict=True))
    req_h, req_b, resp_h, resp_b = t[n:]
    response = None if resp_h is None else Message(headers=resp_h, body=resp_b)
    return Exchange(request=Message(headers=req_h, body=req_b), response=response, **fields)


def _writer_main(conn: Any, state: Any, args: dict[str, Any]) -> None:
    import pickle
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent says when to stop
    _patch_writer()
    kind, replay_of = args.pop("kind"), args.pop("replay_of")

    def on_fatal(_message: str) -> None:
        state[1] = 1

    rec = recorder.Recorder(on_fatal=on_fatal, **args)
    rec.start(kind=kind, replay_of=replay_of)
    try:
        while True:
            data = conn.recv_bytes()
            if not data:
                break
            for t in pickle.loads(data):
                rec.submit(_unflatten(t))
            state[0] = rec.written
    finally:
        rec.close()
        state[0] = rec.written


class ProcessRecorder:
    """Recorder's interface; the decoding and writing happen in a child process."""

    def __init__(
        self,
        db_path: Any,
        *,
        session: str,
        upstream: str | None = None,
        body_cap: int = 1 << 20,
        keys: dict[str, str] | None = None,
        on_fatal: Any = None,
    ) -> None:
        import multiprocessing
        import threading

        self._args = {
            "db_path": db_path,
            "session": session,
            "upstream": upstream,
            "body_cap": body_cap,
            "keys": dict(keys or {}),
        }
        self._ctx = multiprocessing.get_context("spawn")
        self._state = self._ctx.Array("q", 2, lock=False)  # written, failed
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threading = threading
        self._proc: Any = None
        self._feeder: Any = None

    @property
    def written(self) -> int:
        return int(self._state[0])

    @property
    def failure(self) -> str | None:
        if self._state[1] or (
            self._proc is not None and not self._proc.is_alive() and self._feeder is not None
        ):
            return "the writer process failed"
        return None

    @property
    def healthy(self) -> bool:
        return self.failure is None

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        store.connect(self._args["db_path"]).conn.close()  # migrate before serving
        recv, send = self._ctx.Pipe(duplex=False)
        self._proc = self._ctx.Process(
            target=_writer_main,
            args=(recv, self._state, {**self._args, "kind": kind, "replay_of": replay_of}),
            daemon=True,
        )
        self._proc.start()
        self._feeder = self._threading.Thread(target=self._feed, args=(send,), daemon=True)
        self._feeder.start()

    def submit(self, exchange: Any) -> None:
        if self._state[1]:
            raise recorder.RecorderFailed("the writer process failed")
        self._queue.put_nowait(exchange)

    def _feed(self, send: Any) -> None:
        import pickle

        while True:
            item = self._queue.get()
            batch = []
            while item is not None:
                batch.append(_flatten(item))
                if len(batch) >= 500:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                send.send_bytes(pickle.dumps(batch, protocol=5))
            if item is None:
                send.send_bytes(b"")
                return

    def close(self) -> None:
        if self._feeder is None:
            return
        self._queue.put(None)
        self._feeder.join()
        self._proc.join()
        self._feeder = None


def main() -> None:
    if os.environ.get("HS_SWITCH"):
        sys.setswitchinterval(float(os.environ["HS_SWITCH"]))
    _patch_writer()
    if os.environ.get("HS_WRITER_PROCESS") == "1":
        from proxy import app

        app.Recorder = ProcessRecorder  # type: ignore[misc,assignment]
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
