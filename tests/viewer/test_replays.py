"""The viewer shows a replay beside its original, exchange by exchange, with the differences."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from proxy import serve, store
from tests.replaying import record_session, replay_json
from viewer.app import start_viewer


async def test_replay_session_page_pairs_each_exchange_with_its_original(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    tgt = await target(drop_tag=("registrations/", "b"), status=("DELETE", "installations/", 200))
    result, _ = await replay_json(rec, tgt)
    assert result.exit_code == 1
    [replay] = [
        r["name"]
        for r in store.connect(rec.db, readonly=True).query(
            "select name from sessions where replay_of = ?", [rec.session]
        )
    ]
    viewer = await start_viewer(rec.db)
    base = f"http://127.0.0.1:{viewer.port}"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/api/sessions/{replay}") as resp:
                api = await resp.json()
            async with client.get(f"{base}/sessions/{replay}") as resp:
                page = await resp.text()
            async with client.get(f"{base}/api/sessions/{rec.session}") as resp:
                original = await resp.json()
    finally:
        await serve.stop([viewer])
    pairs = api["replay_pairs"]
    assert len(pairs) == len(rec.statuses)
    assert [p["original_status"] for p in pairs] == rec.statuses
    different = [(i + 1, p["diff"]) for i, p in enumerate(pairs) if p["verdict"] != "same"]
    assert [i for i, _ in different] == [3, 11, 14]
    assert ["status", "204", "200"] in different[2][1]
    assert "Replay of" in page and rec.session in page
    assert "11 of 14 answers mean the same" in page
    assert "<del>204</del> → <ins>200</ins>" in page
    assert [r["name"] for r in original["replays"]] == [replay]
    assert (original["replays"][0]["same"], original["replays"][0]["different"]) == (11, 3)
