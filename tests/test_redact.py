"""Secrets never reach the database: one redactor, every shape (see `tests/redact/` for each
shape on its own and `reliability/test_secrets.py` for every output of every command)."""

from __future__ import annotations

import gzip
from pathlib import Path

import aiohttp

from proxy import redact, serve, store
from tests import leaky
from tests.conftest import Upstream
from tests.servers import start_app, start_proxy

SIG = "Zm9vYmFyYmF6c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg%3D"
KEY = "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
TOKEN = (
    "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2F"
    f"&sig={SIG}&se=1900000000&skn=DefaultFullSharedAccessSignature"
)


def test_token_keeps_sr_se_skn_and_loses_sig() -> None:
    out = redact.text(TOKEN)
    assert SIG not in out
    assert "sig=[redacted]" in out
    assert "sr=https%3A%2F%2Fns.servicebus.windows.net%2F" in out
    assert "se=1900000000" in out and "skn=DefaultFullSharedAccessSignature" in out


def test_connection_string_key_is_replaced_everywhere() -> None:
    cs = f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={KEY}"
    assert KEY not in redact.text(cs)
    body = f'{{"cs": "{cs}", "SharedAccessKey": "{KEY}", "t": "{TOKEN}"}}'.encode()
    cleaned = redact.body(body)
    assert KEY.encode() not in cleaned and SIG.encode() not in cleaned
    assert b"SharedAccessKeyName=Full" in cleaned


def test_bodies_without_secrets_are_untouched() -> None:
    body = b"<entry><Tags>signal,keyboard</Tags></entry>"
    assert redact.body(body) is body


async def test_signature_sent_by_a_client_appears_nowhere_in_the_database(
    upstream: Upstream, tmp_path: Path
) -> None:
    db = tmp_path / "h.db"
    proxy = await start_proxy(upstream.url, db, keys={"DefaultFullSharedAccessSignature": KEY})
    cs = f"Endpoint=sb://ns/;SharedAccessKeyName=Full;SharedAccessKey={KEY}"
    try:
        async with aiohttp.ClientSession() as client:
            url = f"http://127.0.0.1:{proxy.port}/hub/registrations?api-version=2020-06&sig={SIG}"
            body = f"<entry><!-- {cs} --><x>{TOKEN}</x></entry>".encode()
            async with client.post(url, data=body, headers={"Authorization": TOKEN}) as resp:
                assert resp.status == 200
                echoed = await resp.read()
    finally:
        await serve.stop([proxy])
    assert SIG.encode() in echoed, "the client still gets the upstream's bytes unchanged"
    assert upstream.seen[0].body == body, "the upstream still gets the signature"
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert SIG.encode() not in data, path
        assert SIG.replace("%3D", "=").encode() not in data, path
        assert KEY.encode() not in data, path
    [row] = store.connect(db, readonly=True).query("select * from exchanges")
    assert "sig=[redacted]" in row["request_headers"]
    assert "sig=[redacted]" in row["url"]
    assert row["sas_verdict"] == "invalid: the signature does not match the configured key"


async def test_every_shape_through_the_proxy_is_forwarded_whole_and_stored_redacted(
    tmp_path: Path,
) -> None:
    """Issue 17, row 1: hub keys, push credentials, a percent-encoded token in `Location`,
    `sig\\u003d` in JSON, `Bearer`, `SharedAccessKey=` in a gzip body: none reaches the
    database in any form, while the client and the hub still get every byte."""
    hub = await start_app(leaky.leaky_hub())
    db = tmp_path / "h.db"
    proxy = await start_proxy(f"http://127.0.0.1:{hub.port}", db)
    answers: list[bytes] = []
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as client:
            for request in leaky.requests(f"http://127.0.0.1:{proxy.port}"):
                async with client.request(**request) as resp:
                    answers.append(b"".join(f"{k}: {v}".encode() for k, v in resp.headers.items()))
                    answers.append(await resp.read())
    finally:
        await serve.stop([proxy, hub])
    reached_client = set(leaky.leaks(b"\n".join(answers)))
    assert {"primary_key", "google_api_key", "location_sig", "response_json_sig",
            "response_gzip_key", "response_bearer"} <= reached_client  # fmt: skip
    assert leaky.leaks_in_database(db) == {}
    rows = list(
        store.connect(db, readonly=True).query("select * from exchanges order by started_at")
    )
    assert len(rows) == 5, rows
    by_path = {row["path"].rsplit("/", 1)[-1]: row for row in rows}
    assert "<PrimaryKey>[redacted]</PrimaryKey>" in by_path["myhub"]["response_body"].decode()
    assert (
        "<Name>KeyId</Name><Value>KEYID00001</Value>" in by_path["myhub"]["response_body"].decode()
    )
    assert "sig%3D[redacted]%26se%3D1" in by_path["registrationIDs"]["response_headers"]
    assert '"Authorization", "Bearer [redacted]"' in by_path["registrationIDs"]["request_headers"]
    gz = by_path["gzip"]
    assert gzip.decompress(gz["response_body"]).endswith(b'SharedAccessKey=[redacted]"}')
    assert by_path["i1"]["request_format"] == "json", "a redacted body still decodes"
