"""A PostgreSQL database as a target the journal is followed into, by many proxies at once.

Each proxy's writer has one connection. Inserts are idempotent by exchange id, so N
writers never conflict and a batch written again after a lost connection adds nothing;
the journal positions commit in the same transaction as the rows. A server that is
down, restarting or refusing connections is `StoreBusy`: the follower waits, the journal
keeps every exchange, and the connection is opened again once the server answers. Every
exchange row says which proxy instance stored it (`instance`: host/pid/listen address).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from proxy.recording.prepare import PreparePool
from proxy.recording.records import SessionStart
from proxy.recording.target import StoreBusy, StoreFatal, StoreFull, Written
from proxy.store import Rows, pg
from proxy.store.builder import RowBuilder
from proxy.store.rows import Captured

log = logging.getLogger(__name__)
T = TypeVar("T")


class PgTarget:
    """One write connection to a hubscope database on PostgreSQL."""

    def __init__(
        self, url: str, *, keys: dict[str, str] | None = None, instance: str | None = None
    ) -> None:
        self.url = url
        self.name = pg.display(url)
        self.instance = instance
        self.prepare = RowBuilder(dict(keys or {}), instance)
        self._conn: psycopg.Connection[Any] | None = None
        self._sessions: list[SessionStart] = []

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._open()
        assert self._conn is not None
        return self._conn

    def positions(self) -> dict[str, int]:
        return self._guard(lambda: pg.write.journal_positions(self.conn))

    def ensure_session(self, session: SessionStart) -> None:
        if session not in self._sessions:
            self._sessions.append(session)
        self._guard(lambda: self._ensure(session))

    def write(self, batch: Sequence[Captured], prepared: Any, progress: dict[str, int]) -> Written:
        def fallback(index: int, why: str) -> Rows:
            return self.prepare.fallback(batch[index], why)

        result = self._guard(
            lambda: pg.write.write_batch(self.conn, prepared, progress=progress, fallback=fallback)
        )
        for exchange_id, why in result.reduced:
            log.error("exchange %s stored without its decoded rows: %s", exchange_id, why)
        return Written(stored=result.stored, rejected=result.rejected)

    def judge_some(self, pool: PreparePool) -> bool:
        """Nothing to judge later: a backlog is judged as it is stored here."""
        return False

    def shared_file(self) -> None:
        """A server's rows are written by the writer alone: one connection, one transaction."""
        return None

    def forget(self, segments: list[str]) -> None:
        self._guard(lambda: pg.write.forget_segments(self.conn, segments))

    def check(self) -> str | None:
        """A server is not replaced under a path: a lost connection shows as StoreBusy instead."""
        return None

    def close(self) -> None:
        pg.close_quietly(self._conn)
        self._conn = None

    def _open(self) -> None:
        db = pg.connect(self.url)  # migrates: the first writer on a new database creates it
        self._conn = db.conn.raw
        for session in self._sessions:
            self._ensure(session)

    def _ensure(self, session: SessionStart) -> None:
        row = {"name": session.name, "kind": session.kind, "upstream": session.upstream}
        pg.write.ensure_session(self.conn, {**row, "replay_of": session.replay_of})

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except (StoreBusy, StoreFull, StoreFatal):
            raise
        except Exception as error:
            kind = pg.write.classify(error)
            message = pg.scrub(f"{type(error).__name__}: {error}", self.url)
            if kind == "busy":
                self.close()  # opened again on the next try
                raise StoreBusy(message) from None
            if kind == "full":
                raise StoreFull(f"cannot write to {self.name}: {message} (disk full)") from None
            raise StoreFatal(f"cannot write to {self.name}: {message}") from None
