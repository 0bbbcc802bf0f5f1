"""Replay against hubs that answer differently, with expired tokens, dry runs and Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxy import store
from tests.replaying import (
    OTHER_HUB,
    invoke,
    record_session,
    replay_json,
    replay_rows,
)
from tests.servers import REPO


async def test_differences_are_exactly_what_the_target_changed(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    tgt = await target(drop_tag=("registrations/", "b"), status=("DELETE", "installations/", 200))
    result, report = await replay_json(rec, tgt)
    assert result.exit_code == 1
    found = {
        (e["index"], d["field"], d["original"], d["replay"])
        for e in report["exchanges"]
        for d in e["differences"]
    }
    assert found == {
        (3, "record[0].tags", "a,b", "a"),
        (11, "record[0].tags", "a,b,c", "a,c"),
        (14, "status", "204", "200"),
    }
    different = [e["index"] for e in report["exchanges"] if e["verdict"] == "different"]
    assert different == [3, 11, 14]
    assert report["summary"]["same"] == 11 and report["summary"]["different"] == 3

    text = await invoke(
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--target",
        tgt.url,
        "--connection-string",
        tgt.connection_string,
        "--hub",
        OTHER_HUB,
    )
    assert text.exit_code == 1
    assert "record[0].tags: a,b,c → a,c" in text.output
    assert "status: 204 → 200" in text.output
    assert "14 exchanges: 11 same, 3 different, 0 failed, 0 skipped" in text.output

    conn = store.connect(rec.db, readonly=True)
    rows = conn.query(
        "select l.diff from replay_links l join exchanges e on e.id = l.replay_exchange_id "
        "where l.verdict = 'different' and e.session = ? order by e.started_at",
        [report["replay_session"]],
    )
    diffs = [json.loads(r["diff"]) for r in rows]
    conn.conn.close()
    assert diffs == [
        [["record[0].tags", "a,b", "a"]],
        [["record[0].tags", "a,b,c", "a,c"]],
        [["status", "204", "200"]],
    ]


async def test_long_expired_recorded_tokens_replay_fine(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    conn = store.connect(rec.db)
    with conn.conn:
        conn.execute(
            "update exchanges set request_headers = "
            "replace(request_headers, substr(request_headers, instr(request_headers, '&se=') + 4,"
            " 10), '1000000000') where session = ?",
            [rec.session],
        )
    headers = [r["request_headers"] for r in conn.query("select request_headers from exchanges")]
    conn.conn.close()
    assert all("&se=1000000000&" in h for h in headers)  # expired in 2001

    tgt = await target()
    result, report = await replay_json(rec, tgt)
    assert result.exit_code == 0, result.output
    assert {e["verdict"] for e in report["exchanges"]} == {"same"}
    for row in replay_rows(rec.db, report["replay_session"]):
        se = int(re.findall(r"&se=(\d+)", row["request_headers"])[0])
        assert se > time.time() + 600


async def test_dry_run_sends_nothing_and_shows_placeholders(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    tgt = await target()
    args = [
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--target",
        tgt.url,
        "--connection-string",
        tgt.connection_string,
        "--hub",
        OTHER_HUB,
        "--dry-run",
    ]
    everything = await invoke(*args)
    some = await invoke(
        *args, "--only", "create_registration_id", "--only", "create_or_update_registration"
    )
    assert everything.exit_code == some.exit_code == 0, everything.output
    assert tgt.shim.seen == []
    assert everything.output.count("sig={signature}&se={expiry}&skn=replayer") == 14
    assert 'If-Match: W/"etag-from-3"' in everything.output
    assert "14 requests would be sent; nothing was sent." in everything.output
    assert some.output.count("sig={signature}&se={expiry}&skn=replayer") == 2
    assert f"{tgt.url}/{OTHER_HUB}/registrations/id-created-by-1?api-version=2020-06" in (
        some.output
    )
    assert "<RegistrationId>id-created-by-1</RegistrationId>" in some.output
    assert "2 requests would be sent; nothing was sent." in some.output
    assert tgt.key not in everything.output + some.output


async def test_truncated_recordings_are_skipped_or_compared_by_status(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path, body_cap=300)
    tgt = await target()
    result, report = await replay_json(rec, tgt)
    assert result.exit_code == 1
    originals = replay_rows(rec.db, rec.session)
    for row, exchange in zip(originals, report["exchanges"], strict=True):
        if row["request_truncated"]:
            assert exchange["verdict"] == "skipped"
            assert exchange["notes"] == ["request body was truncated when recorded"]
        elif row["response_truncated"]:
            assert "original answer truncated: only the status compared" in exchange["notes"]
    assert report["summary"]["skipped"] == sum(r["request_truncated"] for r in originals) > 0


async def test_usage_errors_exit_2(tmp_path: Path) -> None:
    rec = await record_session(tmp_path)
    cs = "Endpoint=sb://h/;SharedAccessKeyName=n;SharedAccessKey=k"
    missing = await invoke(
        "replay", "--db", str(rec.db), "--session", "nope", "--connection-string", cs
    )
    bad_delay = await invoke(
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--connection-string",
        cs,
        "--delay",
        "soon",
    )
    no_key = await invoke(
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--connection-string",
        "Endpoint=sb://h/",
    )
    assert (missing.exit_code, bad_delay.exit_code, no_key.exit_code) == (2, 2, 2)
    assert missing.output == f"Error: no session 'nope' in {rec.db}; its sessions: orig\n"


async def test_ctrl_c_stops_after_the_request_in_flight_and_writes_it(
    tmp_path: Path, target: Callable[..., Any]
) -> None:
    rec = await record_session(tmp_path)
    tgt = await target()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "proxy",
        "replay",
        "--db",
        str(rec.db),
        "--session",
        rec.session,
        "--target",
        tgt.url,
        "--connection-string",
        tgt.connection_string,
        "--hub",
        OTHER_HUB,
        "--delay",
        "400",
        "--json",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Ctrl-C once two requests went out (not after a fixed while: on a loaded machine
        # the process may still be importing, and an early SIGINT proves nothing).
        deadline = time.monotonic() + 120
        while len(tgt.shim.seen) < 2:
            assert proc.returncode is None and time.monotonic() < deadline, tgt.shim.seen
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 1, err.decode()
    report = json.loads(out)
    done = len(report["exchanges"])
    assert report["interrupted"] is True and 2 <= done < 14
    assert report["summary"]["not_sent"] == 14 - done
    assert len(tgt.shim.seen) == done
    conn = store.connect(rec.db, readonly=True)
    links = list(conn.query("select * from replay_links"))
    conn.conn.close()
    assert len(links) == done == len(replay_rows(rec.db, report["replay_session"]))
    assert tgt.key.encode() not in out + err
