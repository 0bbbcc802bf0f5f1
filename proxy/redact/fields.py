"""Secrets known by the name of the field that holds them, whatever their value looks like.

A hub description (`NotificationHubDescription`) carries its rules' `PrimaryKey` and
`SecondaryKey` and each push credential as `<XCredential><Properties><Property>
<Name>GoogleApiKey</Name><Value>…</Value></Property>…` (the .NET and Java SDKs'
`PnsCredential` shape); the same names appear as elements or as JSON keys (camelCase in
ARM-style JSON). Non-secret parts (`Endpoint`, `KeyId`, `AppId`, `ProjectId`,
`ClientEmail`, `PackageSid`, `Thumbprint`, `VapidPublicKey`) stay readable.
"""

from __future__ import annotations

import re

from proxy.redact.shapes import MARKER

SECRET_NAMES: frozenset[str] = frozenset(
    name.lower()
    for name in (
        # shared access rules (hub and namespace descriptions, connection info)
        "PrimaryKey", "SecondaryKey", "SharedAccessKey",
        "PrimaryConnectionString", "SecondaryConnectionString",
        # push credentials, by PnsCredential property
        "ApnsCertificate", "CertificateKey",  # ApnsCredential (also Wns/Mpns CertificateKey)
        "GoogleApiKey",  # GcmCredential / FcmCredential
        "PrivateKey",  # FcmV1Credential
        "SecretKey", "WnsCertificate",  # WnsCredential
        "MpnsCertificate",  # MpnsCredential
        "ClientSecret",  # AdmCredential
        "BaiduApiKey", "BaiduSecretKey",  # BaiduCredential
        "VapidPrivateKey",  # BrowserCredential
        "AppSecret",  # XiaomiCredential
        # OAuth and friends, when they pass through
        "client_secret", "access_token", "refresh_token", "password",
    )
)  # fmt: skip
"""Field names (compared case-insensitively) whose value is a secret wherever it appears."""

PROPERTY_SECRETS = SECRET_NAMES | {"token"}
"""In a credential's `<Property>` list, `Token` is the APNs token-auth key (.p8) as well."""

_NAME = r"(?:[\w.-]+:)?"
_SECRET = "|".join(sorted(SECRET_NAMES, key=len, reverse=True))
_CONTENT = r"[^<]*(?:<!\[CDATA\[.*?\]\]>[^<]*)*"
"""Element text, CDATA sections included."""

_ELEMENT = re.compile(
    rf"(?i)(<{_NAME}(?P<name>{_SECRET})(?:\s[^<>]*)?>)(?P<value>{_CONTENT})(</{_NAME}(?P=name)\s*>)",
    re.DOTALL,
)
_PROPERTY = re.compile(rf"<{_NAME}Property(?:\s[^<>]*)?>.*?</{_NAME}Property\s*>", re.DOTALL)
_PROPERTY_NAME = re.compile(rf"<{_NAME}Name(?:\s[^<>]*)?>\s*([^<]*?)\s*</{_NAME}Name\s*>")
_PROPERTY_VALUE = re.compile(
    rf"(<{_NAME}Value(?:\s[^<>/]*)?>)(?:{_CONTENT})(</{_NAME}Value\s*>)",
    re.DOTALL,
)
_JSON_MEMBER = re.compile(rf'(?i)("(?P<name>{_SECRET})"\s*:\s*")(?:[^"\\]|\\.)*(")')


def scrub(text: str) -> str:
    """`text` with the value of every secret-named element, property or JSON member replaced."""
    lowered = text.lower()
    named = any(name in lowered for name in SECRET_NAMES)
    if named and "<" in text:
        text = _ELEMENT.sub(_element, text)
    if "<" in text and "property" in lowered and "value" in lowered:
        text = _PROPERTY.sub(_property, text)
    if named and '"' in text:
        text = _JSON_MEMBER.sub(_member, text)
    return text


def _element(match: re.Match[str]) -> str:
    if not match.group("value").strip():
        return match.group(0)
    return f"{match.group(1)}{MARKER}{match.group(4)}"


def _property(match: re.Match[str]) -> str:
    block = match.group(0)
    name = _PROPERTY_NAME.search(block)
    if name is None or name.group(1).lower() not in PROPERTY_SECRETS:
        return block
    return _PROPERTY_VALUE.sub(rf"\g<1>{MARKER}\g<2>", block)


def _member(match: re.Match[str]) -> str:
    return f"{match.group(1)}{MARKER}{match.group(3)}"
