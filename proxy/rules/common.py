"""Rules every data-plane request shares: route, api-version, x-ms-version, Content-Type."""

from __future__ import annotations

from collections.abc import Iterator

from proxy.model import Op
from proxy.rules import citations, era
from proxy.rules.context import Ctx, media_type
from proxy.rules.findings import Breach
from proxy.rules.registry import KNOWN_OPS, rule

SEED_REG = "seeds/create-registration.md#request-headers"
SEED_UPSERT = "seeds/create-or-update-registration.md#request-headers"
SEED_INST = "seeds/create-or-overwrite-installation.md#request-headers"
SPEC = "spec/nh-rest-api.md"

KNOWN_VERSIONS = frozenset(
    {"2013-04", "2014-09", "2015-01", "2015-04", "2015-08", "2016-07", "2017-04", "2017-11",
     "2020-06"}
) | era.PREVIEW_VERSIONS  # fmt: skip
DATA_PLANE_RESOURCES = frozenset(
    {"registrations", "registrationids", "installations", "tags", "messages",
     "schedulednotifications"}
)  # fmt: skip


def _resource(ctx: Ctx) -> str | None:
    segments = [s for s in ctx.path.split("/") if s]
    return segments[1].lower() if len(segments) > 1 else None


def _known_op(ctx: Ctx) -> bool:
    return ctx.op is not Op.UNKNOWN


@rule(
    "common.route",
    severity="error",
    spec="Every data-plane path starts with the hub name: `/{hub}/...`.",
    source=f"{SPEC} §1.1",
    expected="a method the resource supports (POST registrations, PUT registrations/{id}, …)",
    applies=lambda ctx: not _known_op(ctx) and _resource(ctx) in DATA_PLANE_RESOURCES,
    ops={Op.UNKNOWN},
)
def _route(ctx: Ctx) -> Iterator[Breach]:
    yield Breach(actual=f"{ctx.method} {ctx.path}", pointer="request-line")


@rule(
    "common.route-unknown",
    severity="note",
    spec="Every data-plane path starts with the hub name: `/{hub}/...`.",
    source=f"{SPEC} §1.1",
    expected="a registration, installation or send route",
    applies=lambda ctx: not _known_op(ctx) and _resource(ctx) not in DATA_PLANE_RESOURCES,
    ops={Op.UNKNOWN},
)
def _route_unknown(ctx: Ctx) -> Iterator[Breach]:
    yield Breach(actual=f"{ctx.method} {ctx.path} (not judged)", pointer="request-line")


@rule(
    "common.api-version",
    severity="error",
    spec="`api-version` | every operation | required.",
    source=f"{SPEC} §1.2",
    expected="an api-version query parameter",
    applies=lambda ctx: _known_op(ctx) and not (era.preview(ctx) and era.accepted(ctx)),
    ops=KNOWN_OPS,
)
def _api_version(ctx: Ctx) -> Iterator[Breach]:
    if not ctx.decoded.operation.api_version:
        yield Breach(actual="no api-version", pointer="query:api-version")


@rule(
    "common.api-version-accepted",
    severity="note",
    spec="`api-version` | every operation | required.",
    source=f"{SPEC} §1.2",
    expected="an api-version query parameter (the 2013 preview service did without)",
    applies=lambda ctx: _known_op(ctx) and era.preview(ctx) and era.accepted(ctx),
    ops=KNOWN_OPS,
)
def _api_version_accepted(ctx: Ctx) -> Iterator[Breach]:
    if not ctx.decoded.operation.api_version:
        yield Breach(
            actual=f"no api-version in a call of the 2013 preview, and {era.describe(ctx)}: "
            "it took the call as sent",
            pointer="query:api-version",
        )


QUERY_SEPARATOR = "`POST /{hub}/messages?api-version=…` (docs: `/messages/?api-version=2015-01`)."


def _query_in_path(ctx: Ctx) -> str | None:
    """`Messages&api-version=2013-07`: a query the client joined with `&` instead of `?`."""
    if "?" in ctx.exchange.url:
        return None
    last = ctx.path.rstrip("/").rsplit("/", 1)[-1]
    return last if "&" in last and "=" in last.partition("&")[2] else None


@rule(
    "common.query-separator",
    severity="warning",
    spec=QUERY_SEPARATOR,
    source=f"{SPEC} §9.1",
    expected="the query after `?` (POST …/messages?api-version=…)",
    applies=lambda ctx: _query_in_path(ctx) is not None,
)
def _query_separator(ctx: Ctx) -> Iterator[Breach]:
    segment = _query_in_path(ctx) or ""
    resource, _, query = segment.partition("&")
    answer = f"; {era.describe(ctx)}" if ctx.status is not None else ""
    yield Breach(
        actual=f"…/{segment}: the query is joined with & to the path ({resource}){answer}",
        expected=f"…/{resource}?{query}",
        pointer="request-line",
    )


