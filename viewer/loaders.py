"""What each page shows, loaded once and rendered twice: as HTML (views) and JSON (api)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web
from sqlite_utils import Database

from proxy import audit
from proxy.rules import RANK, Finding, Severity
from viewer import charts, diff, queries
from viewer import replays as replays_module
from viewer.analysis import Analysis, SessionFindings, analyse
from viewer.bodies import Pretty, pretty
from viewer.curl import as_curl
from viewer.filters import FilterError, Filters, parse, parse_cursor, parse_limit
from viewer.state import badges_key, reader_key, session_findings_key, summaries_key

AUDIT_LIMIT = 20_000
"""Sessions bigger than this are not audited on a page view (use `hubscope audit`)."""


@dataclass(frozen=True, slots=True)
class ListView:
    filters: Filters
    page: queries.Page
    cursor: str | None
    latest: int


async def load_list(request: web.Request) -> ListView:
    try:
        filters = parse(request.query)
        cursor = parse_cursor(request.query.get("cursor"))
        limit = parse_limit(request.query.get("limit"))
    except FilterError as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None
    reader = request.app[reader_key]
    latest = await reader.run(queries.max_rowid)
    try:
        page = await reader.run(queries.list_page, filters, cursor, limit, request.app[badges_key])
    except sqlite3.OperationalError as error:
        raise web.HTTPBadRequest(text=f"query failed: {error}\n") from None
    return ListView(filters, page, request.query.get("cursor"), latest)


@dataclass(frozen=True, slots=True)
class DetailView:
    row: dict[str, Any]
    analysis: Analysis
    devices: list[dict[str, Any]]
    request_body: Pretty
    response_body: Pretty
    header_marks: dict[str, dict[str, list[str]]]
    """Per side: lower-cased header name → rule ids."""
    query_marks: dict[str, list[str]]
    line_marks: dict[str, list[str]]
    curl: str
    session_findings: list[Finding] | None
    """Findings of session rules naming this exchange; None when the session is too big."""

    filters: Filters = field(default_factory=Filters)
    """The list filter the page was opened from (kept in its links)."""

    newer: str | None = None
    older: str | None = None
    replay: dict[str, Any] = field(default_factory=dict)
    """`original` (what this exchange replayed) and `replays` (its replays), with verdicts."""


async def load_detail(request: web.Request) -> DetailView:
    ident = request.match_info["id"]
    filters = _filters(request)
    reader = request.app[reader_key]
    row = await reader.run(queries.exchange_row, ident)
    if row is None:
        raise web.HTTPNotFound(text=f"no exchange {ident}\n")
    view = await reader.run(_detail, row, request.app[session_findings_key])
    newer, older = await reader.run(queries.neighbours, filters, row, request.app[badges_key])
    links = await reader.run(replays_module.links_of, ident)
    return replace(view, filters=filters, newer=newer, older=older, replay=links)


def _filters(request: web.Request) -> Filters:
    try:
        return parse(request.query)
    except FilterError as error:
        raise web.HTTPBadRequest(text=f"{error}\n") from None


def _detail(db: Database, row: dict[str, Any], sessions: SessionFindings) -> DetailView:
    result = analyse(row, db)
    marked = [f for f in result.findings if f.severity != "note"]  # notes are folded
    by_exchange = sessions.of(db, row["session"])
    ex = result.exchange
    response = ex.response
    line_marks = {k: v for k, v in diff.marks(marked).items()
                  if k in ("status", "request-line")}  # fmt: skip
    return DetailView(
        row=row,
        analysis=result,
        devices=queries.devices_of(db, [ex.id]).get(ex.id, []),
        request_body=pretty(
            ex.request.body,
            ex.request.header("Content-Type"),
            diff.body_marks(marked, "request"),
        ),
        response_body=pretty(
            response.body if response else b"",
            response.header("Content-Type") if response else None,
            diff.body_marks(marked, "response"),
        ),
        header_marks={
            side: diff.marks(marked, "header:", side) for side in ("request", "response")
        },
        query_marks=diff.marks(marked, "query:"),
        line_marks=line_marks,
        curl=as_curl(ex),
        session_findings=None if by_exchange is None else sorted(
            by_exchange.get(ex.id, []), key=lambda f: -RANK[f.severity]
        ),
    )


@dataclass(frozen=True, slots=True)
class TimelineView:
    key: str
    value: str
    entries: list[diff.Entry]
    """The shown session's entries (every session's, one after another, side by side)."""

    sessions: list[tuple[str, int]] = field(default_factory=list)
    """Every session the device appears in, oldest first, with its exchange count."""

    shown: list[str] = field(default_factory=list)
    """The sessions shown: one, or several side by side."""

    columns: list[tuple[str, list[diff.Entry]]] = field(default_factory=list)
    waterfall: charts.Chart | None = None


async def load_timeline(request: web.Request) -> TimelineView:
    for key in queries.DEVICE_KEYS:
        value = request.query.get(key, "").strip()
        if value:
            history = await request.app[reader_key].run(queries.timeline, key, value)
            return timeline_view(key, value, history, request.query.getall("session", []))
    raise web.HTTPBadRequest(text="give handle=…, registration_id=… or installation_id=…\n")


def timeline_view(
    key: str, value: str, history: queries.History, wanted: list[str]
) -> TimelineView:
    """Each session's history diffed on its own: state never carries from one run to the next."""
    by_session: dict[str, queries.History] = {}
    for exchange, snapshots in history:
        by_session.setdefault(exchange["session"], []).append((exchange, snapshots))
    names = list(by_session)
    if wanted == ["*"]:
        shown = names
    else:
        shown = [n for n in wanted if n in by_session] or names[-1:]
    columns = [(name, diff.entries(by_session[name])) for name in shown]
    calls = [exchange for name in shown for exchange, _ in by_session[name]]
    return TimelineView(
        key, value, [e for _, entries in columns for e in entries],
        [(n, len(by_session[n])) for n in names], shown, columns, charts.waterfall(calls),
    )


