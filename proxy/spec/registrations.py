"""Request rules of the registration operations (Atom `*RegistrationDescription` bodies)."""

from __future__ import annotations

from collections.abc import Iterator

from ..model import Device, Platform
from . import order, templates
from .context import REGISTRATION_WRITES, Ctx
from .findings import Breach
from .registry import rule

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
    if body.decode_error:
        yield Breach(actual=body.decode_error, pointer="entry")
    elif body.format != "atom" or len(body.devices) != 1:
        yield Breach(actual=f"{body.format} body with {len(body.devices)} descriptions")


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
    spec="[DOC] says elements **must appear in the documented order**.",
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


def _templates(ctx: Ctx) -> Iterator[Device]:
    return (d for d in _descriptions(ctx) if "Template" in d.source_type)


@rule(
    "registration.template-body",
    severity="error",
    spec="The BodyTemplate element is mandatory.",
    source=SEED,
    expected="a BodyTemplate in every template registration",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _template_body(ctx: Ctx) -> Iterator[Breach]:
    for device in _templates(ctx):
        if not device.templates or not (device.templates[0].body or "").strip():
            yield Breach(
                actual=f"{device.source_type} without BodyTemplate", pointer="BodyTemplate"
            )


@rule(
    "registration.wns-type",
    severity="error",
    spec="The BodyTemplate element is mandatory, as is the X-WNS-Type header.",
    source=SEED,
    expected="a WnsHeaders/WnsHeader named X-WNS-Type",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _wns_type(ctx: Ctx) -> Iterator[Breach]:
    for device in _templates(ctx):
        if device.platform is Platform.WNS:
            template = device.templates[0] if device.templates else None
            if template is None or not templates.header(template, "X-WNS-Type"):
                yield Breach(actual="no X-WNS-Type header", pointer="WnsHeaders")


@rule(
    "registration.mpns-target",
    severity="error",
    spec="The BodyTemplate element is mandatory, as is the X-WindowsPhone-Target header.",
    source=SEED,
    expected="an MpnsHeaders/MpnsHeader named X-WindowsPhone-Target",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _mpns_target(ctx: Ctx) -> Iterator[Breach]:
    for device in _templates(ctx):
        if device.platform is Platform.MPNS:
            template = device.templates[0] if device.templates else None
            if template is None or not templates.header(template, "X-WindowsPhone-Target"):
                yield Breach(actual="no X-WindowsPhone-Target header", pointer="MpnsHeaders")


@rule(
    "registration.template-body-kind",
    severity="warning",
    spec="JSON for Apple/Gcm/FcmV1/Adm/Baidu/Browser/Xiaomi, XML for Windows/Mpns (except raw) "
    "— client-side validation only, see §16",
    source=f"{SPEC} §4.4",
    expected="a JSON body for APNs/FCM/ADM/Baidu/Browser/Xiaomi, XML for WNS/MPNS (not raw)",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _template_kind(ctx: Ctx) -> Iterator[Breach]:
    for device in _templates(ctx):
        for template in device.templates:
            problem = templates.body_kind_problem(device.platform, template)
            if problem:
                yield Breach(actual=problem, pointer="BodyTemplate")


@rule(
    "registration.priority",
    severity="warning",
    spec="`Priority` (Apple template) | `10` or `5`",
    source=f"{SPEC} §4.4",
    expected="Priority 10 or 5",
    applies=_writes,
    ops=REGISTRATION_WRITES,
)
def _priority(ctx: Ctx) -> Iterator[Breach]:
    for device in _templates(ctx):
        for template in device.templates:
            if template.priority is not None and template.priority.strip() not in ("10", "5"):
                yield Breach(actual=f"Priority {template.priority!r}", pointer="Priority")
