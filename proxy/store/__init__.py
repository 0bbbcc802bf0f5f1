"""The store: the SQLite schema, and rows to and from records.

The one place the core writes SQL and names tables. Readers open it read-only; one writer
writes. May import the vocabulary (`proxy.exchange`, `proxy.model`, `proxy.sas`,
`proxy.redact`) and `proxy.decode`; nothing above it.
"""

from proxy.store.read import (
    exchange_from_row,
    headers_from_text,
    headers_to_text,
    iter_exchange_rows,
)
from proxy.store.schema import (
    BUSY_TIMEOUT_MS,
    NotAHubscopeDatabase,
    check,
    connect,
    is_hubscope,
    migrations,
    sqlite_tables,
)
from proxy.store.write import (
    BatchResult,
    Failure,
    Rows,
    classify,
    ensure_session,
    forget_segments,
    insert_many,
    journal_positions,
    merge,
    replace_decoded,
    write_batch,
    write_rows,
    write_transaction,
)

__all__ = [
    "BUSY_TIMEOUT_MS",
    "BatchResult",
    "Failure",
    "NotAHubscopeDatabase",
    "Rows",
    "check",
    "classify",
    "forget_segments",
    "journal_positions",
    "merge",
    "write_batch",
    "connect",
    "ensure_session",
    "exchange_from_row",
    "headers_from_text",
    "headers_to_text",
    "insert_many",
    "is_hubscope",
    "iter_exchange_rows",
    "migrations",
    "replace_decoded",
    "sqlite_tables",
    "write_rows",
    "write_transaction",
]
