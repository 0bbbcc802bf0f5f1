"""Resend one recorded call: re-signed, optionally edited, recorded and compared.

The request goes to the target as `hubscope replay` would send it (same remapping, a
fresh token in the client's `sr` shape); the answer is recorded as a new exchange in the
session `resend-of-{original session}` (kind `replay`), linked to the original in
`replay_links` and compared by meaning, plus what the edit changed in the request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import aiohttp
from sqlite_utils import Database

from proxy import store
from proxy.exchange import Exchange, Message
from proxy.recording.recorder import Recorder
from proxy.replay.compare import Comparison, Difference, compare, record_diff
from proxy.replay.load import Recorded, decode
from proxy.replay.remap import AUTHORIZATION, Remapper
from proxy.replay.run import Outcome, Prepared, prepare, send, write_links
from proxy.signing import Signer, shape_of
from proxy.store.location import Location
from proxy.store.read import AmbiguousExchangeId, exchange_row


class ExchangeNotFound(LookupError):
    """No exchange with that id (or start or end of one) in the database."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Resent:
    """What was sent, what came back, and how it compares with the original."""

    original: Recorded
    sent: Prepared
    exchange: Exchange
    session: str
    comparison: Comparison


def load_exchange(db: Database, ident: str) -> Recorded:
    """The recorded exchange with this id, or the only one whose id starts or ends with it."""
    try:
        row = exchange_row(db, ident)
    except AmbiguousExchangeId as error:
        raise ExchangeNotFound(str(error)) from None
    if row is None:
        raise ExchangeNotFound(f"no exchange {ident.strip()!r} in the database")
    exchange = store.exchange_from_row(row)
    return Recorded(
        index=1,
        exchange=exchange,
        decoded=decode(exchange),
        request_truncated=bool(row.get("request_truncated")),
        response_truncated=bool(row.get("response_truncated")),
    )


def signed(item: Recorded, target: str, signer: Signer) -> Prepared:
    """The recorded request for `target`, hop-by-hop headers out, a fresh token in."""
    return prepare(Remapper(target=target.rstrip("/")), signer, item, dry_run=False)


def edit_text(sent: Prepared) -> str:
    """The request as text to edit: request line, headers, blank line, body.

    The token is left out: it is signed again for whatever URL the edit ends with.
    """
    lines = [f"{sent.method} {sent.url}"]
    lines += [f"{k}: {v}" for k, v in sent.headers if k.lower() != AUTHORIZATION.lower()]
    return "\n".join(lines) + "\n\n" + sent.body.decode("utf-8")


class EditError(ValueError):
    """The edited text is not a request."""


def apply_edit(text: str, item: Recorded, signer: Signer) -> Prepared:
    """The request the edited text describes, signed for its (possibly new) URL."""
    head, _, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = [line for line in head.split("\n") if line.strip()]
    if not lines:
        raise EditError("the edited request is empty: nothing sent")
    method, _, url = lines[0].strip().partition(" ")
    url = url.strip()
    if not method.isalpha() or not url.startswith(("http://", "https://")):
        raise EditError("the first line must be METHOD URL (an http:// or https:// URL)")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise EditError(f"not a header line (Name: value): {line!r}")
        headers.append((name.strip(), value.strip()))
    authorization = item.exchange.request.header(AUTHORIZATION)
    if authorization is not None:
        token = signer.token(shape_of(authorization, item.exchange.url), url)
        headers.insert(_auth_position(item), (AUTHORIZATION, token))
    return Prepared(method=method.upper(), url=url, headers=tuple(headers), body=body.encode())


def _auth_position(item: Recorded) -> int:
    names = [k.lower() for k, _ in item.exchange.request.headers if k.lower() != "host"]
    return names.index(AUTHORIZATION.lower()) if AUTHORIZATION.lower() in names else 0


def request_changes(item: Recorded, sent: Prepared) -> list[Difference]:
    """What an edit changed in the request's meaning: its records, method and path."""
    now = decode(
        replace(
            item.exchange,
            method=sent.method,
            url=sent.url,
            request=Message(headers=sent.headers, body=sent.body),
        )
    )
    diffs: list[Difference] = []
    if sent.method != item.exchange.method:
        diffs.append(Difference("request.method", item.exchange.method, sent.method))
    was, new = item.decoded.request.devices, now.request.devices
    if len(was) != len(new):
        diffs.append(Difference("request.records", str(len(was)), str(len(new))))
    for position, (a, b) in enumerate(zip(was, new, strict=False)):
        diffs += [
            replace(d, field=f"request.{d.field}") for d in record_diff(f"record[{position}]", a, b)
        ]
    return diffs


def session_for(original: str) -> str:
    return f"resend-of-{original}"


async def resend(
    db_path: Location, item: Recorded, sent: Prepared, signer: Signer, *, timeout: float = 60.0
) -> Resent:
    """Send, record the answer as a new exchange, link it to the original, compare."""
    session = session_for(item.exchange.session)
    target = sent.url.split("/", 3)
    upstream = "/".join(target[:3])
    db = store.connect(db_path)
    try:
        store.ensure_session(
            db,
            session,
            kind="replay",
            upstream=upstream,
            replay_of=item.exchange.session,
            note="single calls re-sent with hubscope resend",
        )
    finally:
        db.conn.close()
    recorder = Recorder(db_path, session=session, upstream=upstream, keys=signer.keys())
    recorder.start(kind="replay", replay_of=item.exchange.session)
    try:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with aiohttp.ClientSession(auto_decompress=False, timeout=client_timeout) as http:
            exchange = await send(http, sent, session)
        recorder.submit(exchange)
    finally:
        recorder.close()
    comparison = judge(item, sent, exchange)
    outcome = Outcome(
        recorded=item,
        sent=sent,
        replay_id=exchange.id,
        status=exchange.status,
        comparison=comparison,
    )
    write_links(db_path, [outcome])
    return Resent(
        original=item, sent=sent, exchange=exchange, session=session, comparison=comparison
    )


def judge(item: Recorded, sent: Prepared, exchange: Exchange) -> Comparison:
    """The replay comparison of the answers, with the request's own changes first."""
    changes = request_changes(item, sent)
    if exchange.status is None:
        failed = Difference("status", str(item.exchange.status), f"failed ({exchange.error})")
        return Comparison(verdict="failed", differences=(*changes, failed))
    answer = compare(
        item.op,
        (item.exchange.status, item.decoded),
        (exchange.status, decode(exchange)),
        {},
        bodies=not item.response_truncated,
    )
    differences = (*changes, *answer.differences)
    return Comparison(
        verdict="different" if differences else "same",
        differences=differences,
        notes=answer.notes,
    )
