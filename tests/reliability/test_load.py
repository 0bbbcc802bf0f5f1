"""20,000 requests at 32 concurrent through the proxy to the local hub: all answered, all
recorded, memory flat. Figures are printed; timing targets belong to `make bench`."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import aiohttp

from proxy import sas, store
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from tests.servers import free_port, spawn_hubscope, wait_for_port

TOTAL, CONCURRENCY = 20_000, 32


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def test_twenty_thousand_requests_all_answered_all_recorded_memory_flat(
    tmp_path: Path,
) -> None:
    hub = await start_hub(HubSettings(hubs=frozenset({"loadhub"})))
    db, port = tmp_path / "load.db", free_port()
    proc = await spawn_hubscope(
        "proxy",
        "--upstream",
        hub.url,
        "--listen",
        f"127.0.0.1:{port}",
        "--db",
        str(db),
        "--session",
        "load",
        stdout=asyncio.subprocess.DEVNULL,
    )
    key = hub.settings.keys[FULL_RULE]
    token = sas.make_token(f"http://127.0.0.1:{port}/loadhub", FULL_RULE, key, ttl=3600)
    statuses: dict[int, int] = {}
    samples: list[tuple[int, float]] = []
    started = time.monotonic()
    try:
        await wait_for_port(port, proc)
        counter = iter(range(TOTAL))
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY)
        ) as client:

            async def worker() -> None:
                for i in counter:
                    body = json.dumps(
                        {
                            "installationId": f"i{i % 500}",
                            "platform": "apns",
                            "pushChannel": f"{i:064x}",
                            "tags": [f"user:{i % 97}"],
                        }
                    )
                    url = f"http://127.0.0.1:{port}/loadhub/installations/i{i % 500}"
                    async with client.put(
                        url + "?api-version=2020-06",
                        data=body,
                        headers={"Authorization": token, "Content-Type": "application/json"},
                    ) as resp:
                        await resp.read()
                        statuses[resp.status] = statuses.get(resp.status, 0) + 1
                    if i % 5000 == 4999:
                        samples.append((i + 1, rss_mb(proc.pid)))

            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.monotonic() - started
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await hub.stop()
    print(
        f"\nload: {TOTAL} requests in {elapsed:.1f}s ({TOTAL / elapsed:.0f}/s), statuses {statuses}"
    )
    print("proxy RSS (requests, MB): " + ", ".join(f"({n}, {mb:.1f})" for n, mb in samples))
    assert statuses == {200: TOTAL}
    count = store.connect(db, readonly=True).execute("select count(*) from exchanges").fetchone()[0]
    assert count == TOTAL
    growth = samples[-1][1] - samples[0][1]
    assert growth < 40, (
        f"proxy RSS grew {growth:.1f} MB between {samples[0][0]} and {TOTAL} requests"
    )
