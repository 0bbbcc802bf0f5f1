"""Many new rows at once: COPY into a table, its secondary indexes built once afterwards.

Filling a large store (a million exchanges for `bench/pg_viewer.py`, a move from another
tool) row by row costs a round trip per row and an index update per row and index, the
trigram search index dearest of all. `copy_rows` streams a batch in one COPY statement;
`indexes_set_aside` drops a table's indexes other than its keys while it fills and
creates them again from their own definitions once, then analyzes the tables. COPY has
no `ON CONFLICT`: the rows must be new (`write.insert_many` is the idempotent path).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from proxy.store.pg.write import clean


def copy_rows(conn: psycopg.Connection[Any], table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Append `rows` (all new) to `table` with one COPY; a column a row lacks is NULL."""
    if not rows:
        return 0
    columns = list(dict.fromkeys(column for row in rows for column in row))
    names = ", ".join(f'"{column}"' for column in columns)
    with conn.cursor() as cursor, cursor.copy(f'copy "{table}" ({names}) from stdin') as copy:
        for row in rows:
            copy.write_row(clean(tuple(row.get(column) for column in columns)))
    return len(rows)


@contextmanager
def indexes_set_aside(
    conn: psycopg.Connection[Any], tables: Sequence[str], *, work_mem: str = "1GB"
) -> Iterator[list[str]]:
    """Drop the secondary indexes of `tables` (their names are yielded) and create them
    again on the way out — also after an error — with `work_mem` to build them in."""
    found = conn.execute(
        "select indexname, indexdef from pg_indexes where schemaname = current_schema() "
        "and tablename = any(%s) and indexname not in (select conname from pg_constraint) "
        "order by indexname",
        [list(tables)],
    ).fetchall()
    for name, _ in found:
        conn.execute(f'drop index "{name}"')
    try:
        yield [str(name) for name, _ in found]
    finally:
        conn.execute(f"set maintenance_work_mem = '{work_mem}'")
        for _, definition in found:
            conn.execute(definition)
        conn.execute("reset maintenance_work_mem")
        conn.execute("analyze " + ", ".join(f'"{table}"' for table in tables))
