"""Every answered exchange reaches the store, whatever the client sends or the store does.

The real proxy on loopback, in front of a fake hub: poison bodies, headers and URLs; a
write lock held for 35 s; the database deleted and replaced under it; the proxy and its
writer killed with SIGKILL; uploads of 64 MiB, eight at once.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from proxy import serve, store
from tests.conftest import Upstream
from tests.servers import free_port, spawn_hubscope, start_app, wait_for_port


@dataclass
class Proxy:
    proc: asyncio.subprocess.Process
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def writer_pids(self) -> list[int]:
        """The writer process (not multiprocessing's resource tracker)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        pids = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return [pid for pid in pids if b"spawn_main" in _cmdline(pid)]

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.proc.wait(), 90)


@asynccontextmanager
async def proxy(upstream: str, db: Path, *args: str, name: str = "proxy") -> AsyncIterator[Proxy]:
    port = free_port()
    log = db.parent / f"{name}.log"
    with log.open("ab") as sink:
        proc = await spawn_hubscope(
            "proxy", "--upstream", upstream, "--listen", f"127.0.0.1:{port}",
            "--db", str(db), "--session", name, *args, stdout=sink,
        )  # fmt: skip
    running = Proxy(proc, port, log)
    try:
        await wait_for_port(port, proc)
        yield running
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def count(db: Path, where: str = "1") -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"select count(*) from exchanges where {where}").fetchone()[0])
    finally:
        conn.close()


