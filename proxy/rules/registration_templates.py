"""Template rules of registrations: BodyTemplate, WNS/MPNS headers, body kind, priority."""

from __future__ import annotations

from collections.abc import Iterator

from proxy.model import Device, Platform
from proxy.rules import templates
from proxy.rules.context import REGISTRATION_WRITES, Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SEED = "seeds/create-registration.md#request-body"
SPEC = "spec/nh-rest-api.md"


def _writes(ctx: Ctx) -> bool:
    return not ctx.truncated


def _templates(ctx: Ctx) -> Iterator[Device]:
    return (
        d for d in ctx.request_devices if d.kind == "registration" and "Template" in d.source_type
    )


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
