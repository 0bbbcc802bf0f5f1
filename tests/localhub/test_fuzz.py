"""Nothing crashes the local hub: every corpus body, and mangled ones, on every write route."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator

import aiohttp

from proxy.localhub import FULL_RULE, HubSettings, start_hub
from proxy.sas import make_token
from tests.corpus import (
    http_mocks,
    iter_local_capture,
    iter_recording_entries,
    java_fixtures,
    local_captures,
    read_http_mock,
    recordings,
)
from tests.hubclient import TIMEOUT, apple

ROUTES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("POST", "/myhub/registrations", {}),
    ("PUT", "/myhub/registrations/fuzz-1", {}),
    ("PUT", "/myhub/registrations/fuzz-1", {"If-Match": 'W/"1"'}),
    ("PUT", "/myhub/installations/fuzz", {}),
    ("PATCH", "/myhub/installations/fuzz", {}),
    ("POST", "/myhub/messages", {"ServiceBusNotification-Format": "template"}),
    ("POST", "/myhub/messages/$batch?direct", {}),
)
CONTENT_TYPES = (
    "application/atom+xml;type=entry;charset=utf-8",
    "application/json",
    "text/xml; charset=no-such-encoding",
    None,
)
HOSTILE = (
    b"",
    b"\xff\xfe\x00<\x00e\x00",
    b"[" * 100_000,
    b"{" * 50_000,
    b"<a>" * 50_000,
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><e>&x;</e>',
    b'{"installationId":"fuzz","platform":"apns","pushChannel":1e999999}',
    b'{"installationId":"fuzz","platform":"apns","pushChannel":"a","templates":{"t":{"body":1}}}',
    b'[{"op":"add","path":"/templates/t","value":"{\\"body\\": 3}"}]',
    b'[{"op":"add","path":"/secondaryTiles/a/b/c","value":null}]',
    b'[{"op":"replace","path":"/pushVariables","value":"[1,2]"}]',
    b'[{"op":"add","path":"/tags","value":[1,{"a":2}]}]',
    apple().replace("AppleRegistrationDescription", "RegistrationDescription").encode(),
    apple().replace("<DeviceToken>", '<DeviceToken i:nil="true">').encode(),
    b"x" * (5 * 1024 * 1024),
)


def corpus_bodies() -> Iterator[bytes]:
    """Every request and response body the corpus holds, once each."""
    for path in local_captures():
        yield from (e.request.body for e in iter_local_capture(path))
    for path in recordings():
        for entry in iter_recording_entries(path):
            yield entry.request.body
            if entry.response is not None:
                yield entry.response.body
    for path in http_mocks():
        yield from (call.response.body for call in read_http_mock(path, lenient=True))
    for path in java_fixtures():
        yield path.read_bytes()


def mangled(body: bytes, rng: random.Random) -> Iterator[bytes]:
    """Truncated, bit-flipped and spliced variants of one body."""
    if not body:
        return
    yield body[: rng.randrange(len(body))]
    flipped = bytearray(body)
    for _ in range(5):
        flipped[rng.randrange(len(flipped))] = rng.randrange(256)
    yield bytes(flipped)
    cut = rng.randrange(len(body))
    yield body[:cut] + rng.choice([b"]]>", b"\x00", b"<x>", b'"', b"&", b"</entry>"]) + body[cut:]


def all_cases() -> list[bytes]:
    rng = random.Random(20261123)
    seen: set[bytes] = set()
    cases: list[bytes] = []
    for body in corpus_bodies():
        if body in seen:
            continue
        seen.add(body)
        cases.append(body)
        cases.extend(mangled(body, rng))
    return cases + list(HOSTILE)


async def test_no_body_makes_the_hub_fail() -> None:
    cases = all_cases()
    assert len(cases) > 400
    running = await start_hub(HubSettings())
    try:
        key = running.settings.keys[FULL_RULE]
        auth = make_token(f"http://{running.host}/myhub", FULL_RULE, key)
        failures: list[str] = []
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            put = running.url + "/myhub/installations/fuzz?api-version=2020-06"
            valid = '{"installationId":"fuzz","platform":"apns","pushChannel":"aa"}'
            json_headers = {"Authorization": auth, "Content-Type": "application/json"}
            async with session.put(put, data=valid, headers=json_headers) as ok:
                assert ok.status == 200
            for index, body in enumerate(cases):
                method, path, extra = ROUTES[index % len(ROUTES)]
                content_type = CONTENT_TYPES[index % len(CONTENT_TYPES)]
                headers = {"Authorization": auth, **extra}
                if content_type:
                    headers["Content-Type"] = content_type
                sep = "&" if "?" in path else "?"
                url = f"{running.url}{path}{sep}api-version=2020-06"
                data = io.BytesIO(body) if len(body) > 1 << 20 else body
                async with session.request(method, url, data=data, headers=headers) as response:
                    text = await response.read()
                    if response.status >= 500 or (
                        response.status >= 400 and not text.startswith(b"<Error><Code>")
                    ):
                        failures.append(
                            f"{method} {path} case {index}: {response.status} {text[:200]!r}"
                        )
            async with session.get(
                running.url + "/myhub/registrations?api-version=2020-06",
                headers={"Authorization": auth},
            ) as response:
                assert response.status == 200
        assert not failures, "\n".join(failures[:20])
    finally:
        await running.stop()
