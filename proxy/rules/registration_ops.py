"""Rules of the bodiless registration operations: registration IDs, read, delete, If-Match."""

from __future__ import annotations

import re
from collections.abc import Iterator

from proxy.model import Op
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SPEC = "spec/nh-rest-api.md"
IF_MATCH = re.compile(r'^(\*|(W/)?"[^"]*"|\d+)$')


@rule(
    "registration-id.no-body",
    severity="warning",
    spec="Request body: None.",
    source="seeds/create-registration-id.md#request-body",
    expected="an empty body",
    applies=lambda ctx: ctx.op is Op.CREATE_REGISTRATION_ID,
    ops={Op.CREATE_REGISTRATION_ID},
)
def _no_body(ctx: Ctx) -> Iterator[Breach]:
    size = len(ctx.exchange.request.body.strip())
    if size:
        yield Breach(actual=f"a {size}-byte body (ignored)", pointer="body")


@rule(
    "registration.if-match-format",
    severity="warning",
    spec='Formats seen: `W/"3"` ([DOC] sample, [Java]), `"3"` ([.NET], [JS]), `*` (all, '
    "when no ETag known).",
    source=f"{SPEC} §3.4",
    expected='If-Match of *, "n" or W/"n"',
    applies=lambda ctx: (
        ctx.op in (Op.UPDATE_REGISTRATION, Op.DELETE_REGISTRATION)
        and ctx.header("If-Match") is not None
    ),
    ops={Op.UPDATE_REGISTRATION, Op.DELETE_REGISTRATION},
)
def _if_match_format(ctx: Ctx) -> Iterator[Breach]:
    value = (ctx.header("If-Match") or "").strip()
    if not IF_MATCH.match(value):
        yield Breach(actual=f"If-Match {value[:60]!r}", pointer="header:If-Match")


@rule(
    "registration.delete-if-match",
    severity="warning",
    spec="Headers: Authorization, `If-Match: {etag}` or `*`. [DOC] lists If-Match; every SDK "
    "always sends it (`*` by default).",
    source=f"{SPEC} §3.6",
    expected="If-Match: {etag} or *",
    applies=lambda ctx: ctx.op is Op.DELETE_REGISTRATION,
    ops={Op.DELETE_REGISTRATION},
)
def _delete_if_match(ctx: Ctx) -> Iterator[Breach]:
    if ctx.header("If-Match") is None:
        yield Breach(actual="no If-Match header", pointer="header:If-Match")


@rule(
    "registration.read-if-match",
    severity="warning",
    spec="a beta-SDK bug: the delete was sent as GET with `If-Match: *`",
    source="corpus/real-traffic/SOURCES.md (azure-sdk-for-js getregistration recording)",
    expected="a GET without If-Match (a DELETE sent as GET reads instead of deleting)",
    applies=lambda ctx: ctx.op is Op.READ_REGISTRATION,
    ops={Op.READ_REGISTRATION},
)
def _read_if_match(ctx: Ctx) -> Iterator[Breach]:
    value = ctx.header("If-Match")
    if value is not None:
        yield Breach(actual=f"GET with If-Match {value[:40]!r}", pointer="header:If-Match")
