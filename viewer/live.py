"""Live updates: one task watches the database for new rows (polled, or on PostgreSQL
announced by LISTEN/NOTIFY); each open list streams them (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from aiohttp import web

from viewer import queries
from viewer.analysis import Badges
from viewer.db import Reader
from viewer.filters import Filters

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 15.0


class Live:
    """Knows the newest rowid in the database and wakes the streams when it grows."""

    def __init__(self, reader: Reader, badges: Badges) -> None:
        self.reader = reader
        self.badges = badges
        self.latest = 0
        self.closed = False
        self._changed = asyncio.Condition()

    async def poll(self) -> None:
        """Poll forever (cancelled at shutdown); a failed poll is logged and retried.

        New rows are judged here as they arrive, so the list's badges are ready.
        """
        while True:
            try:
                latest = await self.reader.run(queries.max_rowid)
            except Exception:
                log.exception("polling the database failed")
                latest = self.latest
            if latest != self.latest:
                previous, self.latest = self.latest, latest
                async with self._changed:
                    self._changed.notify_all()
                try:
                    await self.reader.run(queries.warm, self.badges, previous, latest)
                except Exception:
                    log.exception("judging new rows failed")
            await self.reader.changed(POLL_SECONDS)

    async def close(self) -> None:
        self.closed = True
        async with self._changed:
            self._changed.notify_all()

    async def wait_beyond(self, rowid: int, timeout: float) -> None:
        """Return once a row newer than `rowid` exists, the stream closes, or `timeout` passes."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self.closed or self.latest > rowid), timeout
                )


async def stream(
    request: web.Request,
    live: Live,
    filters: Filters,
    after: int | None,
    badges: Badges,
    render: Callable[[queries.Item], str],
) -> web.StreamResponse:
    """Send `exchange` events (JSON with the row and its rendered HTML) as rows arrive."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    last = after if after is not None else await live.reader.run(queries.max_rowid)
    with contextlib.suppress(ConnectionResetError):  # the browser went away
        await response.write(b": connected\n\n")
        while not live.closed:
            await live.wait_beyond(last, HEARTBEAT_SECONDS)
            if live.closed:
                break
            if live.latest <= last:
                await response.write(b": heartbeat\n\n")
                continue
            items, last = await live.reader.run(queries.rows_after, filters, last, badges)
            for item in items:
                payload = {**item.json(), "html": render(item)}
                data = json.dumps(payload, ensure_ascii=False)
                await response.write(f"event: exchange\nid: {last}\ndata: {data}\n\n".encode())
    return response
