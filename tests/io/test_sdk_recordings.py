"""Import Azure SDK test-proxy recordings and replay them against the local hub."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from proxy import store
from proxy.localhub import HubSettings, start_hub
from proxy.localhub.settings import generate_key
from tests.conftest import CORPUS
from tests.replaying import invoke

FILES = sorted(
    [
        *(CORPUS / "Azure+azure-sdk-assets").rglob("*.json"),
        *(CORPUS / "Azure+azure-sdk-for-js").rglob("*.json"),
    ]
)


def entries(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text())["Entries"])


def rows(db: Path, session: str) -> list[dict[str, Any]]:
    conn = store.connect(db, readonly=True)
    try:
        return list(store.iter_exchange_rows(conn, session))
    finally:
        conn.conn.close()


def sessions(db: Path) -> list[dict[str, Any]]:
    conn = store.connect(db, readonly=True)
    try:
        return list(conn.query("select * from sessions order by rowid"))
    finally:
        conn.conn.close()


async def test_recordings_import_as_sessions_with_bodies_and_headers_as_recorded(
    tmp_path: Path,
) -> None:
    db = tmp_path / "hubscope.db"
    result = await invoke("import", *map(str, FILES), "--db", str(db))
    assert result.exit_code == 0, result.output
    imported = sessions(db)
    assert len(FILES) == len(imported) == 7
    assert {s["kind"] for s in imported} == {"import"}
    assert len({s["name"] for s in imported}) == 7
    for path, session in zip(FILES, imported, strict=True):
        assert session["note"] == f"imported from {path.name}"
        recorded, stored = entries(path), rows(db, session["name"])
        assert [(r["method"], r["url"], r["status"]) for r in stored] == [
            (e["RequestMethod"], e["RequestUri"], e["StatusCode"]) for e in recorded
        ]
        for entry, row in zip(recorded, stored, strict=True):
            request_headers = dict(store.headers_from_text(row["request_headers"]))
            assert request_headers == entry["RequestHeaders"]
            assert request_headers["Authorization"] == "Sanitized"
            assert (
                dict(store.headers_from_text(row["response_headers"])) == (entry["ResponseHeaders"])
            )
            body = entry["RequestBody"]
            if isinstance(body, dict):
                assert json.loads(row["request_body"]) == body
            elif isinstance(body, str):
                assert row["request_body"] == base64.b64decode(body)
            if "Content-Length" in entry["RequestHeaders"]:
                assert row["request_body_size"] == int(entry["RequestHeaders"]["Content-Length"])
            answer = entry["ResponseBody"]
            assert (row["response_body"] or b"") == (answer or "").encode()
            assert row["response_decode_error"] is None


async def test_import_into_one_named_session_and_bad_files(tmp_path: Path) -> None:
    db = tmp_path / "hubscope.db"
    result = await invoke("import", *map(str, FILES[:2]), "--db", str(db), "--session", "both")
    assert result.exit_code == 0, result.output
    assert len(rows(db, "both")) == sum(len(entries(p)) for p in FILES[:2])
    again = await invoke("import", str(FILES[0]), "--db", str(db))
    assert again.output.strip().endswith(sessions(db)[-1]["name"])
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a recording"}')
    failed = await invoke("import", str(bad), "--db", str(db))
    assert failed.exit_code == 1
    assert "not a test-proxy recording" in failed.output


async def test_imported_recordings_replay_against_the_local_hub(tmp_path: Path) -> None:
    db = tmp_path / "hubscope.db"
    assert (await invoke("import", *map(str, FILES), "--db", str(db))).exit_code == 0
    key = generate_key()
    cs = f"Endpoint=sb://ignored/;SharedAccessKeyName=replayer;SharedAccessKey={key}"
    hub = await start_hub(HubSettings.build(connection_string=cs, hubs=("replayhub",)))
    try:
        for session in sessions(db):
            result = await invoke(
                "replay",
                "--db",
                str(db),
                "--session",
                session["name"],
                "--target",
                hub.url,
                "--connection-string",
                cs,
                "--hub",
                "replayhub",
                "--json",
            )
            report = json.loads(result.output)
            print(json.dumps(report["summary"]), session["name"])
            for exchange in report["exchanges"]:
                print(
                    "  ",
                    exchange["index"],
                    exchange["operation"],
                    exchange["verdict"],
                    exchange["differences"],
                    exchange["notes"],
                )
            assert set(report) == {
                "session",
                "replay_session",
                "target",
                "interrupted",
                "summary",
                "hint",
                "exchanges",
            }
            assert report["hint"] is None
            assert set(report["exchanges"][0]) == {
                "index",
                "original_id",
                "replay_id",
                "operation",
                "method",
                "original_url",
                "replay_url",
                "original_status",
                "replay_status",
                "verdict",
                "detail",
                "differences",
                "notes",
            }
            statuses = [(e["original_status"], e["replay_status"]) for e in report["exchanges"]]
            assert all(a == b and b < 400 for a, b in statuses), statuses
            # The real hub's lists held registrations from earlier runs: noted, not compared.
            assert result.exit_code == 0
            assert {e["verdict"] for e in report["exchanges"]} == {"same"}
            assert all("/replayhub/" in e["replay_url"] for e in report["exchanges"])
    finally:
        await hub.stop()
    for path in tmp_path.iterdir():
        assert key.encode() not in path.read_bytes()
