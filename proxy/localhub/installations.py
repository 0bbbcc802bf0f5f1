"""Installation documents: validation, the service's read-back shape, and how they materialise."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from proxy.contract import kind_for
from proxy.localhub.limits import LimitExceeded, check_tags, check_template_name, check_user_id
from proxy.localhub.state import NEVER, Installation, Registration
from proxy.model import Platform

__all__ = ["InvalidInstallation", "materialise", "normalise", "registration_id_for"]

Doc = dict[str, Any]
_HANDLE_FIELD = {
    Platform.APNS: "DeviceToken",
    Platform.WNS: "ChannelUri",
    Platform.MPNS: "ChannelUri",
    Platform.GCM: "GcmRegistrationId",
    Platform.FCMV1: "FcmV1RegistrationId",
    Platform.ADM: "AdmRegistrationId",
    Platform.XIAOMI: "XiaomiRegistrationId",
}


class InvalidInstallation(ValueError):
    """The installation cannot be stored; the message is the 400 detail."""


def _tags(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidInstallation(f"'{where}' must be an array of strings")
    return list(dict.fromkeys(t for t in value if t))


_MANDATORY_HEADER = {Platform.WNS: "X-WNS-Type", Platform.MPNS: "X-WindowsPhone-Target"}
"""The header a WNS or MPNS template cannot do without, as on registrations (§4.4, §7.4)."""


def _template(name: str, value: object, platform: Platform) -> Doc:
    if not isinstance(value, dict) or not isinstance(value.get("body"), str):
        raise InvalidInstallation(f"Template '{name}' must be an object with a string 'body'")
    check_template_name(name)
    out: Doc = {"body": value["body"]}
    headers = value.get("headers")
    if headers:
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise InvalidInstallation(f"Template '{name}' headers must map names to strings")
        out["headers"] = dict(headers)
    mandatory = _MANDATORY_HEADER.get(platform)
    if mandatory and not any(h.lower() == mandatory.lower() for h in out.get("headers", {})):
        raise InvalidInstallation(f"The mandatory HTTP header '{mandatory}' is missing.")
    if isinstance(value.get("expiry"), str):
        out["expiry"] = value["expiry"]
    tags = _tags(value.get("tags"), f"templates.{name}.tags")
    # The service adds the name itself as a tag, whatever its characters (§7.4, [REC]).
    check_tags([t for t in tags if t != name], f"templates.{name}.tags")
    out["tags"] = tags if name in tags else [*tags, name]
    return out


def normalise(raw: object, url_id: str) -> Doc:
    """Check a PUT (or patched) body and give it the shape and key order the service returns."""
    try:
        return _normalise(raw, url_id)
    except LimitExceeded as exc:
        raise InvalidInstallation(str(exc)) from None


def _normalise(raw: object, url_id: str) -> Doc:
    if not isinstance(raw, dict):
        raise InvalidInstallation("The installation must be a JSON object")
    installation_id = raw.get("installationId")
    if not isinstance(installation_id, str) or not installation_id:
        raise InvalidInstallation("installationId is required")
    if installation_id != url_id:
        raise InvalidInstallation(
            f"The installationId '{installation_id}' does not match the URL ('{url_id}')"
        )
    platform = Platform.parse(raw.get("platform"))
    if platform is Platform.UNKNOWN:
        raise InvalidInstallation(f"platform {raw.get('platform')!r} is missing or not supported")
    channel = raw.get("pushChannel")
    if not (isinstance(channel, str) and channel) and not (
        platform is Platform.BROWSER and isinstance(channel, dict)
    ):
        raise InvalidInstallation("pushChannel is required")
    doc: Doc = {
        "installationId": installation_id,
        "pushChannel": channel,
        "pushChannelExpired": False,
        "platform": platform.value,
        "expirationTime": NEVER + "Z",
    }
    user_id = raw.get("userId")
    if user_id is not None:
        if not isinstance(user_id, str):
            raise InvalidInstallation("userId must be a string")
        check_user_id(user_id)
        doc["userId"] = user_id
    tags = _tags(raw.get("tags"), "tags")
    check_tags(tags)
    if tags:
        doc["tags"] = tags
    variables = raw.get("pushVariables")
    if variables:
        if not isinstance(variables, dict):
            raise InvalidInstallation("pushVariables must be an object")
        doc["pushVariables"] = {str(k): str(v) for k, v in variables.items()}
    templates = raw.get("templates")
    if templates:
        if not isinstance(templates, dict):
            raise InvalidInstallation("templates must be an object")
        doc["templates"] = {str(n): _template(str(n), t, platform) for n, t in templates.items()}
    if raw.get("secondaryTiles"):
        if platform is not Platform.WNS:
            raise InvalidInstallation("secondaryTiles are only supported for the wns platform")
        doc["secondaryTiles"] = raw["secondaryTiles"]
    return doc


def registration_id_for(hub: str, installation_id: str, template: str | None) -> str:
    """A stable service-shaped id (`{19 digits}-{19 digits}-1`) for a materialised registration."""
    digest = hashlib.sha256(f"{hub.lower()}\n{installation_id}\n{template}".encode()).digest()
    first = int.from_bytes(digest[:8]) % (9 * 10**18) + 10**18
    second = int.from_bytes(digest[8:16]) % (9 * 10**18) + 10**18
    return f"{first}-{second}-1"


def _handle_fields(platform: Platform, channel: object) -> tuple[tuple[str, str], ...]:
    if platform is Platform.BROWSER:
        sub = channel
        if isinstance(channel, str):
            try:
                sub = json.loads(channel)
            except ValueError:
                sub = {}
        sub = sub if isinstance(sub, dict) else {}
        return tuple(
            (name, str(sub.get(key, "")))
            for name, key in (("Endpoint", "endpoint"), ("P256DH", "p256dh"), ("Auth", "auth"))
        )
    text = str(channel)
    if platform is Platform.BAIDU:
        user, _, chan = text.partition("-")
        return (("BaiduUserId", user), ("BaiduChannelId", chan))
    field = _HANDLE_FIELD[platform]
    return ((field, text.upper() if platform is Platform.APNS else text),)


def materialise(hub: str, inst: Installation) -> list[Registration]:
    """The registrations an installation shows up as: one native, one per template (§7.6)."""
    doc: Doc = json.loads(inst.document)
    platform = Platform.parse(doc["platform"])
    handle = _handle_fields(platform, doc["pushChannel"])
    specials = [f"$InstallationId:{{{inst.installation_id}}}"]
    if doc.get("userId"):
        specials.append(f"$UserId:{{{doc['userId']}}}")
    tags = tuple(dict.fromkeys([*specials, *doc.get("tags", [])]))
    variables = doc.get("pushVariables")
    common: dict[str, Any] = {
        "etag": inst.version,
        "push_variables": json.dumps(variables, separators=(",", ":")) if variables else None,
        "created": inst.created,
        "updated": inst.updated,
        "seq": inst.seq,
        "installation_id": inst.installation_id,
        "expiration": inst.expiration,
        "channel_expired": doc.get("pushChannelExpired") is True,
    }
    regs = [
        Registration(
            registration_id=registration_id_for(hub, inst.installation_id, None),
            kind=kind_for(platform, template=False) or "",
            tags=tags,
            fields=handle,
            **common,
        )
    ]
    for name, template in doc.get("templates", {}).items():
        fields = [*handle, ("BodyTemplate", template["body"])]
        if platform is Platform.APNS and "expiry" in template:
            fields.append(("Expiry", template["expiry"]))
        fields.append(("TemplateName", name))
        regs.append(
            Registration(
                registration_id=registration_id_for(hub, inst.installation_id, name),
                kind=kind_for(platform, template=True) or "",
                tags=tuple(dict.fromkeys([*tags, *template.get("tags", [])])),
                fields=tuple(fields),
                headers=tuple(template.get("headers", {}).items()),
                **common,
            )
        )
    return regs
