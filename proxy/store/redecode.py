"""Re-decode a database after decoder fixes: decode columns, devices and tags rewritten."""

from __future__ import annotations

from sqlite_utils import Database

from proxy import store
from proxy.store import rows


def redecode(db: Database, session: str | None = None, *, batch: int = 500) -> int:
    """Decode every stored exchange again (of one session, or all); returns how many."""
    done = 0
    pending: list[tuple[str, store.Rows]] = []
    for row in store.iter_exchange_rows(db, session):
        exchange = store.exchange_from_row(row)
        decoded = rows.decode(exchange)
        out = store.Rows(exchanges=[], devices=[], device_tags=[])
        if decoded is not None:
            out.exchanges.append({"id": exchange.id, **rows.decoded_columns(decoded)})
            rows.add_device_rows(out, exchange.id, decoded)
        pending.append((exchange.id, out))
        if len(pending) >= batch:
            store.replace_decoded(db, pending)
            done += len(pending)
            pending = []
    if pending:
        store.replace_decoded(db, pending)
        done += len(pending)
    return done
