"""Hostile bodies are forwarded unchanged, recorded with a decode error, and never expanded."""

from __future__ import annotations

import io
import json
from pathlib import Path

import aiohttp
import pytest

from proxy import serve, store
from tests.conftest import Upstream
from tests.servers import start_proxy

ATOM = "application/atom+xml;type=entry;charset=utf-8"
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><entry xmlns="http://www.w3.org/2005/Atom"><content>&lol9;</content></entry>'
)
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "'
    + b"x" * 50_000
    + b'">]><entry>'
    + b"&a;" * 2_000
    + b"</entry>"
)


def xxe(path: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY f SYSTEM "file://{path}">'
        '<!ENTITY n SYSTEM "http://127.0.0.1:9/steal">]>'
        '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
        '<AppleRegistrationDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">'
        "<Tags>&f;</Tags><DeviceToken>&n;</DeviceToken></AppleRegistrationDescription></content></entry>"
    ).encode()


def cases(secret_file: Path) -> dict[str, tuple[str, str, bytes]]:
    return {
        "xxe": ("POST", ATOM, xxe(secret_file)),
        "billion-laughs": ("POST", ATOM, LAUGHS),
        "quadratic": ("POST", ATOM, QUADRATIC),
        "50MB-xml": ("POST", ATOM, b"<entry>" + b"<a>x</a>" * 6_600_000 + b"</entry>"),
        "invalid-utf8": ("POST", ATOM, b"<entry>\xff\xfe\xc3\x28</entry>"),
        "nul-bytes": ("POST", ATOM, b"<entry>\x00\x00</entry>"),
        "json-100000-deep": ("PUT", "application/json", b"[" * 100_000 + b"]" * 100_000),
        "script-everywhere": (
            "PUT",
            "application/json",
            json.dumps(
                {
                    k: "<script>alert(1)</script>"
                    for k in ("installationId", "platform", "pushChannel")
                }
            ).encode(),
        ),
    }


@pytest.mark.parametrize("name", list(cases(Path("/x"))))
async def test_hostile_body_is_forwarded_unchanged_and_recorded_with_a_decode_error(
    name: str, upstream: Upstream, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    marker = "HUBSCOPE-SECRET-FILE-CONTENT-7f3a"
    secret.write_text(marker)
    method, content_type, body = cases(secret)[name]
    db = tmp_path / "h.db"
    proxy = await start_proxy(upstream.url, db, body_cap=64 << 20)
    path = "/hub/installations/x" if method == "PUT" else "/hub/registrations"
    try:
        async with aiohttp.ClientSession() as client:
            async with client.request(
                method,
                f"http://127.0.0.1:{proxy.port}{path}?api-version=2020-06",
                data=io.BytesIO(body),
                headers={"Content-Type": content_type},
            ) as resp:
                assert resp.status == 200
                assert await resp.read() == body, "echoed back unchanged"
    finally:
        await serve.stop([proxy])
    assert upstream.seen[-1].body == body
    [row] = store.connect(db, readonly=True).query("select * from exchanges")
    assert row["request_body_size"] == len(body)
    if name != "script-everywhere":
        assert row["request_decode_error"], f"{name}: decode error expected"
    else:
        assert row["request_format"] == "json"
    devices = list(store.connect(db, readonly=True).query("select * from devices"))
    everything = json.dumps(devices) + json.dumps(
        {k: v for k, v in row.items() if not isinstance(v, bytes)}
    )
    assert marker not in everything
    assert marker.encode() not in db.read_bytes()
    assert "lollollol" not in everything
