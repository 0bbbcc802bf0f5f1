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
    row: str = ""
    """The operation's row of the status table (docs vs reality), quoted by the status rules."""

    label: tuple[str, str] | None = None
    """(sentence, source) saying which Content-Type the operation's answer has."""


def _e(doc: set[int], success: int | None, seen: frozenset[int] | set[int] = frozenset(),
       *, content_type: str | None = None, row: str,
       label: tuple[str, str] | None = None) -> Expect:  # fmt: skip
    return Expect(frozenset(doc), success, frozenset(seen), content_type, row, label)


STATUS_TABLE = f"{SPEC} §14"
SUCCESS_CODES = f"{SPEC} §16.2"
HEADERS = "seeds/{}.md#response-headers"
ENTRY_LABEL = ("Content-type | application/atom+xml;type=entry;charset=utf-8",
               HEADERS.format("create-registration"))  # fmt: skip
UPSERT_LABEL = ("Content-type | `application/atom+xml;type=entry;charset=utf-8`",
                HEADERS.format("create-or-update-registration"))  # fmt: skip
READ_LABEL = ("`Content-Type`: `application/atom+xml; type=entry; charset=utf-8` (single entity)",
              f"{SPEC} §1.4")  # fmt: skip
FEED_LABEL = ("`application/atom+xml; type=feed; charset=utf-8` (lists)", f"{SPEC} §1.4")
INSTALLATION_LABEL = (
    "Installation responses are labelled `application/xml; charset=utf-8` even when the body is "
    "JSON (GET) or empty (PUT/PATCH/DELETE); docs say application/json.",
    f"{SPEC} §16.4",
)
LIST_ROW = "GET registrations (all / tag / filter) | 200 | 200 | 400 (filter), 401, 403, 404"
EXPECT: dict[Op, Expect] = {
    Op.CREATE_REGISTRATION: _e({201, 400, 401, 403}, 201, {200}, content_type=ATOM,
        row="POST registrations | 201 | **200** (+ETag, Content-Location) | 400, 401, 403 "
        "quota, 403 rate", label=ENTRY_LABEL),
    Op.CREATE_REGISTRATION_ID: _e({201, 400, 401, 403}, 201, content_type=ATOM,
        row="POST registrationIDs | 201 (+Content-Location, ETag) | 201 (+**Location**, no "
        "ETag) | 400, 401, 403, 403",
        label=("Content-type | `application/atom+xml;type=entry;charset=utf-8`",
               HEADERS.format("create-registration-id"))),
    Op.CREATE_OR_UPDATE_REGISTRATION: _e({201, 400, 401, 403, 404, 409, 410}, 201, {200},
        content_type=ATOM, label=UPSERT_LABEL,
        row="PUT registrations/{id} (upsert) | 201 | **200** | 400, 401, 403, 404, **409 "
        "rate**, 410"),
    Op.UPDATE_REGISTRATION: _e({201, 400, 401, 403, 404, 409}, 201, {200, 412},
        content_type=ATOM, label=UPSERT_LABEL,
        row="PUT registrations/{id} + If-Match | 201 | **200** | 400, 401, 403, 404, **409 "
        "rate**, (412)"),
    Op.READ_REGISTRATION: _e({201, 401, 403}, 201, {200, 404}, content_type=ATOM,
        row="GET registrations/{id} | **201** | 200 | 401, 403, (404 observed)",
        label=READ_LABEL),
    Op.DELETE_REGISTRATION: _e({200, 400, 401, 403, 404, 412}, 200,
        row="DELETE registrations/{id} | 200 | 200 | 400, 401, 403, 404, 412"),
    Op.LIST_REGISTRATIONS: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM, row=LIST_ROW,
        label=FEED_LABEL),
    Op.LIST_REGISTRATIONS_BY_TAG: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM,
        row=LIST_ROW, label=FEED_LABEL),
    Op.LIST_REGISTRATIONS_BY_CHANNEL: _e({200, 400, 401, 403, 404}, 200, content_type=ATOM,
        row=LIST_ROW, label=FEED_LABEL),
    Op.CREATE_OR_OVERWRITE_INSTALLATION: _e({200, 400, 401, 403}, 200, content_type=JSON,
        row="PUT installations/{id} | 200 | 200 (docs sample code expects 202) | 400, 401, 403",
        label=INSTALLATION_LABEL),
    Op.READ_INSTALLATION: _e({200, 400, 401, 403, 404}, 200, content_type=JSON,
        row="GET installations/{id} | 200 | 200 | 400, 401, 403, 404", label=INSTALLATION_LABEL),
    Op.PATCH_INSTALLATION: _e({204, 400, 401, 403}, 204, {200, 404}, content_type=JSON,
        row="PATCH installations/{id} | **204** | **200** | 400, 401, 403, 403",
        label=INSTALLATION_LABEL),
    Op.DELETE_INSTALLATION: _e({204, 400, 401, 403}, 204, content_type=JSON,
        row="DELETE installations/{id} | 204 (even if absent) | 204 | 400, 401, 403",
        label=INSTALLATION_LABEL),
    Op.SEND: _e({200, 400, 401, 403, 404, 413}, 200, {201},
        row="POST messages (native/template) | **200** | **201** | 400, 401, 403, 404, 413"),
    Op.SEND_DIRECT: _e({201, 400, 401, 403, 404, 413}, 201,
        row="POST messages?direct | 201 | 201 | same"),
    Op.SEND_BATCH: _e({201, 400, 401, 403, 404, 413}, 201,
        row="POST messages/$batch?direct | 201 | 201 | 400 (missing part), …"),
    Op.SCHEDULE_SEND: _e(set(), None, {201, 400, 401, 403, 404, 413},
        row="POST schedulednotifications | — | 201 | —"),
    Op.CANCEL_SCHEDULED_SEND: _e(set(), None, {200, 404},
        row="DELETE schedulednotifications/{id} | — | 200 | —"),
    Op.READ_NOTIFICATION: _e({200, 400, 401, 403, 404}, 200,
        row="GET messages/{id} (telemetry) | 200 | 200 | 400, 401, 403 SKU, 404 not ready"),
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
    spec=EXPECT[Op.CREATE_REGISTRATION].row,
    source=STATUS_TABLE,
    expected="a status the docs list for the operation (or the real service was seen to return)",
    applies=lambda ctx: _answered(ctx) and (ctx.status or 0) < 500,
    ops=EXPECT,
)
def _status(ctx: Ctx) -> Iterator[Breach]:
    expect = _expect(ctx)
    if ctx.status not in expect.documented | expect.observed:
        listed = ", ".join(str(s) for s in sorted(expect.documented | expect.observed))
        yield Breach(actual=str(ctx.status), expected=f"one of {listed}", pointer="status",
                     spec=expect.row, source=STATUS_TABLE)  # fmt: skip


