"""`hubscope proxy --workers N`: N processes answer on one port and record into one session."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from click.testing import CliRunner

from proxy import store
from proxy.cli import cli
from proxy.cli.workers import worker_argv
from tests.conftest import Upstream
from tests.servers import free_port, spawn_hubscope, wait_for_port


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def listeners(port: int) -> int:
    """How many sockets listen on 127.0.0.1:port (SO_REUSEPORT: one per worker)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    local = f"0100007F:{port:04X}"
    return sum(1 for line in lines if line.split()[1] == local and line.split()[3] == "0A")


async def wait_for_listeners(port: int, count: int) -> None:
    for _ in range(600):  # a worker imports and starts in ~1 s; 60 s under load
        if listeners(port) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{listeners(port)} of {count} workers listen on {port}")


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


async def test_two_workers_share_the_port_and_the_session(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "w.db"
    port = free_port()
    proc = await spawn_hubscope(
        "proxy", "--upstream", upstream.url, "--listen", f"127.0.0.1:{port}",
        "--db", str(db), "--workers", "2", "--session", "two",
    )  # fmt: skip
    try:
        await wait_for_port(port, proc)
        workers = [c for c in children(proc.pid) if "--workers 1" in cmdline(c)]
        assert len(workers) == 2, [cmdline(c) for c in children(proc.pid)]
        # Both must listen before the stop: a worker still starting dies of SIGTERM quietly.
        await wait_for_listeners(port, 2)
        statuses = []
        for i in range(40):  # a new connection each time: the kernel spreads them
            connector = aiohttp.TCPConnector(force_close=True)
            async with aiohttp.ClientSession(connector=connector) as client:
                url = f"http://127.0.0.1:{port}/hub/installations/{i}"
                async with client.put(url, data=b"{}") as resp:
                    statuses.append(resp.status)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert statuses == [200] * 40
    assert proc.returncode == 0, out.decode()
    assert out.decode().count("hubscope proxy listening on") == 1, "one banner, from worker 0"
    rows = list(store.connect(db, readonly=True).query("select session from exchanges"))
    assert len(rows) == 40 and {r["session"] for r in rows} == {"two"}


def test_a_worker_runs_the_same_command_with_one_worker_and_a_fixed_session() -> None:
    argv = worker_argv(["proxy", "--upstream", "http://x", "--workers", "4"], "s1")
    assert argv[-6:] == ["--workers", "4", "--workers", "1", "--session", "s1"][-6:]
    assert argv[1:3] == ["-m", "proxy"]


def test_workers_need_a_fixed_port() -> None:
    result = CliRunner().invoke(
        cli, ["proxy", "--upstream", "http://x", "--listen", "127.0.0.1:0", "--workers", "2"]
    )
    assert result.exit_code != 0
    assert "--workers needs a fixed port" in result.output


async def test_stopping_workers_that_are_still_starting_is_an_orderly_stop(
    upstream: Upstream, tmp_path: Path
) -> None:
    """SIGTERM before a worker has installed its handler kills it (-15): nothing was answered."""
    proc = await spawn_hubscope(
        "proxy", "--upstream", upstream.url, "--listen", f"127.0.0.1:{free_port()}",
        "--db", str(tmp_path / "w.db"), "--workers", "2",
    )  # fmt: skip
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert b"2 worker processes" in line, line  # the parent's line, before workers import
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, (line + out).decode()
