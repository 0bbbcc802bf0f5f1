"""Atom entries and feeds of `*RegistrationDescription`s to `Device` records."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from lxml import etree

from proxy.decode.xml import XSI, local_name, text_of
from proxy.model import Device, Platform, Template

__all__ = ["decode_atom", "is_atom"]

_SUFFIX = "RegistrationDescription"
_PLATFORMS = {
    "windows": Platform.WNS,
    "apple": Platform.APNS,
    "gcm": Platform.GCM,
    "fcm": Platform.GCM,  # SDK class name for FCM legacy; the service rejects it
    "fcmv1": Platform.FCMV1,
    "mpns": Platform.MPNS,
    "adm": Platform.ADM,
    "baidu": Platform.BAIDU,
    "browser": Platform.BROWSER,
    "xiaomi": Platform.XIAOMI,
}
_HANDLES = {
    Platform.WNS: "ChannelUri",
    Platform.MPNS: "ChannelUri",
    Platform.APNS: "DeviceToken",
    Platform.GCM: "GcmRegistrationId",
    Platform.FCMV1: "FcmV1RegistrationId",
    Platform.ADM: "AdmRegistrationId",
    Platform.XIAOMI: "XiaomiRegistrationId",
    Platform.BROWSER: "Endpoint",
}
_ALIASES = {Platform.GCM: "FcmRegistrationId"}
"""Handle elements of SDK-named roots: `FcmRegistrationDescription` (JS 1.0.0-beta) sends
`FcmRegistrationId` (azure-sdk-for-js#23149); the service rejects it, but the handle is it."""
_HEADER_LISTS = frozenset({"WnsHeaders", "MpnsHeaders", "ApnsHeaders"})
_COMMON = frozenset(
    {"ETag", "ExpirationTime", "RegistrationId", "Tags", "PushVariables", "BodyTemplate",
     "TemplateName", "Expiry", "Priority"}
)
_SPECIAL_TAG = re.compile(r"^\$(InstallationId|UserId):\{(.*)\}$", re.IGNORECASE)
_ID_PARENTS = frozenset({"registrations", "resources"})


def is_atom(root: etree._Element) -> bool:
    """Whether a parsed document is an Atom entry/feed or a bare description."""
    name = local_name(root)
    return name in ("entry", "feed") or name.endswith(_SUFFIX)


def decode_atom(root: etree._Element) -> tuple[tuple[Device, ...], list[str]]:
    """All devices in an entry, a feed, or a bare description, plus decode notes."""
    notes: list[str] = []
    name = local_name(root)
    if name == "feed":
        entries = [child for child in root if local_name(child) == "entry"]
    elif name == "entry":
        entries = [root]
    else:
        notes.append(f"bare {name} without an Atom entry")
        device = _description(root, None, None, notes)
        return ((device,) if device else ()), notes
    devices: list[Device] = []
    for entry in entries:
        device = _entry(entry, notes)
        if device is not None:
            devices.append(device)
    return tuple(devices), notes


def _entry(entry: etree._Element, notes: list[str]) -> Device | None:
    """The device inside one `<entry>`, falling back to entry-level etag and id."""
    content = next((c for c in entry if local_name(c) == "content"), None)
    description = next(iter(content), None) if content is not None else None
    if description is None:
        notes.append("entry has no content element with a description")
        return None
    etag = next((_str(v) for k, v in entry.attrib.items() if _attr_name(k) == "etag"), None)
    entry_id = next((text_of(c) for c in entry if local_name(c) == "id"), None)
    return _description(description, etag, entry_id, notes)


def _str(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _attr_name(qualified: str | bytes) -> str:
    """The local part of a `{ns}name` attribute key."""
    return _str(qualified).rpartition("}")[2]


def _type_name(description: etree._Element) -> str:
    """The description's type: the element name, or `i:type` on `RegistrationDescription`."""
    name = local_name(description)
    if name == _SUFFIX:
        declared = description.get(f"{{{XSI}}}type")
        if declared is None:  # `i:` left undeclared and recovered as a plain attribute
            declared = next((_str(v) for k, v in description.attrib.items()
                             if _attr_name(k).rpartition(":")[2] == "type"), None)
        if declared:
            return declared.rpartition(":")[2].strip()
    return name


def _description(
    element: etree._Element, etag: str | None, entry_id: str | None, notes: list[str]
) -> Device | None:
    """One `*RegistrationDescription` element to a Device."""
    source_type = _type_name(element)
    if not source_type.endswith(_SUFFIX) or source_type == _SUFFIX:
        notes.append(f"entry content is {source_type}, not a registration description")
        return None
    base = source_type[: -len(_SUFFIX)]
    is_template = base.endswith("Template")
    platform_name = base[: -len("Template")] if is_template else base
    platform = _PLATFORMS.get(platform_name.lower(), Platform.UNKNOWN)
    if platform is Platform.UNKNOWN:
        notes.append(f"unknown registration type {source_type}")
    if source_type.startswith("Fcm") and not source_type.startswith("FcmV1"):
        notes.append(f"{source_type} is an SDK name; the wire name is Gcm{source_type[3:]}")

    elements: list[str] = []
    values: dict[str, str] = {}
    headers: dict[str, tuple[tuple[str, str], ...]] = {}
    extra: list[tuple[str, str]] = []
    for child in element:
        tag = child.tag  # local_name(child), inlined: this loop runs for every element
        name = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        if not name:
            continue
        elements.append(name)
        if name in _HEADER_LISTS:
            headers[name] = _headers(child)
            continue
        value = _value(child, name, notes)
        if value is None:
            continue
        if name in values:
            notes.append(f"duplicate element {name} in {source_type}; the first one is used")
            continue
        values[name] = value
        if name not in _COMMON and name not in (_HANDLES.get(platform), _ALIASES.get(platform)):
            extra.append((name, value))

    handle = _handle(platform, values)
    tags = tuple(t.strip() for t in values.get("Tags", "").split(",") if t.strip())
    specials = {m.group(1).lower(): m.group(2) for t in tags if (m := _SPECIAL_TAG.match(t))}
    template = None
    if is_template or "BodyTemplate" in values:
        if not is_template:
            notes.append(f"BodyTemplate on non-template {source_type}")
        header_pairs = next(iter(headers.values()), ())
        template = Template(
            name=values.get("TemplateName"),
            body=values.get("BodyTemplate"),
            headers=header_pairs,
            expiry=values.get("Expiry"),
            priority=values.get("Priority"),
        )
    return Device(
        kind="registration",
        source_type=source_type,
        platform=platform,
        handle=handle,
        registration_id=values.get("RegistrationId") or _id_from_url(entry_id),
        installation_id=specials.get("installationid"),
        user_id=specials.get("userid"),
        tags=tags,
        templates=(template,) if template else (),
        expiration=values.get("ExpirationTime"),
        etag=values.get("ETag") or _weak(etag),
        push_variables=values.get("PushVariables"),
        extra=tuple(extra),
        elements=tuple(elements),
    )


def _value(child: etree._Element, name: str, notes: list[str]) -> str | None:
    """An element's text (None when nil); markup inside it is kept as serialized XML."""
    text = text_of(child)
    if text is None:
        return None
    if len(child):
        notes.append(f"{name} contains XML elements (not CDATA or escaped text)")
        inner = "".join(etree.tostring(c, encoding="unicode", with_tail=True) for c in child)
        return text + inner
    return text if name == "BodyTemplate" else text.strip()


def _headers(element: etree._Element) -> tuple[tuple[str, str], ...]:
    """`<XHeaders><XHeader><Header/><Value/></XHeader>…` as (name, value) pairs."""
    pairs: list[tuple[str, str]] = []
    for item in element:
        fields = {local_name(c): (c.text or "").strip() for c in item}
        if "Header" in fields:
            pairs.append((fields["Header"], fields.get("Value", "")))
    return tuple(pairs)


def _handle(platform: Platform, values: dict[str, str]) -> str | None:
    """The PNS handle; Baidu's is `BaiduUserId-BaiduChannelId`."""
    if platform is Platform.BAIDU:
        parts = [values[k] for k in ("BaiduUserId", "BaiduChannelId") if values.get(k)]
        return "-".join(parts) or None
    field = _HANDLES.get(platform)
    if field is None:
        return None
    return values.get(field) or values.get(_ALIASES.get(platform, "")) or None


def _weak(etag: str | None) -> str | None:
    """`W/"3"` (entry attribute form) to `3` (element form)."""
    if etag is None:
        return None
    value = etag.strip()
    value = value[2:] if value.startswith("W/") else value
    return value.strip('"') or None


def _id_from_url(url: str | None) -> str | None:
    """The registration id from an entry `<id>` URL (`…/registrations/{id}` or `/resources/`)."""
    if not url:
        return None
    parts = [p for p in urlsplit(url.strip()).path.split("/") if p]
    if len(parts) >= 2 and parts[-2].lower() in _ID_PARENTS:
        return unquote(parts[-1])
    return None
