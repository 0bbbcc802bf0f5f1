"""The schema on PostgreSQL: one migration per SQLite migration in `proxy/store/schema.py`.

Each entry has the SQLite migration's name and does what it does, in PostgreSQL's
words; a new SQLite migration gets its twin appended here under the same name (a test
checks both lists name the same migrations, in order). What only PostgreSQL needs (its
planner's statistics) is a migration of its own named `pg_…`, after the twins that
existed when it was written; the twin test skips those. Applied names are kept in
`_hubscope_migrations`; proxies starting at once serialise on an advisory lock, and
each migration commits with its name, so a crash half way leaves nothing half done.

`exchanges.rowid` stands in for SQLite's implicit rowid (the viewer pages and follows
new rows by it); it is never copied between stores. Types: text for SQLite's str,
double precision for float, bigint for int, bytea for bytes. As on SQLite, where
sqlite-utils declares foreign keys that SQLite does not enforce, no foreign key is
enforced: an exchange must never be refused because the row it points at was not
written first.
"""

from __future__ import annotations

from typing import Any

import psycopg

from proxy.store.pg.db import PgDatabase
from proxy.store.pg.dialect import translate
from proxy.store.pg.url import scrub
from proxy.store.schema import SEARCH_TEXT

_SEARCH = translate(SEARCH_TEXT.format(p="")).replace("%%", "%")
"""What search reads of a row, as the viewer's query spells it (the index must match)."""

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "m001_sessions_and_exchanges",
        (
            """create table sessions (
                name text primary key, started_at double precision, kind text,
                upstream text, replay_of text, note text)""",
            """create table exchanges (
                rowid bigint generated always as identity unique,
                id text primary key, session text, started_at double precision,
                duration_ms double precision, method text, url text, host text, path text,
                query text, client text, request_headers text, request_body bytea,
                request_body_size bigint, request_body_sha256 text, request_truncated bigint,
                status bigint, reason text, response_headers text, response_body bytea,
                response_body_size bigint, response_body_sha256 text,
                response_truncated bigint, error text, proxy_status bigint, sas_verdict text)""",
            "create index idx_exchanges_session_started_at on exchanges (session, started_at)",
            "create index idx_exchanges_started_at_id on exchanges (started_at, id)",
        ),
    ),
    (
        "m002_decoded",
        (
            """alter table exchanges add column operation text, add column hub text,
                add column resource_id text, add column api_version text,
                add column request_format text, add column request_decode_error text,
                add column response_format text, add column response_decode_error text,
                add column error_code text, add column error_detail text,
                add column tracking_id text, add column patch text""",
            "create index idx_exchanges_operation on exchanges (operation)",
            """create table devices (
                id text primary key, exchange_id text, direction text, position bigint,
                kind text, source_type text, platform text, handle text,
                registration_id text, installation_id text, user_id text, tags text,
                expiration text, etag text, push_variables text, push_channel_expired bigint,
                template_name text, template_body text, templates text, extra text,
                elements text)""",
            *(
                f"create index idx_devices_{column} on devices ({column})"
                for column in (
                    "exchange_id",
                    "handle",
                    "registration_id",
                    "installation_id",
                    "platform",
                )
            ),  # fmt: skip
            """create table device_tags (
                device_id text, exchange_id text, tag text, primary key (device_id, tag))""",
            "create index idx_device_tags_tag on device_tags (tag)",
        ),
    ),
    (
        "m003_viewer_indexes",
        (
            "create index if not exists idx_exchanges_resource_id on exchanges (resource_id)",
            "create index if not exists idx_exchanges_operation_started_at "
            "on exchanges (operation, started_at)",
        ),
    ),
    (
        "m004_replay_links",
        (
            """create table if not exists replay_links (
                replay_exchange_id text primary key, original_exchange_id text,
                verdict text, diff text)""",
            "create index if not exists idx_replay_links_original_exchange_id "
            "on replay_links (original_exchange_id)",
        ),
    ),
    ("m005_decode_notes", ("alter table exchanges add column decode_notes text",)),
    (
        "m006_search_index",
        (
            "create index if not exists idx_exchanges_status on exchanges (status)",
            "create index if not exists idx_exchanges_error_code on exchanges (error_code)",
            "create index if not exists idx_exchanges_session_summary "
            "on exchanges (session, started_at, status, duration_ms, operation)",
            "drop index if exists idx_exchanges_session_started_at",
            # Search reads bodies as text: SQLite's cast(blob as text) takes the bytes as
            # UTF-8; here invalid UTF-8 (and NUL) falls back to escapes, ASCII intact.
            """create or replace function hubscope_text(body bytea) returns text
                language plpgsql immutable strict as $$
                begin
                    return convert_from(body, 'UTF8');
                exception when others then
                    return encode(body, 'escape');
                end $$""",
            """create or replace function hubscope_text(value text) returns text
                language sql immutable strict as $$ select value $$""",
            """create or replace function hubscope_text(value bigint) returns text
                language sql immutable strict as $$ select value::text $$""",
            """create or replace function hubscope_text(value double precision) returns text
                language sql immutable strict as $$ select value::text $$""",
            # The viewer counts with sum(test): SQLite's tests are 0/1 integers.
            """create or replace function hubscope_count_true(total bigint, test boolean)
                returns bigint language sql immutable as
                $$ select case when test is null then total
                    else coalesce(total, 0) + test::int end $$""",
            "create aggregate sum(boolean) (sfunc = hubscope_count_true, stype = bigint)",
            # Substring search: instr(text, term) > 0 becomes text LIKE '%term%' (dialect.py),
            # which a pg_trgm index answers; without the extension search reads rows.
            """create or replace function hubscope_like(term text) returns text
                language sql immutable strict as
                $$ select replace(replace(replace(term, '\\', '\\\\'), '%', '\\%'),
                    '_', '\\_') $$""",
            """do $$ begin
                create extension if not exists pg_trgm;
            exception when others then
                raise notice 'pg_trgm is not available (%): search reads rows', sqlerrm;
            end $$""",
            f"""do $$ begin
                if exists (select 1 from pg_extension where extname = 'pg_trgm') then
                    execute 'create index if not exists idx_exchanges_search on exchanges
                        using gin ((lower({_SEARCH.replace("'", "''")})) gin_trgm_ops)';
                end if;
            end $$""",
            # The live list listens instead of polling (proxy/store/pg/listen.py).
            """create or replace function hubscope_notify() returns trigger
                language plpgsql as $$
                begin perform pg_notify('hubscope_exchanges', ''); return null; end $$""",
            """create trigger exchanges_notify after insert on exchanges
                for each statement execute function hubscope_notify()""",
        ),
    ),
    (
        "m007_journal_progress",
        (
            """create table if not exists journal_progress (
                segment text primary key, position bigint, updated_at double precision)""",
        ),
    ),
    (
        "m008_findings",
        (
            """create table if not exists findings (
                exchange_id text not null, position bigint not null, rule text not null,
                severity text not null, actual text, pointer text, expected text, spec text,
                source text, primary key (exchange_id, position))""",
            "create index if not exists idx_findings_rule on findings (rule, exchange_id)",
            "create index if not exists idx_findings_severity on findings (severity, exchange_id)",
            """create table if not exists findings_judged (
                exchange_id text primary key, ruleset text not null)""",
        ),
    ),
    (
        "m010_instance",
        (
            "alter table exchanges add column if not exists instance text",
            "create index if not exists idx_exchanges_instance on exchanges (instance)",
        ),
    ),
    (
        "pg_tags_statistics",
        (
            # The viewer tests a tag as `',' || d.tags || ','` against a pattern. Without
            # statistics on that expression PostgreSQL guesses from the pattern's length
            # (113 rows of 1.1 million for `lang:fr`), hashes every match first and takes
            # 6 s on 1,000,000 exchanges; with them it walks the time index: 9 ms.
            # (Statistics on an expression need PostgreSQL 14; older servers go without.)
            """do $$ begin
                execute 'create statistics if not exists devices_tags_listed
                    on (('','' || tags || '','')) from devices';
                execute 'analyze devices';
            exception when others then
                raise notice 'no statistics on the tag list (%)', sqlerrm;
            end $$""",
        ),
    ),
]
"""(name, statements), in order: the twins of `proxy.store.schema.migrations`."""