@rule(
    "common.version-known",
    severity="warning",
    spec="Values seen: `2013-04` (legacy iOS client, … `2014-09` … `2015-01` … `2015-04` … "
    "`2015-08` … `2016-07` … `2017-04` … `2017-11` … `2020-06` (current .NET/JS/Java/Android).",
    source=f"{SPEC} §1.2",
    expected="a known data-plane api-version (2012-08 … 2020-06)",
    applies=_known_op,
    ops=KNOWN_OPS,
)
def _version_known(ctx: Ctx) -> Iterator[Breach]:
    for where, value in (
        ("query:api-version", ctx.decoded.operation.api_version),
        ("header:x-ms-version", ctx.header("x-ms-version")),
    ):
        if value and value.strip() not in KNOWN_VERSIONS:
            yield Breach(actual=value, pointer=where)


@rule(
    "common.x-ms-version",
    severity="warning",
    spec="x-ms-version | 2015-01",
    source=SEED_REG,
    expected="an x-ms-version header (listed by the docs from 2015-01; the service does not "
    "require it)",
    applies=lambda ctx: _known_op(ctx) and not era.before_docs(ctx),
    ops=KNOWN_OPS,
)
def _x_ms_version(ctx: Ctx) -> Iterator[Breach]:
    if ctx.header("x-ms-version") is None:
        yield Breach(
            actual="no x-ms-version header",
            pointer="header:x-ms-version",
            source=citations.seed(ctx.op, "request-headers"),
        )


@rule(
    "common.version-consistent",
    severity="warning",
    spec="`x-ms-version` and `api-version` present, known and consistent",
    source="hubscope issue 4 (headers)",
    expected="x-ms-version equal to api-version",
    applies=lambda ctx: bool(ctx.header("x-ms-version") and ctx.decoded.operation.api_version),
    ops=KNOWN_OPS,
)
def _version_consistent(ctx: Ctx) -> Iterator[Breach]:
    header = (ctx.header("x-ms-version") or "").strip()
    query = (ctx.decoded.operation.api_version or "").strip()
    if header != query:
        yield Breach(
            actual=f"x-ms-version {header}, api-version {query}", pointer="header:x-ms-version"
        )


CONTENT_TYPES: dict[Op, tuple[tuple[str, ...], str, str]] = {
    Op.CREATE_REGISTRATION: (
        ("application/atom+xml",), "Content-Type | application/atom+xml;type=entry;charset=utf-8",
        SEED_REG,
    ),
    Op.CREATE_OR_UPDATE_REGISTRATION: (
        ("application/atom+xml",), "Content-Type | `application/atom+xml;type=entry;charset=utf-8`",
        SEED_UPSERT,
    ),
    Op.UPDATE_REGISTRATION: (
        ("application/atom+xml",), "Content-Type | `application/atom+xml;type=entry;charset=utf-8`",
        SEED_UPSERT,
    ),
    Op.CREATE_OR_OVERWRITE_INSTALLATION: (
        ("application/json",), "Content-Type | application/json", SEED_INST,
    ),
    Op.PATCH_INSTALLATION: (
        ("application/json-patch+json", "application/json"),
        "Headers: [DOC] `Content-Type: application/json-patch+json` ([.NET] sends this); "
        "[Java] and [JS] send `application/json` — both accepted.",
        f"{SPEC} §6.3",
    ),
}  # fmt: skip


def _has_body_type(ctx: Ctx) -> bool:
    return ctx.op in CONTENT_TYPES and bool(ctx.exchange.request.body)


@rule(
    "common.content-type-present",
    severity="error",
    spec="Content-Type | application/atom+xml;type=entry;charset=utf-8",
    source=SEED_REG,
    expected="a Content-Type header on a request with a body",
    applies=_has_body_type,
    ops=CONTENT_TYPES,
)
def _content_type_present(ctx: Ctx) -> Iterator[Breach]:
    if ctx.header("Content-Type") is None:
        _, spec, source = CONTENT_TYPES[ctx.op]
        yield Breach(
            actual="no Content-Type", pointer="header:Content-Type", spec=spec, source=source
        )


@rule(
    "common.content-type",
    severity="warning",
    spec="Content-Type | application/atom+xml;type=entry;charset=utf-8",
    source=SEED_REG,
    expected="the documented media type (parameters compared leniently)",
    applies=lambda ctx: _has_body_type(ctx) and ctx.header("Content-Type") is not None,
    ops=CONTENT_TYPES,
)
def _content_type(ctx: Ctx) -> Iterator[Breach]:
    allowed, spec, source = CONTENT_TYPES[ctx.op]
    actual = media_type(ctx.header("Content-Type"))
    if actual not in allowed:
        yield Breach(
            actual=str(ctx.header("Content-Type")),
            expected=" or ".join(allowed),
            pointer="header:Content-Type",
            spec=spec,
            source=source,
        )