@rule(
    "response.status-docs-differ",
    severity="note",
    spec="Success codes: docs say 201 for create/upsert/update/**read** registration and 200 "
    "for tag sends, 204 for PATCH; the service returns 200, 200, 200, 200, 201, 200 respectively",
    source=SUCCESS_CODES,
    expected="the documented status",
    applies=_answered,
    ops=EXPECT,
)
def _docs_differ(ctx: Ctx) -> Iterator[Breach]:
    expect = _expect(ctx)
    if ctx.status in expect.observed and ctx.status not in expect.documented:
        documented = str(expect.success) if expect.success else "no documented code"
        success = ctx.status is not None and 200 <= ctx.status < 300
        yield Breach(
            actual=f"{ctx.status} returned (real service behaviour)",
            expected=f"{documented} documented",
            pointer="status",
            spec=None if success and ctx.op in _SUCCESS_DIFFERS else expect.row,
            source=None if success and ctx.op in _SUCCESS_DIFFERS else STATUS_TABLE,
        )


_SUCCESS_DIFFERS = frozenset(
    {Op.CREATE_REGISTRATION, Op.CREATE_OR_UPDATE_REGISTRATION, Op.UPDATE_REGISTRATION,
     Op.READ_REGISTRATION, Op.SEND, Op.PATCH_INSTALLATION}
)  # fmt: skip
"""The operations §16.2 names: the docs' success code is not the one the service returns."""


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
        spec, source = _ETAG_SOURCES.get(ctx.op, (None, None))
        yield Breach(actual="no ETag header", pointer="header:ETag", spec=spec, source=source)


_ETAG_SOURCES: dict[Op, tuple[str | None, str | None]] = {
    Op.CREATE_REGISTRATION_ID: (None, HEADERS.format("create-registration-id")),
    Op.CREATE_OR_UPDATE_REGISTRATION: (None, HEADERS.format("create-or-update-registration")),
    Op.UPDATE_REGISTRATION: (None, HEADERS.format("create-or-update-registration")),
    Op.READ_REGISTRATION: (
        '`ETag: W/"{n}"` on registration create/read/update (weak, integer version).',
        f"{SPEC} §1.4",
    ),
}
"""Each operation's own statement of the ETag header (the seed pages of its family)."""


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
    spec=INSTALLATION_LABEL[0],
    source=INSTALLATION_LABEL[1],
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
        spec, source = _expect(ctx).label or (None, None)
        yield Breach(
            actual=f"{what} labelled {ctx.response_header('Content-Type')}",
            expected=str(expected),
            pointer="header:Content-Type",
            spec=spec,
            source=source,
        )