LEDGER = "_hubscope_migrations"
"""The table that names the migrations applied: a database holding it is hubscope's."""
_LOCK = 0x6875627363  # "hubsc": one advisory lock for hubscope's migrations
_LEDGER = """create table if not exists _hubscope_migrations (
    name text primary key, applied_at timestamptz not null default now())"""


def applied(conn: psycopg.Connection[Any]) -> list[str]:
    """The names of the migrations this database has, in the order they were applied."""
    exists = conn.execute("select to_regclass('_hubscope_migrations') is not null").fetchone()
    if not exists or not exists[0]:
        return []
    return [
        str(row[0])
        for row in conn.execute("select name from _hubscope_migrations order by applied_at, name")
    ]


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply the migrations this database lacks, each in its own transaction; their names."""
    done: list[str] = []
    for name, statements in MIGRATIONS:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(%s)", [_LOCK])
            conn.execute(_LEDGER)
            if conn.execute(
                "select 1 from _hubscope_migrations where name = %s", [name]
            ).fetchone():
                continue
            for statement in statements:
                conn.execute(statement)
            conn.execute("insert into _hubscope_migrations (name) values (%s)", [name])
            done.append(name)
    return done


class NotReachable(psycopg.OperationalError):
    """The server did not answer, or refused the connection (message without the password)."""


def open_connection(
    url: str, *, readonly: bool = False, timeout: float = 10.0
) -> psycopg.Connection[Any]:
    """A connection in autocommit mode (writers open transactions explicitly)."""
    try:
        conn = psycopg.connect(
            url, autocommit=True, connect_timeout=max(1, int(timeout)), prepare_threshold=None
        )  # never prepared: each query is planned with its values, so LIKE uses pg_trgm
    except psycopg.OperationalError as error:
        raise NotReachable(scrub(str(error), url)) from None
    # hubscope's queries are short and stop at a LIMIT, but a filter's subqueries make
    # their estimated cost look large: JIT then compiles for ~0.5 s a query that runs in
    # 40 ms (bench/pg_viewer.py, docs/benchmarks.md). It never pays here.
    conn.execute("set jit = off")
    if readonly:
        conn.execute("set default_transaction_read_only = on")
    return conn


def close_quietly(conn: psycopg.Connection[Any] | None) -> None:
    """Close a connection that may already be broken (a server gone, a reset socket): the
    caller is dropping it to open another later, so an error closing it changes nothing."""
    if conn is None:
        return
    try:
        conn.close()
    except psycopg.Error:
        pass


def connect(url: str, *, readonly: bool = False) -> PgDatabase:
    """Open a hubscope database on PostgreSQL; a writer also migrates it.

    A reader is refused (NotAHubscopeDatabase) when the database has no hubscope tables.
    """
    from proxy.store.schema import NotAHubscopeDatabase

    conn = open_connection(url, readonly=readonly)
    try:
        if readonly:
            if "m001_sessions_and_exchanges" not in applied(conn):
                raise NotAHubscopeDatabase(
                    f"{scrub(url, url)} is not a hubscope database (no hubscope tables; "
                    "`hubscope proxy` or `hubscope push` creates them)"
                )
        else:
            migrate(conn)
    except BaseException:
        conn.close()
        raise
    return PgDatabase(conn, url)
