"""The recorder's writer in a child process, so decoding and SQLite get their own GIL.

In a thread, the writer starved behind a busy event loop (it stored a fifth of what the
proxy answered, `docs/benchmarks.md`); in a child process it keeps up, on the other core.
The proxy's side stays a `put_nowait`: a feeder thread batches exchanges into plain
tuples and pickles them down a pipe; the child runs the ordinary `Recorder`.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.recording.recorder import MAX_BATCH, Recorder, RecorderFailed

log = logging.getLogger(__name__)

_FIELDS = (
    "id", "session", "started_at", "duration_ms", "method", "url", "status", "reason",
    "error", "client", "proxy_status", "sas_verdict",
)  # fmt: skip


def _flatten(ex: Exchange) -> tuple[Any, ...]:
    response = ex.response
    return (
        *(getattr(ex, name) for name in _FIELDS),
        ex.request.headers,
        ex.request.body,
        None if response is None else response.headers,
        None if response is None else response.body,
    )


def _unflatten(item: tuple[Any, ...]) -> Exchange:
    count = len(_FIELDS)
    fields = dict(zip(_FIELDS, item[:count], strict=True))
    request_headers, request_body, response_headers, response_body = item[count:]
    response = (
        None if response_headers is None else Message(headers=response_headers, body=response_body)
    )
    return Exchange(
        request=Message(headers=request_headers, body=request_body), response=response, **fields
    )


def _child(inbox: Connection, outbox: Connection, args: dict[str, Any]) -> None:
    """The writer process: receive batches until the parent says stop (or is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group;
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the parent drains us on its own stop
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )  # fmt: skip
    kind, replay_of = args.pop("kind"), args.pop("replay_of")
    recorder = Recorder(on_fatal=lambda message: outbox.send(("fatal", message)), **args)
    recorder.start(kind=kind, replay_of=replay_of)
    try:
        while True:
            try:
                data = inbox.recv_bytes()
            except EOFError:  # the parent died (SIGKILL): keep what already arrived
                break
            if not data:
                break
            for item in pickle.loads(data):
                recorder.submit(_unflatten(item))
    except RecorderFailed:
        pass
    finally:
        try:
            recorder.close()
        except RecorderFailed:
            pass
        outbox.send(("done", recorder.written))


class ProcessRecorder:
    """`Recorder`'s interface; decoding and writing happen in a child process."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        session: str,
        upstream: str | None = None,
        body_cap: int = 1 << 20,
        keys: dict[str, str] | None = None,
        on_fatal: Callable[[str], None] | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self._args: dict[str, Any] = {
            "db_path": self.db_path, "session": session, "upstream": upstream,
            "body_cap": body_cap, "keys": dict(keys or {}),
        }  # fmt: skip
        self._on_fatal = on_fatal
        self._queue: queue.SimpleQueue[Exchange | None] = queue.SimpleQueue()
        self._context = multiprocessing.get_context("spawn")
        self._process: Any = None
        self._feeder: threading.Thread | None = None
        self._monitor: threading.Thread | None = None
        self.failure: str | None = None
        self.written = 0

    @property
    def healthy(self) -> bool:
        return self.failure is None

    def start(self, *, kind: str = "proxy", replay_of: str | None = None) -> None:
        """Migrate the file here (errors surface at start), then start the writer process."""
        store.connect(self.db_path).conn.close()
        inbox, to_child = self._context.Pipe(duplex=False)
        from_child, outbox = self._context.Pipe(duplex=False)
        args = {**self._args, "kind": kind, "replay_of": replay_of}
        self._process = self._context.Process(
            target=_child, args=(inbox, outbox, args), name="hubscope-writer", daemon=True
        )
        self._process.start()
        inbox.close()
        outbox.close()
        self._feeder = threading.Thread(target=self._feed, args=(to_child,), daemon=True)
        self._monitor = threading.Thread(target=self._watch, args=(from_child,), daemon=True)
        self._feeder.start()
        self._monitor.start()

    def submit(self, exchange: Exchange) -> None:
        """Queue an exchange for the writer; never blocks, never touches the database."""
        if self.failure is not None:
            raise RecorderFailed(self.failure)
        self._queue.put_nowait(exchange)

    def close(self) -> None:
        """Send everything queued, let the writer drain it, and wait for the process."""
        if self._feeder is None or self._monitor is None:
            return
        self._queue.put(None)
        self._feeder.join()
        self._monitor.join()
        self._process.join()
        self._feeder = None
        if self.failure is not None:
            raise RecorderFailed(self.failure)

    def _feed(self, to_child: Connection) -> None:
        try:
            while True:
                item = self._queue.get()
                batch = []
                while item is not None:
                    batch.append(_flatten(item))
                    if len(batch) >= MAX_BATCH:
                        break
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                if batch:
                    to_child.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
                if item is None:
                    to_child.send_bytes(b"")
                    return
        except OSError as error:  # the writer process is gone; the monitor reports why
            log.debug("writer pipe closed: %s", error)
        finally:
            to_child.close()

    def _watch(self, from_child: Connection) -> None:
        try:
            while True:
                kind, value = from_child.recv()
                if kind == "done":
                    self.written = int(value)
                    return
                self._fail(str(value))
        except EOFError:
            self._fail(f"the writer process for {self.db_path} exited unexpectedly")
        finally:
            from_child.close()

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = message
            if self._on_fatal is not None:
                self._on_fatal(message)


__all__ = ["ProcessRecorder"]
