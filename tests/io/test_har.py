"""HAR out: valid against the HAR 1.2 schema, hubscope's facts under `_hubscope`, and back
in byte for byte — a real session through the proxy, gzip and binary bodies too."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import aiohttp

from proxy import serve
from proxy.io import har
from tests.conftest import BINARY, GZIPPED, Upstream
from tests.exports import (  # noqa: F401  (the capture fixture)
    Capture,
    capture_fixture,
    differences,
    export,
    import_,
    rows,
)
from tests.exports import (
    har as read_har,
)
from tests.io.harschema import errors
from tests.servers import start_proxy


async def test_a_session_exports_as_valid_har_with_hubscope_facts(
    capture: Capture, tmp_path: Path
) -> None:
    out = tmp_path / "orig.har"
    await export(capture.db, "--session", capture.session, "-o", str(out))
    document = read_har(out)
    assert errors(document) == []
    log = document["log"]
    assert log["version"] == "1.2"
    assert log["creator"]["name"] == "hubscope"
    stored = rows(capture.db, capture.session)
    entries = log["entries"]
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        (r["method"], r["status"]) for r in stored
    ]
    first = entries[0]
    assert first["_hubscope"]["operation"] == "create_registration_id"
    assert first["timings"]["wait"] == first["time"] == stored[0]["duration_ms"]
    assert first["response"]["redirectURL"].startswith("https://")
    put = entries[1]
    assert put["request"]["postData"]["mimeType"].startswith("application/atom+xml")
    assert "<Tags>a,b</Tags>" in put["request"]["postData"]["text"]
    devices = put["_hubscope"]["decoded"]["request"]["devices"]
    assert devices[0]["platform"] == "apns" and devices[0]["tags"] == ["a", "b"]
    assert put["response"]["content"]["mimeType"].startswith("application/atom+xml")
    assert put["response"]["content"]["size"] == len(stored[1]["response_body"])
    assert "encoding" not in put["response"]["content"]
    installation = entries[6]
    assert (
        installation["_hubscope"]["decoded"]["request"]["devices"][0]["installation_id"] == "inst-1"
    )
    findings = [f for e in entries for f in e["_hubscope"]["findings"]]
    assert findings, "the replay client's calls break at least one rule"
    assert {"rule", "severity", "expected", "actual", "spec", "source"} <= set(findings[0])
    assert all("[redacted]" in h["value"] for e in entries for h in e["request"]["headers"]
               if h["name"] == "Authorization")  # fmt: skip


async def test_har_round_trip_keeps_every_byte(capture: Capture, tmp_path: Path) -> None:
    out = tmp_path / "orig.har"
    await export(capture.db, "--session", capture.session, "--format", "har", "-o", str(out))
    copy = await import_(capture.db, out)
    assert copy == "import-orig"
    assert differences(rows(capture.db, capture.session), rows(capture.db, copy)) == []
    imported = rows(capture.db, copy)
    assert [r["operation"] for r in imported] == [
        r["operation"] for r in rows(capture.db, capture.session)
    ]


async def test_gzip_binary_and_failed_exchanges_survive_the_round_trip(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "odd.db"
    proxy = await start_proxy(upstream.url, db, session="odd")
    try:
        base = f"http://127.0.0.1:{proxy.port}"
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            for method, path, body in [
                ("GET", "/hub/gzip", None),
                ("GET", "/hub/binary", None),
                ("POST", "/hub/echo?sig=secret&x=%5Bodd%5D%20q", BINARY),
                ("GET", "/hub/headers", None),
            ]:
                async with http.request(method, base + path, data=body) as answer:
                    await answer.read()
    finally:
        await serve.stop([proxy])
    out = tmp_path / "odd.har"
    await export(db, "-o", str(out))
    document = read_har(out)
    assert errors(document) == []
    gzipped, binary, echoed, _ = document["log"]["entries"]
    content = gzipped["response"]["content"]
    assert content["text"] == gzip.decompress(GZIPPED).decode()  # HAR holds the decoded body
    assert content["compression"] == len(gzip.decompress(GZIPPED)) - len(GZIPPED)
    assert binary["response"]["content"]["encoding"] == "base64"
    assert base64.b64decode(binary["response"]["content"]["text"]) == BINARY
    assert echoed["request"]["postData"]["_encoding"] == "base64"
    assert echoed["request"]["url"].endswith("?sig=%5Bredacted%5D&x=%5Bodd%5D%20q")
    assert echoed["_hubscope"]["url"].endswith("?sig=[redacted]&x=%5Bodd%5D%20q")
    copy = await import_(db, out)
    assert differences(rows(db, "odd"), rows(db, copy)) == []
    assert rows(db, copy)[0]["response_body"] == GZIPPED


def test_a_failed_exchange_is_status_0_with_the_error() -> None:
    from proxy.exchange import Exchange, Message
    from proxy.io.facts import assess

    failed = Exchange(
        id="f" * 32, session="s", started_at=1.5, duration_ms=3.0, method="GET",
        url="http://127.0.0.1:1/hub/registrations?api-version=2020-06",
        request=Message(headers=(), body=b""), error="ClientConnectorError: refused",
        proxy_status=502,
    )  # fmt: skip
    entry = har.entry(assess(failed, {}))
    assert entry["response"]["status"] == 0
    assert entry["response"]["_error"] == "ClientConnectorError: refused"
    assert entry["_hubscope"]["proxy_status"] == 502
    assert errors({"log": {"version": "1.2", "creator": har.creator(), "entries": [entry]}}) == []


def test_urls_a_uri_may_not_hold_are_encoded_for_har_and_kept_exact_aside() -> None:
    assert har.valid_uri("http://[::1]:8080/hub/tags/a b/registrations?x=[1]") == (
        "http://[::1]:8080/hub/tags/a%20b/registrations?x=%5B1%5D"
    )
    assert har.valid_uri("http://h/p?sig=%2B") == "http://h/p?sig=%2B"
