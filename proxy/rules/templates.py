"""Template checks shared by registrations and installations: body kind, headers, expiry."""

from __future__ import annotations

from proxy.model import Platform, Template

JSON_BODIES = frozenset(
    {Platform.APNS, Platform.GCM, Platform.FCMV1, Platform.ADM, Platform.BAIDU,
     Platform.BROWSER, Platform.XIAOMI}
)  # fmt: skip
XML_BODIES = frozenset({Platform.WNS, Platform.MPNS})


def header(template: Template, name: str) -> str | None:
    """A template header's value, by case-insensitive name."""
    lname = name.lower()
    return next((v for k, v in template.headers if k.lower() == lname), None)


def is_raw(template: Template) -> bool:
    """A WNS raw (or MPNS raw) template, whose body may be anything."""
    wns_type = (header(template, "X-WNS-Type") or "").strip().lower()
    return wns_type == "wns/raw"


def body_kind_problem(platform: Platform, template: Template) -> str | None:
    """Why the body is of the wrong kind for the platform (JSON vs XML), or None."""
    body = (template.body or "").lstrip()
    if not body:
        return None
    first = body[:1]
    if platform in JSON_BODIES and first not in ("{", "["):
        return f"{platform.value} template body starts with {body[:20]!r}, not JSON"
    if platform in XML_BODIES and not is_raw(template) and first != "<":
        return f"{platform.value} template body starts with {body[:20]!r}, not XML"
    return None


def label(template: Template) -> str:
    return repr(template.name) if template.name else "(unnamed)"
