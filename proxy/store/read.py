"""Reading: exchange rows back into records, in time order and in pages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlite_utils import Database

from proxy.exchange import Exchange, Message

_encode = json.JSONEncoder(ensure_ascii=False).encode


def headers_to_text(headers: Iterable[tuple[str, str]]) -> str:
    return _encode([list(pair) for pair in headers])


def headers_from_text(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    return tuple((str(k), str(v)) for k, v in json.loads(text))


def exchange_from_row(row: dict[str, Any]) -> Exchange:
    """The recorded (redacted, possibly truncated) exchange of a row."""
    response = None
    if row.get("status") is not None or row.get("response_headers"):
        response = Message(
            headers=headers_from_text(row.get("response_headers")),
            body=row.get("response_body") or b"",
        )
    return Exchange(
        id=row["id"],
        session=row["session"],
        started_at=row["started_at"],
        duration_ms=row["duration_ms"] or 0.0,
        method=row["method"],
        url=row["url"],
        request=Message(
            headers=headers_from_text(row.get("request_headers")),
            body=row.get("request_body") or b"",
        ),
        status=row.get("status"),
        reason=row.get("reason"),
        response=response,
        error=row.get("error"),
        client=row.get("client"),
        proxy_status=row.get("proxy_status"),
        sas_verdict=row.get("sas_verdict"),
    )


class AmbiguousExchangeId(LookupError):
    """More than one exchange id starts (or ends) with the part given."""


def exchange_row(db: Database, ident: str, *, shortest_prefix: int = 6) -> dict[str, Any] | None:
    """The row of the exchange with this id, or of the only one whose id starts with it, or
    else ends with it (at least `shortest_prefix` characters); None when there is none.
    Ids are UUIDv7: their start is the time, shared by exchanges made together, and their
    end is random, so the end tells them apart (the viewer's short ids show both)."""
    ident = ident.strip()
    rows = list(db.query("select * from exchanges where id = ?", [ident]))
    if rows or len(ident) < shortest_prefix:
        return rows[0] if rows else None
    part = ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    for pattern in (f"{part}%", f"%{part}"):
        # ids alone: the scan reads an index, not every row with its bodies
        ids = db.execute("select id from exchanges where id like ? escape '\\' limit 2", [pattern])
        found = [one for (one,) in ids.fetchall()]
        if len(found) > 1:
            raise AmbiguousExchangeId(f"more than one exchange id starts or ends with {ident!r}")
        if found:
            return next(db.query("select * from exchanges where id = ?", found))
    return None


def iter_exchange_rows(
    db: Database, session: str | None = None, *, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Every exchange row in time order, optionally of one session, read in pages."""
    where = "where session = :session" if session is not None else ""
    last_started, last_id = -1.0, ""
    while True:
        page = list(
            db.query(
                f"select * from exchanges {where} {'and' if where else 'where'} "
                "(started_at, id) > (:started, :id) order by started_at, id limit :limit",
                {"session": session, "started": last_started, "id": last_id, "limit": batch},
            )
        )
        if not page:
            return
        yield from page
        last_started, last_id = page[-1]["started_at"], page[-1]["id"]
