"""Journal payloads: a captured exchange (or a session) as bytes, and back, losslessly.

`marshal` (format 4, the same since Python 3.4) writes tuples of str, bytes, numbers and
None in C, several times faster than a hand-built struct, and round-trips every str,
lone surrogates included. Unlike pickle, loading it cannot run code. The journal is a
local, short-lived file, read back by the same installation; the format number is in
each payload so a future change is detected, not misread.
"""

from __future__ import annotations

import marshal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from proxy.exchange import Exchange, Message
from proxy.store import rows
from proxy.store.rows import BodyFacts, Captured

VERSION = 2
"""2: the exchange is stored redacted (a `redacted` flag ends the tuple); 1 had no flag."""
_FIELDS = {1: 21, 2: 22}
_MARSHAL = 4


class BadRecord(ValueError):
    """A journal payload that is not what hubscope writes."""


@dataclass(frozen=True, slots=True)
class SessionStart:
    """The session a run records into, so the store can create it from the journal alone."""

    name: str
    kind: str
    upstream: str | None
    replay_of: str | None


def encode_session(session: SessionStart) -> bytes:
    return marshal.dumps(
        (VERSION, session.name, session.kind, session.upstream, session.replay_of), _MARSHAL
    )


def decode_session(data: bytes) -> SessionStart:
    item = _load(data, 5)
    name, kind, upstream, replay_of = item[1:]
    return SessionStart(name=name, kind=kind, upstream=upstream, replay_of=replay_of)


def journal_payload(exchange: Exchange, body_cap: int, keys: dict[str, str]) -> bytes:
    """The exchange as a journal record: bodies cut at the cap, the signature checked
    against `keys`, then every secret redacted. The journal is part of the store: no
    secret is ever written to it (the writer does not redact again)."""
    return encode(rows.redacted(rows.capture(exchange, body_cap), keys))


def bare(exchange: Exchange, why: str) -> Captured:
    """What is recorded of an exchange that could not be cut or redacted (`why`): what was
    asked and answered, without its headers, bodies and query, which may hold a secret."""
    empty = Message(headers=(), body=b"")
    ex = Exchange(
        id=str(exchange.id), session=str(exchange.session),
        started_at=float(exchange.started_at), duration_ms=float(exchange.duration_ms),
        method=str(exchange.method), url=str(exchange.url).split("?", 1)[0].split("#", 1)[0],
        request=empty, status=None if exchange.status is None else int(exchange.status),
        response=None if exchange.response is None else empty,
        error=f"hubscope could not cut or redact this exchange ({why}): its headers, bodies "
        "and query were not recorded",
        client=None if exchange.client is None else str(exchange.client),
        proxy_status=None if exchange.proxy_status is None else int(exchange.proxy_status),
    )  # fmt: skip
    facts = BodyFacts(0, None)
    return Captured(ex, facts, None if exchange.response is None else facts, redacted=True)


def encode(captured: Captured) -> bytes:
    """One captured exchange (bodies already cut at the body cap) as a journal payload."""
    ex, response = captured.exchange, captured.exchange.response
    facts = captured.response
    record = (
        VERSION, ex.id, ex.session, ex.started_at, ex.duration_ms, ex.method, ex.url,
        ex.status, ex.reason, ex.error, ex.client, ex.proxy_status, ex.sas_verdict,
        ex.request.headers, ex.request.body, captured.request.size, captured.request.sha256,
        None if response is None else response.headers,
        None if response is None else response.body,
        None if facts is None else facts.size,
        None if facts is None else facts.sha256,
        captured.redacted,
    )  # fmt: skip
    try:
        return marshal.dumps(record, _MARSHAL)
    except ValueError:  # a str or int subclass (multidict's istr, HTTPStatus), a bytearray
        return marshal.dumps(_plain(record), _MARSHAL)


def _plain(value: Any) -> Any:
    """`value` with every str, int, float and bytes-like of a subclass made the plain type."""
    if value is None or type(value) in (str, bytes, int, float, bool):
        return value
    if isinstance(value, tuple | list):
        return tuple(_plain(item) for item in value)
    for plain in (str, int, float):
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise ValueError(f"a journal record cannot hold {type(value).__name__}")


