"""Read a recorded session back as the ordered requests to replay."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from sqlite_utils import Database

from proxy import inflate, store
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


def inflated(message: Message | None) -> tuple[Message | None, str | None]:
    """The message with its body inflated (never past `inflate.LIMIT`), or as it was and
    why not: too large to inflate, an encoding hubscope does not know, corrupt data."""
    if message is None or not message.body:
        return message, None
    encoding = message.header("Content-Encoding")
    if not inflate.codings(encoding):
        return message, None
    result = inflate.inflate(message.body, encoding)
    if not result.complete:
        return message, result.error
    return replace(message, body=result.body), None


def decode(exchange: Exchange) -> Decoded:
    """The exchange classified and both bodies decoded (inflated first when compressed)."""
    request, request_error = inflated(exchange.request)
    response, response_error = inflated(exchange.response)
    decoded = decode_exchange(
        exchange.method, exchange.url, request or exchange.request, exchange.status, response
    )
    if request_error is not None:
        decoded = replace(decoded, request=replace(decoded.request, decode_error=request_error))
    if response_error is not None and decoded.response is not None:
        decoded = replace(decoded, response=replace(decoded.response, decode_error=response_error))
    return decoded


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
