"""Replay to the endpoint `hubscope hub` prints, to a wrong key, to nothing at all."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy import store
from proxy.replay.target import Unreachable, check, is_loopback
from tests.replaying import invoke, record_session, replay_rows
from tests.servers import STARTUP, free_port, spawn_hubscope, wait_for_port


def session_names(db: Path) -> list[str]:
    conn = store.connect(db, readonly=True)
    try:
        return [r["name"] for r in conn.query("select name from sessions order by rowid")]
    finally:
        conn.conn.close()


async def test_the_sb_endpoint_hubscope_hub_prints_replays_over_plain_http(
    tmp_path: Path,
) -> None:
    rec = await record_session(tmp_path)
    port = free_port()
    hub = await spawn_hubscope("hub", "--listen", f"127.0.0.1:{port}")
    try:
        await wait_for_port(port, hub)
        assert hub.stdout is not None
        banner = b""
        while b"Listen-only" not in banner:
            banner += await asyncio.wait_for(hub.stdout.readline(), STARTUP)
        [printed] = re.findall(r"Endpoint=sb://[^\s]+", banner.decode())[:1]
        assert printed.startswith(f"Endpoint=sb://127.0.0.1:{port}/;")
        result = await invoke(
            "replay", "--db", str(rec.db), "--session", rec.session,
            "--connection-string", printed, "--name", "over-http",
        )  # fmt: skip
    finally:
        hub.terminate()
        await hub.wait()
    assert result.exit_code == 0, result.output
    assert (
        f"note: 127.0.0.1:{port} speaks plain HTTP, not HTTPS (an sb:// endpoint means HTTPS;"
        in result.output
    )
    assert f"replay of orig → http://127.0.0.1:{port}" in result.output
    assert "14 exchanges: 14 same, 0 different, 0 failed, 0 skipped" in result.output
    urls = [r["url"] for r in replay_rows(rec.db, "over-http")]
    assert len(urls) == 14 and all(u.startswith(f"http://127.0.0.1:{port}/") for u in urls)


async def test_nothing_listening_is_refused_before_a_session_is_recorded(tmp_path: Path) -> None:
    rec = await record_session(tmp_path)
    port = free_port()
    cs = f"Endpoint=sb://127.0.0.1:{port}/;SharedAccessKeyName=n;SharedAccessKey=k"
    result = await invoke("replay", "--db", str(rec.db), "--session", rec.session,
                          "--connection-string", cs)  # fmt: skip
    assert result.exit_code == 2
    assert result.output == (
        f"Error: cannot connect to 127.0.0.1:{port}: connection refused; "
        "nothing was sent, no session recorded\n"
    )
    assert session_names(rec.db) == [rec.session]


async def test_a_wrong_key_ends_with_a_check_the_key_hint(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    tgt = await target()
    wrong = "Endpoint=sb://ignored/;SharedAccessKeyName=replayer;SharedAccessKey=bm90LXRoZS1rZXk="
    args = ["replay", "--db", str(rec.db), "--session", rec.session, "--target", tgt.url,
            "--connection-string", wrong]  # fmt: skip
    text = await invoke(*args)
    assert text.exit_code == 1
    assert "14 exchanges: 0 same, 14 different" in text.output
    [hint] = [line for line in text.output.splitlines() if line.startswith("hint: ")]
    assert hint.startswith("hint: every request was refused with 401 (")
    assert "check the key — --connection-string must name a SharedAccessKeyName" in hint
    assert f"({tgt.url})" in hint
    assert "answer: " in text.output

    right = await invoke(*args[:-1], tgt.connection_string)
    assert right.exit_code == 0 and "hint:" not in right.output


async def test_check_connects_without_sending_a_request(target: Callable[..., Any]) -> None:
    tgt = await target()
    assert (await check(tgt.url)).url == tgt.url
    switched = await check(tgt.url.replace("http://", "https://"))
    assert switched.url == tgt.url and switched.note
    assert tgt.shim.seen == []
    with pytest.raises(Unreachable, match="cannot connect to 127.0.0.1:"):
        await check(f"https://127.0.0.1:{free_port()}")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("10.0.0.1", False), ("ns.servicebus.windows.net", False)],
)  # fmt: skip
def test_only_loopback_targets_fall_back_to_plain_http(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
