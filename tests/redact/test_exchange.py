"""`redact.exchange`'s one look (only credential headers to replace) gives what the long way
gives, on real traffic and on every way a secret can hide from that look."""

from __future__ import annotations

import gzip
from dataclasses import replace

import pytest

from proxy import redact
from proxy.exchange import Exchange, Message
from tests.corpus import iter_local_capture, iter_recording_entries, local_captures, recordings
from tests.leaky import CLIENT_TOKEN, S, leaks

BODY = b'{"installationId":"i1","platform":"apns","pushChannel":"ab12"}'
ESCAPED = BODY[:-1] + f',"n":"sig\\u003d{S["request_json_sig"]}"}}'.encode()


def _corpus() -> list[Exchange]:
    entries = [e for path in recordings() for e in iter_recording_entries(path)]
    entries += [e for path in local_captures() for e in iter_local_capture(path)]
    return [
        Exchange(
            id=f"x{i}", session="s", started_at=1.7e9, duration_ms=1.0, method=e.method,
            url=e.url, request=e.request, status=e.status, response=e.response,
        )  # fmt: skip
        for i, e in enumerate(entries)
    ]


def _plain() -> Exchange:
    return Exchange(
        id="x", session="s", started_at=1.7e9, duration_ms=1.0, method="PUT",
        url="https://ns.servicebus.windows.net/hub/installations/i1?api-version=2020-06",
        request=Message(
            headers=(("Authorization", CLIENT_TOKEN), ("Content-Type", "application/json")),
            body=BODY,
        ),
        status=200, response=Message(headers=(("Content-Length", "0"),), body=b""),
    )  # fmt: skip


def test_real_traffic_is_redacted_the_same_either_way() -> None:
    corpus = _corpus()
    assert len(corpus) > 50
    quick = 0
    for ex in corpus:
        assert redact.exchange(ex) == redact._every_field(ex), ex.url
        quick += redact._only_credentials(ex) is not None
    assert quick > len(corpus) // 2, "most real exchanges take the one look"


def test_the_one_look_replaces_the_credential_header_and_nothing_else() -> None:
    ex = _plain()
    quick = redact._only_credentials(ex)
    assert quick is not None and quick == redact._every_field(ex)
    assert not leaks(repr(quick).encode())
    assert quick.request.body is BODY and quick.response is ex.response


HIDING = {
    "query": lambda ex: replace(ex, url=f"{ex.url}&sig={S['query_sig']}"),
    "other header": lambda ex: replace(
        ex, request=Message(headers=(*ex.request.headers, ("X-Note", f"sig={S['client_sig']}")),
                            body=BODY)),
    "json escape": lambda ex: replace(
        ex, request=Message(headers=ex.request.headers, body=ESCAPED)),
    "gzip body": lambda ex: replace(
        ex, response=Message(
            headers=(("Content-Encoding", "gzip"),),
            body=gzip.compress(f"SharedAccessKey={S['response_gzip_key']}".encode()))),
    "utf-16 body without a BOM": lambda ex: replace(  # its bytes are ASCII, every other NUL
        ex, response=Message(
            headers=(("Content-Type", "text/plain; charset=utf-16le"),),
            body=f"sig={S['response_json_sig']}".encode("utf-16-le"))),
    "kelvin sign": lambda ex: replace(ex, error=f"SharedAccess\u212aey={S['primary_key']}"),
    "reason": lambda ex: replace(ex, reason=f"Bearer {S['response_bearer']}"),
}  # fmt: skip


@pytest.mark.parametrize("where", sorted(HIDING))
def test_a_secret_anywhere_else_takes_the_long_way(where: str) -> None:
    ex = HIDING[where](_plain())
    assert redact._only_credentials(ex) is None
    assert redact.exchange(ex) == redact._every_field(ex)
    stored = redact.exchange(ex)
    for msg in (stored.request, stored.response):
        if msg is not None and msg.body[:2] == b"\x1f\x8b":
            assert not leaks(gzip.decompress(msg.body))
    assert not leaks(repr(stored).encode("utf-8", "surrogatepass"))
    if stored.response is not None and b"\x00" in stored.response.body:
        assert not leaks(stored.response.body.decode("utf-16-le").encode())
