"""Replay: record a session through the proxy against one local hub, replay it to another."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from proxy import sas, serve, store
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from proxy.localhub.settings import generate_key
from tests.replaying import (
    ATOM,
    HUB,
    OTHER_HUB,
    apple,
    invoke,
    record_session,
    replay_json,
    replay_rows,
)
from tests.servers import start_proxy


async def test_replay_to_another_hub_is_same_with_ids_and_etags_remapped(
    tmp_path: Path, target: Callable[..., Any], new_store: Callable[[str], Path | str]
) -> None:
    """On SQLite and on PostgreSQL (`new_store`): recorded, replayed and linked in one store."""
    rec = await record_session(tmp_path, db=new_store("hubscope"))
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


async def record_refusals(tmp_path: Path) -> tuple[Path, list[int]]:
    """A session where the hub refused two tokens: one expired, one signed with another key."""
    db = tmp_path / "hubscope.db"
    key = generate_key()
    hub = await start_hub(
        HubSettings.build(
            connection_string=f"Endpoint=sb://x/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}"
        )
    )
    statuses = []
    try:
        proxy = await start_proxy(hub.url, db, session="refused")
        base = f"http://127.0.0.1:{proxy.port}"
        url = f"{base}/{HUB}/registrations?api-version=2020-06"
        sr = quote(f"{base}/", safe="")
        tokens = [
            sas.token_for_sr(sr, FULL_RULE, key, ttl=-900),
            sas.token_for_sr(sr, FULL_RULE, generate_key()),
            sas.token_for_sr(sr, FULL_RULE, key),
        ]
        try:
            async with aiohttp.ClientSession() as http:
                for token in tokens:
                    headers = {"Authorization": token, "Content-Type": ATOM}
                    async with http.post(url, data=apple("a"), headers=headers) as resp:
                        statuses.append(resp.status)
        finally:
            await serve.stop([proxy])
    finally:
        await hub.stop()
    return db, statuses


async def test_recorded_401s_replay_as_refused_or_say_why_they_were_not(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    db, statuses = await record_refusals(tmp_path)
    assert statuses == [401, 401, 200]
    tgt = await target()
    result = await invoke(
        "replay", "--db", str(db), "--session", "refused", "--target", tgt.url,
        "--connection-string", tgt.connection_string, "--json",
    )  # fmt: skip
    report = json.loads(result.output)
    expired, forged, fine = report["exchanges"]
    assert (expired["verdict"], expired["replay_status"]) == ("same", 401)
    assert expired["detail"].startswith("ExpiredToken")
    [note] = expired["notes"]
    assert re.fullmatch(
        r"the original token had expired (9\d\d) s before the request and the hub refused it; "
        r"replayed with a token expired \1 s, as stale",
        note,
    ), note
    assert (forged["verdict"], forged["replay_status"]) == ("different", 200)
    assert forged["notes"] == [
        "the original was refused for its token (401 InvalidSignature: The token has an invalid "
        "signature.); the replay signs every request with a fresh token from "
        "--connection-string, so the hub accepted it"
    ]
    assert fine["verdict"] == "same" and report["hint"] is None
    assert result.exit_code == 1
    [replayed_expired, *_] = replay_rows(db, report["replay_session"])
    token = sas.parse_token(dict(json.loads(replayed_expired["request_headers"]))["Authorization"])
    assert token and token.expiry and token.expiry < time.time() - 900


def test_a_taken_replay_session_name_gets_the_next_free_counter(
    tmp_path: Path, monkeypatch: Any
) -> None:
    from proxy.cli.replay import replay_session_name

    monkeypatch.setattr(time, "strftime", lambda fmt, *moment: "20261130-100000")
    db = tmp_path / "replays.db"
    base = "replay-of-s-20261130-100000"
    assert replay_session_name(db, "s") == base
    conn = store.connect(db)
    for name in (base, f"{base}-2", "replay-of-s-20261130-1000009"):
        store.ensure_session(conn, name, kind="replay")
    conn.conn.close()
    assert replay_session_name(db, "s") == f"{base}-3"


def test_the_comparison_shows_no_secret_the_target_answered() -> None:
    """The recorded answer was stored redacted; the live one is redacted before it is
    reported or linked, and a difference only in its secret is none."""
    from proxy.replay.compare import Comparison, Difference
    from proxy.replay.run import shown

    secret = "sr=x&sig=Rk9PQkFSc2VjcmV0c2lnbmF0dXJlMDAx&se=1"
    only_the_secret = Comparison(
        verdict="different",
        differences=(Difference("record[0].extra", "sr=x&sig=[redacted]&se=1", secret),),
        notes=(f"replay body did not decode: near {secret}",),
    )
    seen = shown(only_the_secret)
    assert seen.verdict == "same" and seen.differences == ()
    assert seen.notes == ("replay body did not decode: near sr=x&sig=[redacted]&se=1",)
    tags = Difference("record[0].tags", "a", f"a,{secret}")
    really = shown(Comparison(verdict="different", differences=(tags,)))
    assert really.verdict == "different"
    assert really.differences == (Difference("record[0].tags", "a", "a,sr=x&sig=[redacted]&se=1"),)
