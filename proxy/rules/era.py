"""Judging traffic by the era it comes from: the service's own answer is evidence.

The REST API was in preview in 2013: clients sent no `api-version`, or 2012-08, 2013-04
or 2013-07, authenticated with ACS (`WRAP`) tokens, and knew no `x-ms-version` header
(the docs list it from 2015-01). Recorded traffic of that era is not wrong for missing
what came later, and an answer the service gave tells what it accepted: a 2xx means it
took the call as sent, any client error but 401/403/429 means it got past
authentication. Recordings made by tools that drop the token (`Authorization:
Sanitized` in Azure SDK test-proxy files) cannot be judged on it at all.
"""

from __future__ import annotations

from proxy.rules.context import Ctx

PREVIEW_VERSIONS = frozenset({"2012-08", "2013-04", "2013-07"})
"""api-versions of the 2013 preview the service answered (azure-sdk-for-node recordings)."""

PREVIEW_ENDS = 1_388_534_400.0
"""2014-01-01 UTC: calls older than this (by their recorded time) belong to the preview,
when the service took calls without an api-version (azure-sdk-for-node, February 2013)."""

DOCUMENTED_FROM = "2015-01"
"""The api-version of the first reference pages (the seeds): `x-ms-version` starts there."""

PLACEHOLDERS = frozenset({"sanitized", "redacted", "[redacted]", "removed", "***"})
"""What recording tools put where the token was (the Azure SDK test proxy: `Sanitized`)."""

NOT_AUTHENTICATED = frozenset({401, 403, 429})


def accepted(ctx: Ctx) -> bool:
    """The service answered 2xx: it took the call as sent."""
    return ctx.succeeded


def authenticated(ctx: Ctx) -> bool:
    """The service's answer shows the caller got past authentication (2xx, or 4xx but these)."""
    status = ctx.status
    if status is None:
        return False
    return 200 <= status < 300 or (400 <= status < 500 and status not in NOT_AUTHENTICATED)


def token_removed(ctx: Ctx) -> bool:
    """The recording replaced the Authorization value with a placeholder."""
    value = ctx.header("Authorization")
    return value is not None and value.strip().lower() in PLACEHOLDERS


def preview(ctx: Ctx) -> bool:
    """The call was made during the 2013 preview, by its recorded time."""
    return ctx.exchange.started_at < PREVIEW_ENDS


def before_docs(ctx: Ctx) -> bool:
    """Traffic older than the documented API: an api-version before 2015-01, or a preview call."""
    version = (ctx.decoded.operation.api_version or "").strip()
    return (bool(version) and version < DOCUMENTED_FROM) or (not version and preview(ctx))


def describe(ctx: Ctx) -> str:
    """`answered 201` — the evidence, as findings quote it."""
    return f"the service answered {ctx.status}"