def decode(data: bytes) -> Captured:
    """The captured exchange of a journal payload; `BadRecord` if it is not one."""
    return _captured(_fields(_load(data, None)))


def check(data: bytes) -> None:
    """`BadRecord` unless `decode(data)` would succeed; cheaper, as it builds no objects
    (the writer checks each record it reads and leaves decoding to whoever builds rows)."""
    _fields(_load(data, None))


def _fields(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """The record's fields converted and checked: `_captured` cannot fail on them."""
    try:
        (
            version, id_, session, started_at, duration_ms, method, url, status, reason, error,
            client, proxy_status, sas_verdict, req_headers, req_body, req_size, req_sha,
            resp_headers, resp_body, resp_size, resp_sha, *flags,
        ) = item  # fmt: skip
        return (
            version, str(id_), str(session), float(started_at), float(duration_ms), str(method),
            str(url), status, reason, error, client, proxy_status, sas_verdict,
            _headers(req_headers), bytes(req_body), int(req_size), req_sha,
            None if resp_headers is None else _headers(resp_headers),
            None if resp_headers is None else bytes(resp_body),
            None if resp_headers is None else int(resp_size), resp_sha,
            version >= 2 and flags[0] is True,
        )  # fmt: skip
    except (TypeError, ValueError) as err:
        raise BadRecord(f"not a captured exchange: {err}") from err


def _captured(fields: tuple[Any, ...]) -> Captured:
    (
        _, id_, session, started_at, duration_ms, method, url, status, reason, error, client,
        proxy_status, sas_verdict, req_headers, req_body, req_size, req_sha, resp_headers,
        resp_body, resp_size, resp_sha, redacted,
    ) = fields  # fmt: skip
    response = None if resp_headers is None else Message(headers=resp_headers, body=resp_body)
    exchange = Exchange(
        id=id_, session=session, started_at=started_at, duration_ms=duration_ms,
        method=method, url=url,
        request=Message(headers=req_headers, body=req_body),
        status=status, reason=reason, response=response, error=error, client=client,
        proxy_status=proxy_status, sas_verdict=sas_verdict,
    )  # fmt: skip
    return Captured(
        exchange,
        BodyFacts(req_size, req_sha),
        None if response is None else BodyFacts(resp_size, resp_sha),
        redacted=redacted,
    )


class Lazy(Sequence[Captured]):
    """Checked journal records, decoded into captured exchanges only when one is read."""

    def __init__(self, raw: Sequence[bytes]) -> None:
        self.raw = raw
        self._decoded: dict[int, Captured] = {}

    def __len__(self) -> int:
        return len(self.raw)

    @overload
    def __getitem__(self, index: int) -> Captured: ...
    @overload
    def __getitem__(self, index: slice) -> Lazy: ...
    def __getitem__(self, index: int | slice) -> Captured | Lazy:
        if isinstance(index, slice):
            return Lazy(self.raw[index])
        found = self._decoded.get(index)
        if found is None:
            found = self._decoded[index] = decode(self.raw[index])
        return found


def _headers(pairs: Any) -> tuple[tuple[str, str], ...]:
    if type(pairs) is not tuple:  # marshal gives back exactly what was written
        raise TypeError("headers are not a tuple of pairs")
    return pairs


def _load(data: bytes, size: int | None) -> tuple[Any, ...]:
    """The record's tuple; `size` None: an exchange, whose size its version says."""
    try:
        item = marshal.loads(data)
    except (EOFError, ValueError, TypeError) as err:
        raise BadRecord(f"not a journal record: {err}") from err
    if not isinstance(item, tuple) or not item or item[0] not in _FIELDS:
        raise BadRecord("not a journal record of this hubscope version")
    if len(item) != (size if size is not None else _FIELDS[item[0]]):
        raise BadRecord("not a journal record of this hubscope version")
    return item