async def wait_for_rows(db: Path, expected: int, where: str = "1", seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    seen = 0
    while time.monotonic() < deadline:
        try:
            seen = count(db, where)
        except sqlite3.OperationalError:
            seen = 0
        if seen >= expected:
            return seen
        await asyncio.sleep(0.1)
    return seen


async def put_many(url: str, prefix: str, n: int, *, concurrency: int = 8) -> list[int]:
    """PUT n installations; the ids (numbers) answered 200."""
    answered: list[int] = []
    async with aiohttp.ClientSession() as client:

        async def worker(offset: int) -> None:
            for i in range(offset, n, concurrency):
                body = json.dumps({"installationId": f"{prefix}{i}", "platform": "apns"})
                async with client.put(f"{url}/hub/installations/{prefix}{i}", data=body) as resp:
                    await resp.read()
                    if resp.status == 200:
                        answered.append(i)

        await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return answered


async def raw_request(port: int, head_and_body: bytes) -> int:
    """Send bytes no HTTP client library would, on their own connection; the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head, _, body = head_and_body.partition(b"\r\n\r\n")
    writer.write(head + b"\r\nHost: hub\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    await reader.read()
    writer.close()
    return status


POISON = {
    "surrogate-tag": b'{"installationId":"p1","platform":"apns","tags":["\\ud800"]}',
    "surrogate-id": b'{"installationId":"\\udfff\\ud800x","platform":"apns","pushChannel":"ab"}',
    "surrogate-template": (
        b'{"installationId":"p3","platform":"apns","pushChannel":"ab",'
        b'"templates":{"\\ud83d":{"body":"{\\"aps\\":{}}","tags":["\\udc00"]}}}'
    ),
    "nul-everywhere": b'{"installationId":"p4\\u0000","platform":"apns","pushChannel":"a\\u0000b"}',
    "absurd-numbers": (
        b'{"installationId":"p5","platform":"apns","pushChannel":"ab","expirationTime":1e999,'
        b'"x":' + b"9" * 5000 + b',"y":-1e-999999}'
    ),
    "deep": b'{"installationId":"p6","tags":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "invalid-utf8": b'{"installationId":"p7\xff\xfe","platform":"apns","pushChannel":"\xc3\x28"}',
}  # fmt: skip


async def test_poison_is_stored_and_the_proxy_keeps_serving(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "poison.db"
    async with proxy(upstream.url, db) as running:
        statuses: dict[str, int] = {}
        for name, body in POISON.items():
            statuses[name] = await raw_request(
                running.port,
                f"PUT /hub/installations/{name}?api-version=2020-06 HTTP/1.1\r\n".encode()
                + b"Content-Type: application/json\r\nX-Weird: caf\xe9 \xff\x80\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body,
            )
        # A URL with escaped bytes that are not UTF-8 and an escaped lone surrogate.
        # (aiohttp itself answers 400 to raw bytes ≥ 0x80 in the URL and to control
        # characters in headers: such requests never reach the hub, nor the journal.)
        raw_status = await raw_request(
            running.port, b"GET /hub/registrations/%FF%FE%ED%A0%80?x=%ud800 HTTP/1.1\r\n\r\n"
        )
        after = await put_many(running.url, "after", 20)
        stored = await wait_for_rows(db, len(POISON) + 1 + 20)
        assert stored == len(POISON) + 1 + 20, running.output()
        assert await running.stop() == 0, running.output()
    assert set(statuses.values()) == {200} and raw_status == 200, (statuses, raw_status)
    assert len(after) == 20, "the proxy kept serving after the poison"
    conn = sqlite3.connect(db)
    rows = {
        path.rsplit("/", 1)[1]: (body, notes)
        for path, body, notes in conn.execute(
            "select path, request_body, decode_notes from exchanges where path like '%install%'"
        )
    }
    for name, body in POISON.items():
        stored, notes = rows[name]
        assert stored == body, f"{name}: the raw body is stored unchanged"
    tags = [
        t
        for (t,) in conn.execute(
            "select tag from device_tags where exchange_id in "
            "(select id from exchanges where path like '%surrogate-tag')"
        )
    ]
    assert tags == ["\ufffd", "\ufffd"], tags  # the request's device and the echo's
    assert "U+FFFD" in rows["surrogate-tag"][1]
    assert "U+FFFD" in rows["surrogate-template"][1]
    url = conn.execute(
        "select url from exchanges where path like '/hub/registrations/%'"
    ).fetchone()[0]
    assert "/hub/registrations/%FF%FE%ED%A0%80" in url, url
    headers = conn.execute(
        "select request_headers from exchanges where path like '%nul-everywhere'"
    ).fetchone()[0]
    assert ["X-Weird", "caf\xe9 \xff\x80"] in json.loads(headers)
    assert "not recorded" not in running.output() and "stopped" not in running.output()


async def test_a_write_lock_held_35_seconds_costs_only_lag(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "locked.db"
    async with proxy(upstream.url, db) as running:
        assert len(await put_many(running.url, "before", 5)) == 5
        assert await wait_for_rows(db, 5) == 5
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("insert into sessions (name) values ('holder')")
        locked_at = time.monotonic()
        answered = []
        for round_ in range(6):  # 30 requests spread over the lock
            answered += await put_many(running.url, f"locked{round_}-", 5, concurrency=5)
            await asyncio.sleep(5)
        held = time.monotonic() - locked_at
        while time.monotonic() - locked_at < 35:
            await asyncio.sleep(0.2)
        holder.execute("ROLLBACK")
        holder.close()
        assert await wait_for_rows(db, 35) == 35
        code = await running.stop()
    output = running.output()
    assert len(answered) == 30 and held < 35, "every request was answered while locked"
    assert code == 0, output
    waits = [line for line in output.splitlines() if "busy" in line and "waiting" in line]
    assert len(waits) >= 4, output
    assert "MB of the journal not yet stored" in waits[-1]
    assert count(db) == 35
    assert not (tmp_path / "locked.db.capture").exists(), "the stored journal is cleaned up"


async def test_deleted_then_replaced_database_loses_nothing(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "watched.db"
    other = tmp_path / "other.db"
    prepared = store.connect(other)
    store.ensure_session(prepared, "someone-else", kind="proxy")
    prepared.conn.close()
    async with proxy(upstream.url, db) as running:
        assert len(await put_many(running.url, "first", 10)) == 10
        assert await wait_for_rows(db, 10) == 10
        db.unlink()
        await asyncio.sleep(1.5)  # the writer notices while idle, too
        assert len(await put_many(running.url, "second", 10)) == 10
        assert await wait_for_rows(db, 10, "path like '%second%'") == 10
        os.rename(other, db)
        # Wait before reading it: until the writer lets go of the old file (within a
        # second), SQLite would show a reader the old file's pages from the old -wal.
        await asyncio.sleep(1.5)
        assert len(await put_many(running.url, "third", 10)) == 10
        assert await wait_for_rows(db, 10, "path like '%third%'") == 10
        code = await running.stop()
    output = running.output()
    assert code == 0, output
    assert "was deleted while recording" in output, output
    assert "was replaced by another file" in output, output
    conn = sqlite3.connect(db)
    sessions = {name for (name,) in conn.execute("select name from sessions")}
    assert sessions == {"someone-else", "proxy"}, "the replacement is written, not replaced"
    assert count(db, "path like '%second%'") == 0, "the recreated file went with the rename"
    assert count(db, "path like '%third%'") == 10
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"


async def test_sigkill_of_proxy_and_writer_loses_nothing_answered(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "killed.db"
    async with proxy(upstream.url, db, name="first") as running:
        writers = running.writer_pids()
        assert len(writers) == 1
        for pid in writers:  # the writer dies first, so nothing reaches the store by it
            os.kill(pid, signal.SIGSTOP)
        answered = await put_many(running.url, "k", 1000)
        running.proc.send_signal(signal.SIGKILL)
        for pid in writers:
            os.kill(pid, signal.SIGKILL)
        await running.proc.wait()
    assert len(answered) == 1000
    stored_before = count(db)
    async with proxy(upstream.url, db, name="second") as restarted:
        assert await wait_for_rows(db, 1000) == 1000
        assert await restarted.stop() == 0
    conn = sqlite3.connect(db)
    paths = {p for (p,) in conn.execute("select path from exchanges where session = 'first'")}
    assert paths == {f"/hub/installations/k{i}" for i in range(1000)}
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert "left in the journal by an earlier run" in restarted.output()
    print(f"\nSIGKILL: 1000 answered, {stored_before} stored before the restart, 1000 after")


async def test_a_killed_writer_is_restarted_and_loses_nothing(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "writer.db"
    async with proxy(upstream.url, db) as running:
        first = await put_many(running.url, "a", 200)
        (writer,) = running.writer_pids()
        os.kill(writer, signal.SIGKILL)
        second = await put_many(running.url, "b", 200)
        assert await wait_for_rows(db, 400) == 400
        assert running.writer_pids() and running.writer_pids() != [writer]
        assert await running.stop() == 0
    assert len(first) == len(second) == 200
    assert "the writer process died" in running.output()


def _sink_app(seen: list[int]) -> web.Application:
    """A hub that reads whatever it is sent and answers like the real one: 413, small."""

    async def handle(request: web.Request) -> web.Response:
        size = 0
        async for chunk in request.content.iter_chunked(1 << 20):
            size += len(chunk)
        seen.append(size)
        return web.Response(status=413, text="<Error><Code>413</Code></Error>")

    app = web.Application(client_max_size=1 << 40)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


RSS_BOUND_MB = 450
"""Eight 64 MiB uploads at once through a proxy holding at most 128 MiB of bodies in
flight (its default): the proxy peaks near 390 MB here (60 MB idle + two bodies, each
twice while it is read); it held every upload at once before (1.3 GiB)."""


async def test_big_uploads_stay_in_bounds_and_too_big_ones_get_413(tmp_path: Path) -> None:
    seen: list[int] = []
    hub = await start_app(_sink_app(seen))
    db = tmp_path / "big.db"
    body = os.urandom(1 << 16) * 1024  # 64 MiB
    try:
        async with proxy(f"http://127.0.0.1:{hub.port}", db) as running:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as client:

                async def upload(i: int, data: bytes) -> int:
                    url = f"{running.url}/hub/messages/{i}"
                    async with client.post(url, data=io.BytesIO(data)) as resp:
                        await resp.read()
                        return resp.status

                statuses = await asyncio.gather(*(upload(i, body) for i in range(8)))
                too_big = await upload(99, body + b"!")
            peak_mb = _peak_rss_mb(running.proc.pid)
            assert await wait_for_rows(db, 9) == 9
            assert await running.stop() == 0
    finally:
        await serve.stop([hub])
    assert statuses == [413] * 8 and seen == [len(body)] * 8, "all forwarded, whole"
    assert too_big == 413 and len(seen) == 8, "the one over --max-body was not forwarded"
    assert peak_mb < RSS_BOUND_MB, f"proxy peak RSS {peak_mb:.0f} MB"
    conn = sqlite3.connect(db)
    size, stored, truncated = conn.execute(
        "select request_body_size, length(request_body), request_truncated from exchanges "
        "where path = '/hub/messages/0'"
    ).fetchone()
    assert (size, stored, truncated) == (len(body), 1 << 20, 1), "capped before the writer"
    refused = conn.execute(
        "select proxy_status, error from exchanges where path = '/hub/messages/99'"
    ).fetchone()
    assert refused[0] == 413 and "larger than the proxy's maximum" in refused[1], refused
    print(f"\n8 × 64 MiB uploads at once: proxy peak RSS {peak_mb:.0f} MB (bound {RSS_BOUND_MB})")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")
