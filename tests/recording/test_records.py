"""Journal payloads round-trip every exchange losslessly; bodies are cut before they travel."""

from __future__ import annotations

import hashlib
import marshal

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


def _wrong_field(index: int, value: object) -> bytes:
    fields = list(marshal.loads(records.encode(rows.capture(_exchange(b"{}", None), 1 << 20))))
    fields[index] = value
    return marshal.dumps(tuple(fields), 4)


BAD = [
    b"", b"garbage", b"\xe9\x01\x00\x00\x00", b"N",
    _wrong_field(3, "not a time"), _wrong_field(13, [("X-A", "1")]), _wrong_field(14, "text"),
    _wrong_field(15, None),
]  # fmt: skip


@pytest.mark.parametrize("payload", BAD)
def test_anything_else_is_a_bad_record(payload: bytes) -> None:
    with pytest.raises(records.BadRecord):
        records.decode(payload)


@pytest.mark.parametrize("payload", BAD)
def test_check_refuses_whatever_decode_refuses(payload: bytes) -> None:
    """The writer only checks a record; whoever builds its rows decodes it later and must
    not fail."""
    with pytest.raises(records.BadRecord):
        records.check(payload)


def test_lazy_records_decode_on_reading_and_slice_lazily() -> None:
    captured = [rows.capture(_exchange(bytes([i]), None), 1 << 20) for i in range(5)]
    lazy = records.Lazy([records.encode(c) for c in captured])
    assert len(lazy) == 5 and lazy[3] == captured[3] and lazy[3] is lazy[3]
    assert list(lazy[1:3]) == captured[1:3] and list(lazy) == captured


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
