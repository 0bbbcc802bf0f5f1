"""Journal payloads round-trip every exchange losslessly; bodies are cut before they travel."""

from __future__ import annotations

import hashlib

import pytest

from proxy.exchange import Exchange, Message
from proxy.recording import records
from proxy.store import rows


def _exchange(body: bytes, response: Message | None) -> Exchange:
    return Exchange(
        id="e1", session="s\ud800", started_at=1.5, duration_ms=2.25, method="PUT",
        url="http://h/hub/installations/\udcff?x=1",
        request=Message(headers=(("X-A", "caf\xe9"), ("X-A", "two")), body=body),
        status=None if response is None else 200, response=response, error="boom",
    )  # fmt: skip


def test_round_trip_is_lossless_surrogates_included() -> None:
    original = rows.capture(
        _exchange(b"\x00\xff{}", Message(headers=(("ETag", "1"),), body=b"\xfe")), 1 << 20
    )
    back = records.decode(records.encode(original))
    assert back == original
    no_answer = rows.capture(_exchange(b"", None), 1 << 20)
    assert records.decode(records.encode(no_answer)) == no_answer


def test_capture_cuts_at_the_cap_and_keeps_size_and_hash_of_the_whole() -> None:
    body = b"sig=SECRET&" + b"x" * 5000
    captured = rows.capture(_exchange(body, None), 100)
    assert len(captured.exchange.request.body) == 100
    assert b"SECRET" not in captured.exchange.request.body, "redacted before it travels"
    assert captured.request.size == len(body)
    assert captured.request.sha256 == hashlib.sha256(body).hexdigest()
    assert rows.capture(_exchange(b"small", None), 100).request.sha256 is None


def test_session_records_round_trip() -> None:
    session = records.SessionStart("s", "proxy", "https://ns.servicebus.windows.net", None)
    assert records.decode_session(records.encode_session(session)) == session


@pytest.mark.parametrize("payload", [b"", b"garbage", b"\xe9\x01\x00\x00\x00", b"N"])
def test_anything_else_is_a_bad_record(payload: bytes) -> None:
    with pytest.raises(records.BadRecord):
        records.decode(payload)


def test_str_and_int_subclasses_are_stored_as_plain_values() -> None:
    """Replay and import hand over headers as multidict's `istr` and statuses as
    `HTTPStatus`; marshal refuses subclasses, so the record holds the plain values."""
    from http import HTTPStatus

    from multidict import istr

    ex = Exchange(
        id="x", session="s", started_at=1.0, duration_ms=1.0, method="GET", url="/h",
        request=Message(headers=((istr("Content-Type"), "text/plain"),), body=bytearray(b"b")),  # type: ignore[arg-type]
        status=HTTPStatus.OK, response=Message(headers=(), body=memoryview(b"r")),  # type: ignore[arg-type]
    )  # fmt: skip
    back = records.decode(records.encode(rows.capture(ex, 1 << 20))).exchange
    assert back.request.headers == (("Content-Type", "text/plain"),)
    assert type(back.request.headers[0][0]) is str and type(back.status) is int
    assert back.status == 200 and back.request.body == b"b"
    assert back.response is not None and back.response.body == b"r"
