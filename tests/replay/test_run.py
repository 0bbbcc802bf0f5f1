"""Replay: record a session through the proxy against one local hub, replay it to another."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from proxy import sas, store
from tests.replaying import (
    HUB,
    OTHER_HUB,
    record_session,
    replay_json,
    replay_rows,
)


async def test_replay_to_another_hub_is_same_with_ids_and_etags_remapped(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    assert all(s < 300 for s in rec.statuses), rec.statuses
    tgt = await target(etag_offset=100)
    result, report = await replay_json(rec, tgt)
    assert result.exit_code == 0, result.output
    verdicts = [(e["index"], e["verdict"], e["differences"]) for e in report["exchanges"]]
    assert all(v == "same" for _, v, _ in verdicts), verdicts
    assert [e["replay_status"] for e in report["exchanges"]] == rec.statuses
    assert report["summary"] == {
        "same": 14,
        "different": 0,
        "failed": 0,
        "skipped": 0,
        "total": 14,
        "not_sent": 0,
    }

    originals = replay_rows(rec.db, rec.session)
    replayed = replay_rows(rec.db, report["replay_session"])
    first_original = originals[1]["resource_id"]
    first_replayed = replayed[1]["resource_id"]
    assert first_replayed != first_original
    assert replayed[0]["response_headers"].find(first_replayed) > 0  # hub B's Location
    assert all(f"/{OTHER_HUB}/" in r["url"] and f"/{HUB}/" not in r["url"] for r in replayed)
    assert first_original not in "".join(r["url"] for r in replayed)
    # ETags: the client sent W/"1" and "2"; hub B (behind the shim) knows them as 101, 102.
    assert [m for _, _, m in tgt.shim.seen if m] == ['W/"101"', '"102"', "*"]
    assert all(r["sas_verdict"] == "valid" for r in replayed)
    srs = [
        sas.parse_token(dict(json.loads(r["request_headers"]))["Authorization"]) for r in replayed
    ]
    port = tgt.url.rsplit(":", 1)[1]
    assert srs[0] and srs[0].sr == quote(f"http://127.0.0.1:{port}/", safe="")
    assert (
        srs[1]
        and srs[1].sr
        == quote(f"http://127.0.0.1/{OTHER_HUB}/registrations/{first_replayed}/", safe="").lower()
    )
    assert srs[2] and srs[2].sr == quote(replayed[2]["url"].lower(), safe="").lower()
    assert srs[4] and srs[4].sr == quote(f"http://127.0.0.1:{port}/{OTHER_HUB}", safe="")

    conn = store.connect(rec.db, readonly=True)
    session = next(conn.query("select * from sessions where name = ?", [report["replay_session"]]))
    links = list(conn.query("select * from replay_links"))
    conn.conn.close()
    assert session["kind"] == "replay" and session["replay_of"] == rec.session
    assert {(r["replay_exchange_id"], r["original_exchange_id"]) for r in links} == {
        (r["id"], o["id"]) for r, o in zip(replayed, originals, strict=True)
    }
    assert {r["verdict"] for r in links} == {"same"}

    for path in tmp_path.iterdir():  # the key is never stored, never printed
        assert tgt.key.encode() not in path.read_bytes(), path
    assert tgt.key not in result.output
