"""New rows, announced: PostgreSQL notifies (LISTEN/NOTIFY) instead of readers polling.

A statement trigger on `exchanges` (the m006 twin) sends `hubscope_exchanges` whenever
rows are inserted, by any writer: proxies, push, replay, import. `Listener.wait` returns
as soon as one arrives, so the viewer's live list follows a busy store without polling
it every half second; it still looks every few seconds in case a notification was missed
(a reconnect after the server restarted).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg

from proxy.store.pg.schema import close_quietly, open_connection

log = logging.getLogger(__name__)
CHANNEL = "hubscope_exchanges"


class Listener:
    """One connection that listens on CHANNEL; opened on first use, reopened after a loss."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> bool:
        """Whether rows were inserted, waiting at most `timeout` seconds for it."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = open_connection(self.url, readonly=True)
                self._conn.execute(f"listen {CHANNEL}")
                return True  # rows may have come while nobody listened
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                return True
            return False
        except psycopg.Error as error:
            log.debug("listening for new rows failed (%s); polling instead", error)
            self.close()
            time.sleep(timeout)
            return True

    def close(self) -> None:
        close_quietly(self._conn)
        self._conn = None
