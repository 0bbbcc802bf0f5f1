"""`hubscope import` tells formats apart by content and reads other tools' HAR quirks."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from proxy.io import har_read
from proxy.io.imports import ImportFailed, import_file, sniff
from tests.exports import rows, sessions
from tests.replaying import invoke

URL = "https://ns.servicebus.windows.net/hub/installations/i1?api-version=2020-06"


def _har(entries: list[dict[str, object]]) -> dict[str, object]:
    return {"log": {"version": "1.2", "creator": {"name": "Charles Proxy", "version": "4.6"},
                    "entries": entries}}  # fmt: skip


def _entry(**response: object) -> dict[str, object]:
    return {
        "startedDateTime": "2026-11-23T10:00:00.000+01:00", "time": 12.5,
        "request": {"method": "get", "url": URL, "httpVersion": "HTTP/2",
                    "headers": [[":authority", "ns.servicebus.windows.net"],
                                ["Authorization", "SharedAccessSignature sr=x&sig=SECRET&se=1"]],
                    "cookies": [], "queryString": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "cookies": [],
                     "redirectURL": "", "headersSize": -1, "bodySize": -1, **response},
        "cache": {}, "timings": {"send": 0, "wait": 12.5, "receive": 0},
    }  # fmt: skip


def test_formats_are_told_apart_by_content(tmp_path: Path) -> None:
    cases = {
        "a.json": (json.dumps(_har([])), "har"),
        "b.txt": ('{"hubscope": 1, "request": {}}\n', "jsonl"),
        "c.har": (json.dumps({"Entries": []}), "recording"),
    }
    for name, (text, kind) in cases.items():
        (tmp_path / name).write_text(text)
        assert sniff(tmp_path / name) == kind
    (tmp_path / "d.har").write_text("<html>")
    with pytest.raises(ImportFailed, match="not a test-proxy recording, HAR file or hubscope"):
        sniff(tmp_path / "d.har")


async def test_pairs_pseudo_headers_gzip_and_secrets_from_another_tool(tmp_path: Path) -> None:
    body = json.dumps({"installationId": "i1", "platform": "apns", "pushChannel": "ab" * 32})
    headers = [{"name": "Content-Type", "value": "application/json"},
               {"name": "Content-Encoding", "value": "gzip"}]  # fmt: skip
    content = {"size": len(body), "mimeType": "application/json", "text": body}
    path = tmp_path / "charles.har"
    path.write_text(json.dumps(_har([_entry(headers=headers, content=content)])))
    db = tmp_path / "hubscope.db"
    result = await invoke("import", str(path), "--db", str(db))
    assert result.exit_code == 0, result.output
    (session,) = sessions(db)
    assert session["note"] == "imported from charles.har (HAR by Charles Proxy 4.6)"
    (row,) = rows(db, session["name"])
    assert row["method"] == "GET" and row["operation"] == "read_installation"
    assert json.loads(row["request_headers"]) == [
        ["Authorization", "SharedAccessSignature sr=x&sig=[redacted]&se=1"]
    ]
    assert (
        gzip.decompress(row["response_body"]).decode() == body
    )  # compressed again, as on the wire
    assert row["started_at"] == 1795424400.0 and row["duration_ms"] == 12.5


def test_base64_bodies_failures_and_separate_files() -> None:
    failed = _entry(headers=[], content={"size": 0, "mimeType": ""})
    failed["response"] = {**failed["response"], "status": 0, "_error": "connection reset"}  # type: ignore[dict-item]
    binary = _entry(headers=[], content={"size": 3, "mimeType": "application/octet-stream",
                                         "text": base64.b64encode(b"\x00\xff\x01").decode(),
                                         "encoding": "base64"})  # fmt: skip
    same_time = _entry(headers=[], content={"size": 0, "mimeType": ""})
    got = har_read.read(_har([failed, binary, same_time]), "s")
    assert got[0].status is None and got[0].response is None and got[0].error == "connection reset"
    assert got[1].response is not None and got[1].response.body == b"\x00\xff\x01"
    assert got[0].started_at < got[1].started_at < got[2].started_at  # file order kept
    attached = _entry(headers=[], content={"size": 1, "mimeType": "text/plain", "_file": "x.txt"})
    with pytest.raises(har_read.HarError, match="entry 1: a body is in a separate file"):
        har_read.read(_har([attached]), "s")


def test_a_broken_file_loses_nothing_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "broken.har"
    path.write_text('{"log": {"entries": [{"request": {}}]}}')
    db = tmp_path / "hubscope.db"
    with pytest.raises(ImportFailed, match="entry 1: an entry has no request"):
        import_file(db, path)
    assert not db.exists() or sessions(db) == []