@dataclass(frozen=True, slots=True)
class SessionView:
    counts: dict[str, Any]
    rules: list[tuple[str, Severity, int]]
    groups: list[audit.Group]
    audited: bool
    charts: list[charts.Chart] = field(default_factory=list)
    replay_pairs: list[dict[str, Any]] = field(default_factory=list)
    """For a replay session: each replayed exchange beside its original."""

    replays: list[dict[str, Any]] = field(default_factory=list)
    """For an original session: the replays made of it."""


async def load_session(request: web.Request) -> SessionView:
    name = request.match_info["name"]
    view = await request.app[reader_key].run(_cached_session, name, request.app[summaries_key])
    if view is None:
        raise web.HTTPNotFound(text=f"no session {name}\n")
    return view


def _cached_session(
    db: Database, name: str, cache: dict[tuple[str, Any], Any]
) -> SessionView | None:
    """A session's summary, recomputed only when its newest exchange changes."""
    key = (name, queries.session_version(db, name))
    if key not in cache:
        view = _session(db, name)
        if view is None:
            return None
        if len(cache) > 32:
            cache.clear()
        cache[key] = view
    found: SessionView = cache[key]
    return found


def _session(db: Database, name: str) -> SessionView | None:
    counts = queries.session_counts(db, name)
    if counts is None:
        return None
    pairs, replays = replays_module.replay_pairs(db, name), replays_module.replays_of(db, name)
    pictures = [charts.status_mix(db, name), charts.latency(db, name)]
    if counts["total"] > AUDIT_LIMIT:
        return SessionView(counts, [], [], audited=False, charts=pictures, replay_pairs=pairs,
                           replays=replays)  # fmt: skip
    report = audit.run(db, name)
    by_rule: Counter[tuple[str, Severity]] = Counter()
    for (_, rule), bucket in report.buckets.items():
        by_rule[(rule, bucket.first.severity)] += bucket.count
    rules = sorted(((rule, severity, n) for (rule, severity), n in by_rule.items()),
                   key=lambda r: (-RANK[r[1]], -r[2], r[0]))  # fmt: skip
    groups = sorted(audit.groups(report), key=lambda g: (-RANK[g.severity], -g.count, g.rule))
    return SessionView(counts, rules, groups, audited=True, charts=pictures, replay_pairs=pairs,
                       replays=replays)  # fmt: skip
