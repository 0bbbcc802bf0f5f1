from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from proxy import serve
from tests.corpus import CORPUS
from tests.servers import start_app

pytest_plugins = [
    "tests.hubclient",
    "tests.postgres",
    "tests.replaying",
    "tests.targets.recorder",
]
"""Fixtures shared across folders: `hub` (a running stand-in hub) and `target` (a shimmed one)."""

__all__ = ["CORPUS"]
"""`CORPUS` (the real-traffic test data in tests/data/) is re-exported for older imports."""


def pytest_configure(config: pytest.Config) -> None:
    # The suite's workers keep both cores busy: a writer at a lower priority would only be
    # slower to store what the tests wait for, not different (tests/recording/
    # test_writer_process.py runs it lowered).
    os.environ.setdefault("HUBSCOPE_WRITER_NICE", "0")
    config.addinivalue_line(
        "markers", "missing(what): needs something CI must have; fails (see tests/outside.py)"
    )


LONGEST_FIRST = (
    "tests/reliability/test_load.py::",
    "tests/reliability/test_secrets.py::test_every_shape",
    "tests/reliability/test_ingest.py::test_a_write_lock_held_35_seconds",
    "tests/recording/test_pg_target.py::test_a_server_away_and_back",
    "tests/recording/test_pg_target.py::test_four_proxies",
    "tests/reliability/test_crash_safety.py::test_two_proxies",
)
"""Tests that take 20 s or more, longest first: started before the rest, so that under
pytest-xdist none of them begins last and keeps one worker busy after the others are done
(test_docs.py's pipx test is not moved: it would set up the module's `make run` again)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        starts = [i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)]
        return starts[0] if starts else len(LONGEST_FIRST)

    items.sort(key=rank)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `missing` fails at once: under CI=true nothing is skipped for lack of it."""
    marker = item.get_closest_marker("missing")
    if marker is not None:
        pytest.fail(f"{marker.args[0]} is not available, and CI=true runs every test")


@dataclass
class Seen:
    """What the fake upstream received, raw."""

    method: str
    raw_path: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Upstream:
    url: str
    port: int
    seen: list[Seen] = field(default_factory=list)


GZIPPED = gzip.compress(b'{"hello": "world"}' * 50)
BINARY = bytes(range(256)) * 4


def upstream_app(seen: list[Seen]) -> web.Application:
    """A fake hub that records what it got and answers with awkward but legal responses."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        seen.append(
            Seen(
                request.method,
                request.raw_path,
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers],
                body,
            )
        )
        path = request.path
        if path.endswith("/gzip"):
            return web.Response(
                body=GZIPPED,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        if path.endswith("/binary"):
            return web.Response(body=BINARY, content_type="application/octet-stream")
        if path.endswith("/slow"):
            await asyncio.sleep(5)
        if path.endswith("/headers"):
            resp = web.Response(status=201, reason="Created Indeed", body=b"")
            resp.headers.add("X-Multi", "one")
            resp.headers.add("X-Multi", "two")
            resp.headers.add("Set-Cookie", "a=1")
            resp.headers.add("Set-Cookie", "b=2")
            resp.headers["Location"] = "https://ns.servicebus.windows.net/hub/registrationids/1-2-3"
            resp.headers["Content-Location"] = "https://ns/hub/registrations/1?api-version=2020-06"
            resp.headers["ETag"] = 'W/"1"'
            return resp
        if path.endswith("/big"):
            return web.Response(body=b"x" * 3_000_000, content_type="application/octet-stream")
        return web.Response(body=body, headers={"Content-Type": "application/atom+xml; type=entry"})

    app = web.Application(client_max_size=64 << 20)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


@pytest.fixture(autouse=True)
def private_hubscope_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test writes a CA into the real ~/.config/hubscope (subprocesses inherit it too)."""
    monkeypatch.setenv("HUBSCOPE_HOME", str(tmp_path_factory.mktemp("hubscope-home")))


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    seen: list[Seen] = []
    running = await start_app(upstream_app(seen))
    try:
        yield Upstream(url=f"http://127.0.0.1:{running.port}", port=running.port, seen=seen)
    finally:
        await serve.stop([running])
