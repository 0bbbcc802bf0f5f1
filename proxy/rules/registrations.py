"""Request rules of the registration operations (Atom `*RegistrationDescription` bodies)."""

from __future__ import annotations

from collections.abc import Iterator

from proxy.model import Device, Op
from proxy.rules import order
from proxy.rules.context import REGISTRATION_WRITES, Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SEED = "seeds/create-registration.md#request-body"
SPEC = "spec/nh-rest-api.md"
CLIENTS = "spec/real-clients.md §1c"
READ_ONLY = ("ETag", "RegistrationId", "ExpirationTime")


def _writes(ctx: Ctx) -> bool:
    return ctx.op in REGISTRATION_WRITES and not ctx.truncated


def _descriptions(ctx: Ctx) -> Iterator[Device]:
    return (d for d in ctx.request_devices if d.kind == "registration")


def _known(ctx: Ctx) -> Iterator[tuple[Device, tuple[tuple[str, bool], ...]]]:
    for device in _descriptions(ctx):
        shape = order.canonical(device.source_type)
        if shape is not None:
            yield device, shape


@rule(
    "registration.body",
    severity="error",
    spec="Atom entry with the description embedded in the content.",
    source=SEED,
    expected="an Atom entry holding one *RegistrationDescription",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _body(ctx: Ctx) -> Iterator[Breach]:
    body = ctx.decoded.request
    spec, source = UPSERT_BODY if ctx.op is not Op.CREATE_REGISTRATION else (None, None)
    if body.decode_error:
        yield Breach(actual=body.decode_error, pointer="entry", spec=spec, source=source)
    elif body.format != "atom" or len(body.devices) != 1:
        yield Breach(actual=f"{body.format} body with {len(body.devices)} descriptions",
                     spec=spec, source=source)  # fmt: skip


UPSERT_BODY = (
    "Atom entry with the description embedded in the content, as in [Create a registration]"
    "(create-registration.md).",
    "seeds/create-or-update-registration.md#request-body",
)


@rule(
    "registration.fcm-root",
    severity="error",
    spec="`FcmRegistrationDescription` / `FcmTemplateRegistrationDescription` are SDK class "
    'names for FCM legacy; the service rejects them (400 "specified resource description '
    'is invalid", [ISSUE] azure-sdk-for-js#23149).',
    source=f"{SPEC} §4.3",
    expected="GcmRegistrationDescription / GcmTemplateRegistrationDescription on the wire",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _fcm_root(ctx: Ctx) -> Iterator[Breach]:
    for device in _descriptions(ctx):
        if device.source_type.startswith("Fcm") and not device.source_type.startswith("FcmV1"):
            yield Breach(actual=device.source_type, pointer=device.source_type)


@rule(
    "registration.type",
    severity="error",
    spec="The canonical order (.NET `Order` attributes; identical to the order in [REC] "
    "responses) is:",
    source=f"{SPEC} §4.2",
    expected="a known *RegistrationDescription type",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _type(ctx: Ctx) -> Iterator[Breach]:
    for device in _descriptions(ctx):
        if device.source_type.startswith("Fcm") and not device.source_type.startswith("FcmV1"):
            continue  # registration.fcm-root says why
        if order.canonical(device.source_type) is None:
            yield Breach(actual=device.source_type, pointer=device.source_type)


@rule(
    "registration.required-elements",
    severity="error",
    spec="platform handle block (required unless noted)",
    source=f"{SPEC} §4.2",
    expected="every required handle element of the description",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _required(ctx: Ctx) -> Iterator[Breach]:
    template_parts = {"BodyTemplate", "WnsHeaders", "MpnsHeaders"}  # the template rules say why
    for device, shape in _known(ctx):
        for name, required in shape:
            if required and name not in template_parts and name not in device.elements:
                yield Breach(actual=f"no {name} in {device.source_type}", pointer=name)


@rule(
    "registration.element-order-required",
    severity="error",
    spec="a required element out of order → 400.",
    source=CLIENTS,
    expected="required elements in DataContract order",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _order_required(ctx: Ctx) -> Iterator[Breach]:
    for device, shape in _known(ctx):
        for item in order.misplaced(device.elements, shape):
            if item.required:
                yield Breach(
                    actual=f"{item.element} after {item.after}",
                    expected=f"order {order.order_text(shape, device.elements)}",
                    pointer=item.element,
                )


@rule(
    "registration.element-order-optional",
    severity="warning",
    spec="an optional element out of order is silently dropped, request succeeds.",
    source=CLIENTS,
    expected="optional elements in DataContract order (else silently dropped)",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _order_optional(ctx: Ctx) -> Iterator[Breach]:
    for device, shape in _known(ctx):
        for item in order.misplaced(device.elements, shape):
            if not item.required:
                yield Breach(
                    actual=f"{item.element} after {item.after}: silently dropped",
                    expected=f"order {order.order_text(shape, device.elements)}",
                    pointer=item.element,
                )


@rule(
    "registration.unknown-element",
    severity="warning",
    spec="The service deserialises with .NET DataContract semantics",
    source=f"{SPEC} §4.2",
    expected="only elements of the description's DataContract",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _unknown(ctx: Ctx) -> Iterator[Breach]:
    for device, shape in _known(ctx):
        names = {name for name, _ in shape}
        for name in device.elements:
            if name not in names:
                yield Breach(actual=f"{name} in {device.source_type} (ignored)", pointer=name)


@rule(
    "registration.read-only",
    severity="warning",
    spec="This includes read-only elements such as ETag, RegistrationId, and ExpirationTime.",
    source="seeds/create-registration.md#response-body",
    expected="no ETag, RegistrationId or ExpirationTime in a request",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _read_only(ctx: Ctx) -> Iterator[Breach]:
    for device in _descriptions(ctx):
        values = {"ETag": device.etag, "RegistrationId": device.registration_id,
                  "ExpirationTime": device.expiration}  # fmt: skip
        for name in READ_ONLY:
            if name in device.elements and values[name] is not None:
                yield Breach(actual=f"{name} {values[name]!r} sent", pointer=name)


@rule(
    "registration.id-matches-url",
    severity="error",
    spec="id | RegistrationId (or URL segment) | installationId (URL segment; flag if they differ)",
    source=f"{SPEC} §15",
    expected="the RegistrationId in the body equal to the id in the URL",
    applies=lambda ctx: _writes(ctx) and ctx.decoded.operation.resource_id is not None,
    ops=REGISTRATION_WRITES,
)
def _id_matches(ctx: Ctx) -> Iterator[Breach]:
    url_id = ctx.decoded.operation.resource_id
    for device in _descriptions(ctx):
        if "RegistrationId" in device.elements and device.registration_id not in (None, url_id):
            yield Breach(
                actual=f"body {device.registration_id!r}, URL {url_id!r}", pointer="RegistrationId"
            )
