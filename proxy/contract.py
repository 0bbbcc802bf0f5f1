"""The service's DataContract for registration descriptions: member order and required flags.

Shared by the spec rules (which judge element order) and the local hub (which enforces it).

Orders follow the .NET SDK's `[DataMember(Order=…)]` attributes, which match the
order the real service writes; base-class members come first, as DataContract reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from proxy.model import Platform

__all__ = ["COMMON", "CONNECT_NS", "HEADER_LISTS", "Contract", "contract_for", "kind_for"]

CONNECT_NS = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"

SUFFIX = "RegistrationDescription"
COMMON = ("ETag", "ExpirationTime", "RegistrationId", "Tags", "PushVariables")
HEADER_LISTS = {"WnsHeaders": "WnsHeader", "MpnsHeaders": "MpnsHeader", "ApnsHeaders": "ApnsHeader"}

Member = tuple[str, bool]
"""(element name, IsRequired)."""

_PLATFORM_MEMBERS: dict[str, tuple[Member, ...]] = {
    "Windows": (("ChannelUri", True), ("SecondaryTileName", False)),
    "Mpns": (("ChannelUri", True), ("SecondaryTileName", False)),
    "Apple": (("DeviceToken", True),),
    "Gcm": (("GcmRegistrationId", True),),
    "FcmV1": (("FcmV1RegistrationId", True),),
    "Adm": (("AdmRegistrationId", True),),
    "Baidu": (("BaiduUserId", True), ("BaiduChannelId", True)),
    "Browser": (("Endpoint", True), ("P256DH", True), ("Auth", True)),
    "Xiaomi": (("XiaomiRegistrationId", True),),
}
_TEMPLATE_MEMBERS: dict[str, tuple[Member, ...]] = {
    "Windows": (("BodyTemplate", True), ("WnsHeaders", True), ("TemplateName", False)),
    "Mpns": (("BodyTemplate", True), ("MpnsHeaders", True), ("TemplateName", False)),
    "Apple": (
        ("BodyTemplate", True),
        ("Expiry", False),
        ("TemplateName", False),
        ("Priority", False),
        ("ApnsHeaders", False),
    ),
    "Baidu": (("BodyTemplate", True), ("TemplateName", False), ("MessageType", False)),
}
_DEFAULT_TEMPLATE: tuple[Member, ...] = (("BodyTemplate", True), ("TemplateName", False))

_PLATFORM_OF = {
    "Windows": Platform.WNS,
    "Mpns": Platform.MPNS,
    "Apple": Platform.APNS,
    "Gcm": Platform.GCM,
    "FcmV1": Platform.FCMV1,
    "Adm": Platform.ADM,
    "Baidu": Platform.BAIDU,
    "Browser": Platform.BROWSER,
    "Xiaomi": Platform.XIAOMI,
}
_PREFIX_OF = {platform: prefix for prefix, platform in _PLATFORM_OF.items()}


@dataclass(frozen=True, slots=True)
class Contract:
    """The members of one description type, in the order the service reads them."""

    kind: str
    platform: Platform
    is_template: bool
    members: tuple[Member, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.members)

    @property
    def handle_fields(self) -> tuple[str, ...]:
        """The platform block's element names (DeviceToken, or Endpoint/P256DH/Auth, …)."""
        return tuple(name for name, _ in _PLATFORM_MEMBERS[_PREFIX_OF[self.platform]])

    @property
    def header_list(self) -> str | None:
        """`WnsHeaders`/`MpnsHeaders`/`ApnsHeaders` when this type has one."""
        return next((n for n in self.names if n in HEADER_LISTS), None)


@lru_cache(maxsize=256)
def contract_for(kind: str) -> Contract | None:
    """The contract of a wire type name; None for names the service does not know (Fcm…).
    (Cached: a few type names come back for every registration; a Contract is frozen.)"""
    if not kind.endswith(SUFFIX):
        return None
    base = kind[: -len(SUFFIX)]
    is_template = base.endswith("Template")
    prefix = base[: -len("Template")] if is_template else base
    if prefix not in _PLATFORM_MEMBERS:
        return None
    members = tuple((name, False) for name in COMMON) + _PLATFORM_MEMBERS[prefix]
    if is_template:
        members += _TEMPLATE_MEMBERS.get(prefix, _DEFAULT_TEMPLATE)
    return Contract(kind, _PLATFORM_OF[prefix], is_template, members)


def kind_for(platform: Platform, *, template: bool) -> str | None:
    """The description type an installation of `platform` materialises as."""
    prefix = _PREFIX_OF.get(platform)
    if prefix is None:
        return None
    return f"{prefix}{'Template' if template else ''}{SUFFIX}"
