"""The upstream pool is bounded and failure floods log little (issue 17 row 9).

On main the pool was unbounded (`limit=0`): 600 requests to a slow upstream opened 600
connections, and every failed request wrote a log line.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from tests.capture.raw_upstream import raw_upstream
from tests.servers import free_port, start_proxy


async def test_a_full_pool_answers_503_and_records_it(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    async with raw_upstream(delay=1.5) as upstream:
        proxy = await start_proxy(upstream.url, db, max_upstream=2, upstream_wait=0.2)
        try:
            async with aiohttp.ClientSession() as client:

                async def one(i: int) -> tuple[int, str]:
                    url = f"http://127.0.0.1:{proxy.port}/hub/installations/{i}"
                    async with client.put(url, data=b"{}") as resp:
                        return resp.status, await resp.text()

                answers = await asyncio.gather(*(one(i) for i in range(8)))
        finally:
            await serve.stop([proxy])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 200, 503, 503, 503, 503, 503, 503], answers
    assert upstream.most_in_flight <= 2
    assert len(upstream.seen) == 2
    busy = [text for status, text in answers if status == 503]
    assert all("all 2 upstream connections" in text and "--max-upstream" in text for text in busy)
    recorded = list(store.connect(db, readonly=True).query("select * from exchanges"))
    assert sorted(r["proxy_status"] or r["status"] for r in recorded) == statuses
    assert all("--max-upstream" in r["error"] for r in recorded if r["proxy_status"] == 503)


async def test_a_request_that_waits_briefly_gets_a_connection() -> None:
    async with raw_upstream(delay=0.3) as upstream:
        proxy = await start_proxy(upstream.url, None, max_upstream=1, upstream_wait=10)
        try:
            async with aiohttp.ClientSession() as client:

                async def one(i: int) -> int:
                    url = f"http://127.0.0.1:{proxy.port}/hub/installations/{i}"
                    async with client.put(url, data=b"{}") as resp:
                        return resp.status

                statuses = await asyncio.gather(*(one(i) for i in range(4)))
        finally:
            await serve.stop([proxy])
    assert statuses == [200] * 4
    assert upstream.most_in_flight == 1


async def test_a_flood_of_failures_writes_a_bounded_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """400 requests to a dead upstream, each a 502: at most one burst of log lines."""
    dead = f"http://127.0.0.1:{free_port()}"
    proxy = await start_proxy(dead, None)
    try:
        with caplog.at_level(logging.INFO):
            connector = aiohttp.TCPConnector(limit=20)
            async with aiohttp.ClientSession(connector=connector) as client:

                async def one(i: int) -> int:
                    url = f"http://127.0.0.1:{proxy.port}/hub/registrations?sig={i}"
                    async with client.get(url) as resp:
                        return resp.status

                statuses = await asyncio.gather(*(one(i) for i in range(400)))
    finally:
        await serve.stop([proxy])
    assert statuses == [502] * 400
    failures = [r for r in caplog.records if "→ 502" in r.getMessage()]
    assert 1 <= len(failures) <= 11, len(failures)
