"""The capture journal is part of the store: no secret is ever written to it.

The real proxy on loopback, in front of a hub that answers with secrets, while another
process holds the SQLite write lock (so the writer stores nothing and every exchange stays
in `<db>.capture/`): each secret shape the redactor knows goes through, and the journal's
files are searched for every one of them (raw, in gzip, in UTF-16). Then the lock ends
and the store gets every exchange, its SAS verdict checked before the signature was
redacted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sqlite3
import time
from pathlib import Path

import aiohttp

from proxy import sas, serve
from proxy.recording import journal, records
from tests import leaky
from tests.servers import free_port, spawn_hubscope, start_app, wait_for_port

EXTRA = {
    "utf16_key": "U16" + "x7Kq2mVw9pLr4TzB8nYc3HdF",
    "jwt_payload": "eyJzdWIiOiJhYmMxMjM0NTY3ODkwIn0",
    "json_primary": "JPK" + "a9Sd8Fg7Hj6Kl5Zx4Cv3Bn2M",
    "connection_key": "CSK" + "q1W2e3R4t5Y6u7I8o9P0aSdF",
}
"""Shapes beyond `tests/leaky.py`'s: a UTF-16 body, a JWT, camelCase JSON keys, a
connection string in a query."""
JWT = f"eyJhbGciOiJIUzI1NiJ9.{EXTRA['jwt_payload']}.c2lnbmF0dXJlMTIzNDU2"
RULE, KEY = "DefaultFullSharedAccessSignature", "U2VjcmV0S2V5Rm9yVGhlSm91cm5hbFRlc3QxMjM0NQ=="


def extra_requests(base: str) -> list[dict[str, object]]:
    signed = sas.make_token("http://127.0.0.1/myhub", RULE, KEY)
    utf16 = f"<x>SharedAccessKey={EXTRA['utf16_key']};</x>".encode("utf-16")
    return [
        {
            "method": "PUT",
            "url": f"{base}/myhub/installations/i2?api-version=2020-06",
            "headers": {
                "Authorization": signed,
                "Content-Type": "application/json",
                "X-Debug-Token": JWT,
            },
            "data": json.dumps(
                {
                    "installationId": "i2",
                    "platform": "apns",
                    "pushChannel": "ab",
                    "primaryKey": EXTRA["json_primary"],
                }
            ).encode(),
        },  # fmt: skip
        {
            "method": "POST",
            "url": f"{base}/myhub/registrations?api-version=2020-06",
            "headers": {
                "Authorization": signed,
                "Content-Type": "application/atom+xml;type=entry;charset=utf-16",
            },
            "data": utf16,
        },  # fmt: skip
        {
            "method": "GET",
            "url": f"{base}/myhub/registrations?api-version=2020-06&cs=Endpoint%3Dsb%3A%2F%2Fns"
            f"%2F%3BSharedAccessKeyName%3DFull%3BSharedAccessKey%3D{EXTRA['connection_key']}",
            "headers": {"Authorization": signed},
        },
    ]


def journal_leaks(directory: Path) -> dict[str, list[str]]:
    """Every secret found in the journal's files, by file: the raw bytes (gzip streams
    inflated), UTF-16 spellings, and each record's bodies decoded from the journal."""
    values = {**leaky.SECRETS, **EXTRA}
    found: dict[str, list[str]] = {}
    for path in sorted(directory.iterdir()):
        data = path.read_bytes()
        names = set(leaky.leaks(data))
        names |= {
            name
            for name, value in values.items()
            if value.encode() in data
            or value.encode("utf-16-le") in data
            or base64.b64encode(value.encode())[:16] in data
        }
        if names:
            found[path.name] = sorted(names)
    return found


def journal_records(directory: Path) -> list[records.Captured]:
    out = []
    for run in journal.runs(directory):
        for segment in run.segments:
            chunk = journal.read_frames(directory / segment, 0, max_bytes=1 << 30, max_frames=10**6)
            out += [records.decode(f.body) for f in chunk.frames if f.kind == journal.EXCHANGE]
    return out


async def test_no_secret_reaches_the_journal_while_the_store_is_locked(tmp_path: Path) -> None:
    hub = await start_app(leaky.leaky_hub(delay=30))
    db, port = tmp_path / "j.db", free_port()
    log = tmp_path / "proxy.log"
    cs = f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName={RULE};SharedAccessKey={KEY}"
    with log.open("wb") as sink:
        proc = await spawn_hubscope(
            "proxy", "--upstream", f"http://127.0.0.1:{hub.port}", "--listen",
            f"127.0.0.1:{port}", "--db", str(db), "--session", "locked",
            "--connection-string", cs, stdout=sink,
        )  # fmt: skip
    lock = None
    try:
        await wait_for_port(port, proc)
        lock = sqlite3.connect(db, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the writer can store nothing until this ends
        base = f"http://127.0.0.1:{port}"
        sent = [*leaky.requests(base), *extra_requests(base)]
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            for request in sent:
                async with client.request(**request) as resp:  # type: ignore[arg-type]
                    assert resp.status < 300, await resp.text()
        directory = journal.journal_dir(db)
        captured = journal_records(directory)
        assert len(captured) == len(sent), "every answered exchange is in the journal"
        assert all(item.redacted for item in captured)
        assert journal_leaks(directory) == {}
        for item in captured:  # and each body, decoded as the writer reads it, is clean
            for message in (item.exchange.request, item.exchange.response):
                assert message is not None
                assert leaky.leaks(message.body) == []
        auth = [dict(item.exchange.request.headers).get("Authorization", "") for item in captured]
        assert all("sig=[redacted]" in value or "[redacted]" in value for value in auth)
        assert any(item.exchange.sas_verdict == "valid" for item in captured), (
            "the signature was checked before it was redacted"
        )
        assert count(db) == 0, "the lock held: nothing was stored yet"
        lock.execute("ROLLBACK")
        lock.close()
        lock = None
        deadline = time.monotonic() + 60
        while count(db) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert count(db) == len(sent)
        verdicts = sqlite3.connect(db).execute(
            "select count(*) from exchanges where sas_verdict = 'valid'"
        )
        assert verdicts.fetchone()[0] == 3
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        assert not journal.journal_dir(db).exists(), "stored in full, the journal is gone"
        assert leaky.leaks_in_database(db) == {}
    finally:
        if lock is not None:
            lock.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await serve.stop([hub])
    assert leaky.leaks(log.read_bytes()) == []


def count(db: Path) -> int:
    conn = sqlite3.connect(db, timeout=0.2)
    try:
        return int(conn.execute("select count(*) from exchanges").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
