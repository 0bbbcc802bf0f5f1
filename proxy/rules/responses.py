"""Response rules: documented status codes and headers, with the docs-vs-service split as notes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from proxy.model import Op
from proxy.rules.context import Ctx, media_type
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SPEC = "spec/nh-rest-api.md"
ATOM = "application/atom+xml"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Expect:
    """What the docs promise for one operation, and what the real service was seen to do."""

    documented: frozenset[int]
    success: int | None
    observed: frozenset[int] = frozenset()
    content_type: str | None = None
    source: str = f"{SPEC} §14"
    sentence: str = "Status-code expectations: docs vs reality (summary table)"


def _e(doc: set[int], success: int | None, seen: frozenset[int] | set[int] = frozenset(),
       **kw: str) -> Expect:  # fmt: skip
    return Expect(frozenset(doc), success, frozenset(seen), **kw)


SEED = "seeds/{}.md#response-codes"
EXPECT: dict[Op, Expect] = {
    Op.CREATE_REGISTRATION: _e({201, 400, 401, 403}, 201, {200}, content_type=ATOM,
        source=SEED.format("create-registration"),
        sentence="201 | Registration created successfully."),
    Op.CREATE_REGISTRATION_ID: _e({201, 400, 401, 403}, 201, content_type=ATOM,
        source=SEED.format("create-registration-id"),
        sentence="201 | Registration created successfully."),
    Op.CREATE_OR_UPDATE_REGISTRATION: _e({201, 400, 401, 403, 404, 409, 410}, 201, {200},
        content_type=ATOM, source=SEED.format("create-or-update-registration"),
        sentence="201 | Registration updated successfully."),
    Op.UPDATE_REGISTRATION: _e({201, 400, 401, 403, 404, 409}, 201, {200, 412},
        content_type=ATOM),
    Op.READ_REGISTRATION: _e({201, 401, 403}, 201, {200, 404}, content_type=ATOM),
    Op.DELETE_REGISTRATION: _e({200, 400, 401, 403, 404, 412}, 200),
    Op.LIST_REGISTRATIONS: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM),
    Op.LIST_REGISTRATIONS_BY_TAG: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM),
    Op.LIST_REGISTRATIONS_BY_CHANNEL: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM),
    Op.CREATE_OR_OVERWRITE_INSTALLATION: _e({200, 400, 401, 403}, 200, content_type=JSON,
        source=SEED.format("create-or-overwrite-installation"),
        sentence="200 | The installation was queued successfully and will be processed in the "
        "background.."),
    Op.READ_INSTALLATION: _e({200, 400, 401, 403, 404}, 200, content_type=JSON),
    Op.PATCH_INSTALLATION: _e({204, 400, 401, 403}, 204, {200, 404}, content_type=JSON),
    Op.DELETE_INSTALLATION: _e({204, 400, 401, 403}, 204, content_type=JSON),
    Op.SEND: _e({200, 400, 401, 403, 404, 413}, 200, {201}),
    Op.SEND_DIRECT: _e({201, 400, 401, 403, 404, 413}, 201),
    Op.SEND_BATCH: _e({201, 400, 401, 403, 404, 413}, 201),
    Op.SCHEDULE_SEND: _e(set(), None, {201, 400, 401, 403, 404, 413}),
    Op.CANCEL_SCHEDULED_SEND: _e(set(), None, {200, 404}),
    Op.READ_NOTIFICATION: _e({200, 400, 401, 403, 404}, 200),
}  # fmt: skip


def throttled(ctx: Ctx) -> bool:
    """403 with Retry-After (legacy) or 429: the service asks the client to slow down."""
    return ctx.status == 429 or (
        ctx.status == 403 and ctx.response_header("Retry-After") is not None
    )


def _answered(ctx: Ctx) -> bool:
    return ctx.op in EXPECT and ctx.status is not None and not throttled(ctx)


def _expect(ctx: Ctx) -> Expect:
    return EXPECT[ctx.op]


@rule(
    "response.status",
    severity="warning",
    spec="Status-code expectations: docs vs reality (summary table)",
    source=f"{SPEC} §14",
    expected="a status the docs list for the operation (or the real service was seen to return)",
    applies=lambda ctx: _answered(ctx) and (ctx.status or 0) < 500,
    ops=EXPECT,
)
def _status(ctx: Ctx) -> Iterator[Breach]:
    expect = _expect(ctx)
    if ctx.status not in expect.documented | expect.observed:
        listed = ", ".join(str(s) for s in sorted(expect.documented | expect.observed))
        yield Breach(actual=str(ctx.status), expected=f"one of {listed}", pointer="status",
                     spec=expect.sentence, source=expect.source)  # fmt: skip


@rule(
    "response.status-docs-differ",
    severity="note",
    spec="Success codes: docs say 201 for create/upsert/update/**read** registration and 200 "
    "for tag sends, 204 for PATCH; the service returns 200, 200, 200, 200, 201, 200 respectively",
    source=f"{SPEC} §16.2",
    expected="the documented status",
    applies=_answered,
    ops=EXPECT,
)
def _docs_differ(ctx: Ctx) -> Iterator[Breach]:
    expect = _expect(ctx)
    if ctx.status in expect.observed and ctx.status not in expect.documented:
        documented = str(expect.success) if expect.success else "no documented code"
        yield Breach(
            actual=f"{ctx.status} returned (real service behaviour)",
            expected=f"{documented} documented",
            pointer="status",
        )


@rule(
    "response.throttled",
    severity="note",
    spec='accept 403 or 429 (+ optional `Retry-After`) as "throttled" for any operation',
    source=f"{SPEC} §1.6",
    expected="no throttling",
    applies=lambda ctx: ctx.status in (403, 429),
)
def _throttled(ctx: Ctx) -> Iterator[Breach]:
    if throttled(ctx):
        after = ctx.response_header("Retry-After")
        suffix = f" with Retry-After: {after}" if after else " without Retry-After"
        yield Breach(actual=f"{ctx.status}{suffix}", pointer="header:Retry-After")


_ETAG_OPS = frozenset(
    {Op.CREATE_REGISTRATION_ID, Op.CREATE_REGISTRATION, Op.CREATE_OR_UPDATE_REGISTRATION,
     Op.UPDATE_REGISTRATION, Op.READ_REGISTRATION}
)  # fmt: skip


@rule(
    "response.etag",
    severity="note",
    spec="ETag | {weak ETag}",
    source="seeds/create-registration.md#response-headers",
    expected="an ETag header (the 2023+ service returns none; the ETag element is in the body)",
    applies=lambda ctx: ctx.op in _ETAG_OPS and ctx.succeeded,
    ops=_ETAG_OPS,
)
def _etag(ctx: Ctx) -> Iterator[Breach]:
    if ctx.response_header("ETag") is None:
        source = "seeds/create-registration-id.md#response-headers"
        yield Breach(actual="no ETag header", pointer="header:ETag",
                     source=source if ctx.op is Op.CREATE_REGISTRATION_ID else None)  # fmt: skip


@rule(
    "response.registration-id-location",
    severity="note",
    spec="Content-Location | The location of the registration in the format: "
    "`https://{namespace}.servicebus.windows.net/{NotificationHub}/registrations/<registrationId>`",
    source="seeds/create-registration-id.md#response-headers",
    expected="Content-Location: …/registrations/{id}",
    applies=lambda ctx: ctx.op is Op.CREATE_REGISTRATION_ID and ctx.succeeded,
    ops={Op.CREATE_REGISTRATION_ID},
)
def _registration_id_location(ctx: Ctx) -> Iterator[Breach]:
    if ctx.response_header("Content-Location") is None:
        location = ctx.response_header("Location")
        actual = f"Location: {location}" if location else "neither Content-Location nor Location"
        yield Breach(actual=actual, pointer="header:Content-Location")


@rule(
    "response.registration-id-missing",
    severity="warning",
    spec="Returns a registration ID (without creating a registration).",
    source="seeds/create-registration-id.md",
    expected="the new id in Location or Content-Location",
    applies=lambda ctx: ctx.op is Op.CREATE_REGISTRATION_ID and ctx.succeeded,
    ops={Op.CREATE_REGISTRATION_ID},
)
def _registration_id_missing(ctx: Ctx) -> Iterator[Breach]:
    if ctx.response_header("Content-Location") is None and ctx.response_header("Location") is None:
        yield Breach(actual="no Location header", pointer="header:Location")


@rule(
    "response.installation-location",
    severity="note",
    spec="Content-Location | The location of the installation in the format: "
    "`https://{namespace}.servicebus.windows.net/{NotificationHub}/installations/<installationId>`",
    source="seeds/create-or-overwrite-installation.md#response-headers",
    expected="Content-Location: …/installations/{id} (not observed on the real service)",
    applies=lambda ctx: ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION and ctx.succeeded,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _installation_location(ctx: Ctx) -> Iterator[Breach]:
    if ctx.response_header("Content-Location") is None:
        yield Breach(actual="no Content-Location header", pointer="header:Content-Location")


@rule(
    "response.content-type",
    severity="note",
    spec="Installation responses are labelled `application/xml; charset=utf-8` even when the "
    "body is JSON (GET) or empty (PUT/PATCH/DELETE); docs say application/json.",
    source=f"{SPEC} §16.4",
    expected="the documented media type",
    applies=lambda ctx: (
        ctx.succeeded
        and ctx.op in EXPECT
        and EXPECT[ctx.op].content_type is not None
        and ctx.response_header("Content-Type") is not None
    ),
    ops=EXPECT,
)
def _content_type(ctx: Ctx) -> Iterator[Breach]:
    expected = _expect(ctx).content_type
    actual = media_type(ctx.response_header("Content-Type"))
    if actual != expected:
        body = ctx.exchange.response.body if ctx.exchange.response is not None else b""
        what = "JSON" if body.lstrip()[:1] in (b"{", b"[") else ("empty" if not body else "body")
        yield Breach(
            actual=f"{what} labelled {ctx.response_header('Content-Type')}",
            expected=str(expected),
            pointer="header:Content-Type",
        )
