"""Read a recorded session back as the ordered requests to replay."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from sqlite_utils import Database

from proxy import store
from proxy.decode import decode_exchange
from proxy.exchange import Exchange, Message
from proxy.model import Decoded, Op


class SessionNotFound(LookupError):
    """The session named on the command line is not in the database."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """One original exchange, decoded, with its position in the session."""

    index: int
    """1-based position in the session, as reports and dry runs number it."""

    exchange: Exchange
    decoded: Decoded
    request_truncated: bool = False
    """The stored request body was cut at the body cap: it cannot be re-sent faithfully."""

    response_truncated: bool = False
    """The stored response body was cut: only the status can be compared."""

    @property
    def op(self) -> Op:
        return self.decoded.operation.name

    @property
    def hub(self) -> str | None:
        return self.decoded.operation.hub


def plain(message: Message | None) -> Message | None:
    """The message with a gzip or deflate body inflated, so it can be decoded."""
    if message is None or not message.body:
        return message
    encoding = (message.header("Content-Encoding") or "").strip().lower()
    if encoding not in ("gzip", "deflate"):
        return message
    try:
        body = zlib.decompress(message.body, 47 if encoding == "gzip" else 15)
    except zlib.error:
        return message
    return replace(message, body=body)


def decode(exchange: Exchange) -> Decoded:
    """The exchange classified and both bodies decoded (inflated first when compressed)."""
    request = plain(exchange.request) or exchange.request
    return decode_exchange(
        exchange.method, exchange.url, request, exchange.status, plain(exchange.response)
    )


def load_session(db: Database, session: str, *, only: Iterable[str] = ()) -> list[Recorded]:
    """The session's exchanges in original order, optionally only some operations."""
    if not db.table("sessions").exists() or not list(
        db.query("select name from sessions where name = ?", [session])
    ):
        raise SessionNotFound(f"no session named {session!r} in the database")
    wanted = {name.lower() for name in only}
    out: list[Recorded] = []
    for position, row in enumerate(store.iter_exchange_rows(db, session), start=1):
        exchange = store.exchange_from_row(row)
        decoded = decode(exchange)
        if wanted and str(decoded.operation.name) not in wanted:
            continue
        out.append(
            Recorded(
                index=position,
                exchange=exchange,
                decoded=decoded,
                request_truncated=bool(row.get("request_truncated")),
                response_truncated=bool(row.get("response_truncated")),
            )
        )
    return out


def source_hub(recorded: list[Recorded]) -> str | None:
    """The hub the original session talked to: the first path segment of its first call."""
    for item in recorded:
        segments = [s for s in urlsplit(item.exchange.url).path.split("/") if s]
        if segments:
            return unquote(segments[0])
    return None
