"""Rules on the templates and secondary tiles of an installation body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from proxy.model import Device, Op, Platform
from proxy.rules import templates
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SEED = "seeds/create-or-overwrite-installation.md#request-body"
JSON_SENTENCE = "Template body has to be JSON for APNS, GCM, ADM."
XML_SENTENCE = "Template body must be XML for WNS and MPNS (except when raw)."


def _puts(ctx: Ctx) -> bool:
    return ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION and not ctx.truncated


def _devices(ctx: Ctx) -> Iterator[Device]:
    return (d for d in ctx.request_devices if d.kind == "installation")


@rule(
    "installation.template-body",
    severity="error",
    spec="templates.{name}.body | String | Yes, if template present | No | Template for the "
    "body of notification payload.",
    source=SEED,
    expected="a body in every template",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _template_body(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        for template in device.templates:
            if not (template.body or "").strip():
                yield Breach(actual="no body", pointer=f"/templates/{template.name}/body")


@rule(
    "installation.wns-type",
    severity="error",
    spec="Templates for WNS must include X-WNS-Type header.",
    source=SEED,
    expected="an X-WNS-Type header in every WNS template",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _wns_type(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        if device.platform is Platform.WNS:
            for template in device.templates:
                if not templates.header(template, "X-WNS-Type"):
                    yield Breach(
                        actual="no X-WNS-Type", pointer=f"/templates/{template.name}/headers"
                    )


@rule(
    "installation.mpns-headers",
    severity="error",
    spec="Templates for MPNS must have compatible headers as mentioned in [Sending push "
    "notifications for Windows Phone 8]",
    source=SEED,
    expected="an X-WindowsPhone-Target header in every MPNS template",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _mpns_headers(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        if device.platform is Platform.MPNS:
            for template in device.templates:
                if not templates.header(template, "X-WindowsPhone-Target"):
                    yield Breach(
                        actual="no X-WindowsPhone-Target",
                        pointer=f"/templates/{template.name}/headers",
                    )


@rule(
    "installation.template-body-kind",
    severity="warning",
    spec=JSON_SENTENCE,
    source=SEED,
    expected="a JSON body for APNs/FCM/ADM/Baidu/Browser/Xiaomi, XML for WNS/MPNS (not raw)",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _template_kind(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        for template in device.templates:
            problem = templates.body_kind_problem(device.platform, template)
            if problem:
                sentence = XML_SENTENCE if device.platform in templates.XML_BODIES else None
                yield Breach(
                    actual=problem, pointer=f"/templates/{template.name}/body", spec=sentence
                )


@rule(
    "installation.template-headers",
    severity="warning",
    spec="templates.{name}.headers | JSON object | No. Can be present only if platform is WNS "
    "or MPNS.",
    source=SEED,
    expected="template headers only on WNS and MPNS installations",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _template_headers(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        if device.platform not in templates.XML_BODIES:
            for template in device.templates:
                if template.headers:
                    names = ", ".join(k for k, _ in template.headers)
                    yield Breach(
                        actual=f"headers {names} with platform {device.platform.value}",
                        pointer=f"/templates/{template.name}/headers",
                    )


@rule(
    "installation.template-expiry",
    severity="warning",
    spec="templates.{name}.expiry | String | No. Can be present only if platform is apns",
    source=SEED,
    expected="template expiry only on APNs installations",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _template_expiry(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        if device.platform is not Platform.APNS:
            for template in device.templates:
                if template.expiry is not None:
                    yield Breach(
                        actual=f"expiry on a template for platform {device.platform.value}",
                        pointer=f"/templates/{template.name}/expiry",
                    )


def _tiles(ctx: Ctx) -> dict[str, Any]:
    obj = ctx.request_json if isinstance(ctx.request_json, dict) else {}
    key = next((k for k in obj if k.lower() == "secondarytiles"), None)
    tiles = obj.get(key) if key else None
    return tiles if isinstance(tiles, dict) else {}


@rule(
    "installation.secondary-tiles",
    severity="warning",
    spec="secondaryTiles | JSON object | No. Can be present only if platform is wns.",
    source=SEED,
    expected="secondaryTiles only on WNS installations",
    applies=lambda ctx: _puts(ctx) and bool(_tiles(ctx)),
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _secondary_tiles(ctx: Ctx) -> Iterator[Breach]:
    for device in _devices(ctx):
        if device.platform is not Platform.WNS:
            yield Breach(
                actual=f"secondaryTiles on an installation for platform {device.platform.value}",
                pointer="/secondaryTiles",
            )


@rule(
    "installation.secondary-tile-channel",
    severity="error",
    spec="secondaryTile.{tileId}.pushChannel | String | Yes, if tileId is present",
    source=SEED,
    expected="a pushChannel in every secondary tile",
    applies=lambda ctx: _puts(ctx) and bool(_tiles(ctx)),
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _tile_channel(ctx: Ctx) -> Iterator[Breach]:
    for tile_id, tile in _tiles(ctx).items():
        channel = tile.get("pushChannel") if isinstance(tile, dict) else None
        if not channel:
            yield Breach(actual="no pushChannel", pointer=f"/secondaryTiles/{tile_id}/pushChannel")
