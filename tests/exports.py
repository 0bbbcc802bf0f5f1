"""A session captured through the real proxy from a live stand-in hub; export helpers.

The `capture` fixture (import `capture_fixture` into a test module to use it) records the replay
tests' client — registrations in every `sr` shape, installations, a PATCH, deletes —
through the proxy into a fresh database, and keeps the hub running for curl and resend.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from proxy import serve, store
from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.localhub.settings import generate_key
from tests.replaying import invoke, replay_rows, run_client
from tests.servers import start_proxy

SESSION = "orig"
COMPARED = (
    "method",
    "url",
    "request_headers",
    "request_body",
    "status",
    "reason",
    "response_headers",
    "response_body",
)
"""What an export → import round trip must keep byte for byte."""

rows = replay_rows
"""A session's rows in time order."""


@dataclass
class Capture:
    db: Path | str
    session: str
    hub: RunningHub
    statuses: list[int]

    @property
    def connection_string(self) -> str:
        return self.hub.connection_string(FULL_RULE)


async def _capture(db: Path | str) -> AsyncIterator[Capture]:
    key = generate_key()
    hub = await start_hub(
        HubSettings.build(
            connection_string=f"Endpoint=sb://x/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}"
        )
    )
    try:
        proxy = await start_proxy(hub.url, db, session=SESSION)  # type: ignore[arg-type]
        try:
            statuses = await run_client(f"http://127.0.0.1:{proxy.port}", FULL_RULE, key)
        finally:
            await serve.stop([proxy])
        yield Capture(db=db, session=SESSION, hub=hub, statuses=statuses)
    finally:
        await hub.stop()


@pytest.fixture(name="capture")
async def capture_fixture(tmp_path: Path) -> AsyncIterator[Capture]:
    async for captured in _capture(tmp_path / "hubscope.db"):
        yield captured


@pytest.fixture(name="capture_both")
async def capture_both_fixture(new_store: Callable[[str], Path | str]) -> AsyncIterator[Capture]:
    """`capture`, once into SQLite and once into PostgreSQL (`backend`, tests/postgres.py)."""
    async for captured in _capture(new_store("hubscope")):
        yield captured


def sessions(db: Path) -> list[dict[str, Any]]:
    conn = store.connect(db, readonly=True)
    try:
        return list(conn.query("select * from sessions order by started_at, name"))
    finally:
        conn.conn.close()


def differences(original: list[dict[str, Any]], copy: list[dict[str, Any]]) -> list[str]:
    """`position: column` for every compared column that is not byte-identical."""
    assert len(original) == len(copy)
    return [
        f"{i}: {column}"
        for i, (a, b) in enumerate(zip(original, copy, strict=True))
        for column in COMPARED
        if a[column] != b[column]
    ]


async def export(db: Path | str, *args: str) -> Result:
    result = await invoke("export", "--db", str(db), *args)
    assert result.exit_code == 0, result.output
    return result


async def import_(db: Path, path: Path, *args: str) -> str:
    """Import one file; returns the new session's name."""
    result = await invoke("import", str(path), "--db", str(db), *args)
    assert result.exit_code == 0, result.output
    return result.output.rsplit("→ session ", 1)[1].strip()


def har(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value
