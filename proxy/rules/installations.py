"""Request rules of create-or-overwrite installation (the JSON installation body)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from proxy.model import Device, Op, Platform
from proxy.rules.context import Ctx
from proxy.rules.findings import Breach
from proxy.rules.registry import rule

SEED = "seeds/create-or-overwrite-installation.md#request-body"
SPEC = "spec/nh-rest-api.md"
REQUIRED = {
    "installationId": "installationId | String | Yes | No | Globally unique identifier string",
    "platform": "platform | String | Yes | No | Can be {APNS, WNS, MPNS, ADM, GCM}.",
    "pushChannel": "pushChannel | String | Yes | No | The PNS handle for this installation "
    "(in case of WNS the ChannelUri of the ApplicationTile).",
}
READ_ONLY = {
    "lastactiveon": "lastActiveOn | String | No | Yes |",
    "expirationtime": "expirationTime | String | No | Yes |",
    "lastupdate": "lastUpdate | String | Ignored when updating. Returned when reading. | Yes |",
    "expiredpushchannel": "expiredPushChannel | Boolean | Ignored when updating. Returned when "
    "reading. | Yes |",
    "pushchannelexpired": "expiredPushChannel | Boolean | Ignored when updating. Returned when "
    "reading. | Yes |",
}
USER_ID = re.compile(r"^[-_@#.:=\w]*$")


def _puts(ctx: Ctx) -> bool:
    return ctx.op is Op.CREATE_OR_OVERWRITE_INSTALLATION and not ctx.truncated


def _object(ctx: Ctx) -> dict[str, Any]:
    value = ctx.request_json
    return value if isinstance(value, dict) else {}


def _key(obj: dict[str, Any], name: str) -> str | None:
    wanted = name.lower()
    return next((k for k in obj if k.lower() == wanted), None)


def _devices(ctx: Ctx) -> Iterator[Device]:
    return (d for d in ctx.request_devices if d.kind == "installation")


@rule(
    "installation.body",
    severity="error",
    spec="The following table describes the properties of the JSON request body for installations:",
    source=SEED,
    expected="a JSON object",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _body(ctx: Ctx) -> Iterator[Breach]:
    if not isinstance(ctx.request_json, dict):
        why = ctx.decoded.request.decode_error or f"{ctx.decoded.request.format} body"
        yield Breach(actual=why, pointer="")


@rule(
    "installation.required-fields",
    severity="error",
    spec=REQUIRED["installationId"],
    source=SEED,
    expected="installationId, platform and pushChannel",
    applies=lambda ctx: _puts(ctx) and isinstance(ctx.request_json, dict),
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _required(ctx: Ctx) -> Iterator[Breach]:
    obj = _object(ctx)
    for name, sentence in REQUIRED.items():
        key = _key(obj, name)
        if key is None or obj[key] in (None, "", {}):
            yield Breach(actual=f"no {name}", pointer=f"/{name}", spec=sentence)


@rule(
    "installation.id-matches-url",
    severity="error",
    spec="`installationId` | string | required; SDKs build the URL `{id}` from it (behaviour on "
    "mismatch undocumented — flag it)",
    source=f"{SPEC} §7.1",
    expected="installationId equal to the id in the URL",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _id_matches(ctx: Ctx) -> Iterator[Breach]:
    url_id = ctx.decoded.operation.resource_id
    for device in _devices(ctx):
        if device.installation_id is not None and url_id is not None:
            if device.installation_id != url_id:
                yield Breach(
                    actual=f"body {device.installation_id!r}, URL {url_id!r}",
                    pointer="/installationId",
                )


@rule(
    "installation.platform",
    severity="error",
    spec=REQUIRED["platform"],
    source=SEED,
    expected="apns, wns, mpns, adm, gcm, fcmv1, baidu, browser or xiaomi (spec §7.2)",
    applies=lambda ctx: _puts(ctx) and _key(_object(ctx), "platform") is not None,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _platform(ctx: Ctx) -> Iterator[Breach]:
    obj = _object(ctx)
    value = obj[_key(obj, "platform") or "platform"]
    if Platform.parse(value) is Platform.UNKNOWN:
        yield Breach(actual=f"platform {value!r}", pointer="/platform")


@rule(
    "installation.platform-casing",
    severity="warning",
    spec="[DOC] create-overwrite page lists upper-case `{APNS, WNS, MPNS, ADM, GCM}` while its "
    "examples use lower-case.",
    source=f"{SPEC} §7.2",
    expected="platform in one case: lower (as the service returns it) or upper (as documented)",
    applies=lambda ctx: _puts(ctx) and _key(_object(ctx), "platform") is not None,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _platform_casing(ctx: Ctx) -> Iterator[Breach]:
    obj = _object(ctx)
    value = obj[_key(obj, "platform") or "platform"]
    if isinstance(value, str) and value not in (value.lower(), value.upper()):
        yield Breach(actual=f"platform {value!r}", pointer="/platform")


@rule(
    "installation.read-only",
    severity="warning",
    spec=READ_ONLY["expirationtime"],
    source=SEED,
    expected="no read-only properties in the request (the service ignores them)",
    applies=_puts,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _read_only(ctx: Ctx) -> Iterator[Breach]:
    for key, value in _object(ctx).items():
        sentence = READ_ONLY.get(key.lower())
        if sentence is not None and value is not None:
            yield Breach(actual=f"{key} {value!r} sent", pointer=f"/{key}", spec=sentence)


@rule(
    "installation.user-id",
    severity="warning",
    spec="userID | String | No | No | Custom string containing a combination of alphanumeric "
    "characters and -_@#.:=\\.",
    source=SEED,
    expected="userId of letters, digits and -_@#.:=",
    applies=lambda ctx: _puts(ctx) and _key(_object(ctx), "userId") is not None,
    ops={Op.CREATE_OR_OVERWRITE_INSTALLATION},
)
def _user_id(ctx: Ctx) -> Iterator[Breach]:
    obj = _object(ctx)
    key = _key(obj, "userId") or "userId"
    value = obj[key]
    if value is not None and not (isinstance(value, str) and USER_ID.match(value)):
        yield Breach(actual=f"userId {value!r}", pointer=f"/{key}")
