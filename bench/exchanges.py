"""The bench's recorded traffic: any number of exchanges, as the proxy records them.

Each exchange is one of `payloads.py`'s requests (SDK registration POSTs and installation
PUTs) with the hub's answer, one a millisecond. `bench/scale.py` feeds them to the writer
process, `bench/audit_scale.py` to the row builder; a bench of another store imports
`generate_exchanges` the same way (with `bench/` on `sys.path`, as a script in it has):

    for batch in batched(generate_exchanges(1_000_000, session="bench"), 1000):
        ...

Also the SQLite files such a bench fills: their size, and their removal after the run.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from email.utils import formatdate
from pathlib import Path

import payloads

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proxy.exchange import Exchange, Message, new_id  # noqa: E402

UPSTREAM_HOST = "127.0.0.1:9"
"""The hub the exchanges name (nothing listens there: the bench never sends them)."""


def make_exchange(n: int, t0: float, session: str) -> Exchange:
    """Exchange number `n`, started `n` milliseconds after `t0`."""
    method, path, headers, body = payloads.request(n)
    req_headers = (
        ("Host", "127.0.0.1:8080"),
        *headers.items(),
        ("x-ms-client-request-id", str(uuid.UUID(int=n))),
        ("Content-Length", str(len(body))),
        ("Connection", "keep-alive"),
    )
    if method == "POST":
        resp_headers, resp_body = payloads.registration_response(n, UPSTREAM_HOST)
    else:
        resp_headers, resp_body = payloads.installation_response()
    date = formatdate(t0 + n / 1000, usegmt=True)
    response = Message(
        headers=(("Date", date), *resp_headers, ("Content-Length", str(len(resp_body)))),
        body=resp_body,
    )
    return Exchange(
        id=new_id(),  # as the proxy makes them
        session=session,
        started_at=t0 + n / 1000,
        duration_ms=1.25,
        method=method,
        url=f"http://{UPSTREAM_HOST}{path}",
        request=Message(headers=req_headers, body=body),
        status=200,
        reason="OK",
        response=response,
        client=f"127.0.0.1:{40000 + n % 20000}",
    )


def generate_exchanges(
    n: int, *, session: str, start: int = 0, t0: float | None = None
) -> Iterator[Exchange]:
    """Exchanges number `start` to `start + n - 1` in `session`, built one at a time.

    They start one a millisecond from `t0`; by default the last one starts now. Runs of one
    database that share `t0` do not overlap in time (`start` goes on where the last ended).
    """
    if t0 is None:
        t0 = time.time() - (start + n) / 1000
    for number in range(start, start + n):
        yield make_exchange(number, t0, session)


def batched(exchanges: Iterable[Exchange], size: int) -> Iterator[list[Exchange]]:
    """Lists of `size` exchanges (the last one shorter); this generator keeps no reference to
    a list it gave, so a caller that drops one frees it."""
    rest = iter(exchanges)
    while (first := next(rest, None)) is not None:
        yield [first, *itertools.islice(rest, size - 1)]


SQLITE_SUFFIXES = ("", "-wal", "-shm")


def database_bytes(db: Path) -> int:
    """The size of an SQLite database with its write-ahead log and shared-memory file."""
    files = (Path(f"{db}{suffix}") for suffix in SQLITE_SUFFIXES)
    return sum(file.stat().st_size for file in files if file.exists())


def remove_database(db: Path) -> None:
    """Delete an SQLite database with its write-ahead log and shared-memory file."""
    for suffix in SQLITE_SUFFIXES:
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def finish(result: dict[str, object], json_path: Path, db: Path) -> None:
    """Write a run's figures; delete its database unless BENCH_KEEP_DB=1 keeps it to look at."""
    json_path.write_text(json.dumps(result, indent=2))
    if os.environ.get("BENCH_KEEP_DB") != "1":
        remove_database(db)
