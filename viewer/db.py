"""Read-only access to the store from the event loop: one `?mode=ro` connection per thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from proxy import store
from proxy.store import location, pg

T = TypeVar("T")
LISTEN_SECONDS = 2.0
"""On PostgreSQL, how long the live list waits for a notification before looking anyway."""


class NoDatabase(FileNotFoundError):
    """The database file does not exist yet."""


def prepare(path: Path | str) -> None:
    """Bring an existing file's schema up to date (adds the viewer's FTS and indexes).

    Read-only viewers cannot migrate; a file the proxy already upgraded is left alone.
    A PostgreSQL database is only checked: its writers migrate it.
    """
    if isinstance(path, str):
        location.check(path, readonly=True)
        return
    if not path.exists():
        raise NoDatabase(f"{path}: no such database (start `hubscope proxy --db {path}` first)")
    ro = store.connect(path, readonly=True)
    try:
        pending = store.migrations.pending(ro)
    finally:
        ro.conn.close()
    if not pending:
        return
    try:
        store.connect(path).conn.close()
    except sqlite3.OperationalError:
        pass  # a read-only file: the viewer still works, search falls back to a scan


class ReaderClosed(RuntimeError):
    """A query arrived after the viewer began shutting down."""


class Reader:
    """Runs query functions in worker threads, each thread with its own read-only connection."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[Database] = []
        self._idle = threading.Condition()
        self._busy = 0
        self._closed = False
        self._listener = pg.Listener(path) if isinstance(path, str) else None

    def db(self) -> Database:
        """This thread's connection (opened on first use)."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            db = location.open_db(self.path, readonly=True)
            self._local.db = db
            with self._idle:
                self._all.append(db)
        return db

    async def changed(self, poll_seconds: float) -> None:
        """Wait for new rows: PostgreSQL announces them (LISTEN); a file is looked at again."""
        if self._listener is None:
            await asyncio.sleep(poll_seconds)
            return
        await asyncio.to_thread(self._listener.wait, LISTEN_SECONDS)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(db, *args)` in a worker thread."""

        def call() -> T:
            with self._idle:
                if self._closed:
                    raise ReaderClosed("the viewer is shutting down")
                self._busy += 1
            try:
                return fn(self.db(), *args)
            finally:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

        return await asyncio.to_thread(call)

    def close(self, timeout: float = 30.0) -> None:
        """Close every connection once no query runs (a cancelled caller's thread may)."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._busy == 0, timeout)
            for db in self._all:
                db.conn.close()
            self._all.clear()
            if self._listener is not None:
                self._listener.close()
