"""Re-decode a database after decoder fixes: decode columns, devices and tags rewritten."""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from proxy import store
from proxy.store import rows


def redecode(
    db: Database,
    session: str | None = None,
    *,
    batch: int = 500,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Decode every stored exchange again (of one session, or all); returns how many.

    `on_batch(n)` is called after each batch of `n` is written (for a progress bar).
    """
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
            done += _write(db, pending, on_batch)
            pending = []
    if pending:
        done += _write(db, pending, on_batch)
    return done


def _write(
    db: Database, pending: list[tuple[str, store.Rows]], on_batch: Callable[[int], None] | None
) -> int:
    store.replace_decoded(db, pending)
    if on_batch is not None:
        on_batch(len(pending))
    return len(pending)
