"""Where a finding's sentence can be read by a user: a public address, and hubscope's docs.

A rule's `source` names where its sentence was taken from: a seed page
(`seeds/create-registration.md#request-headers`), a section of the spec notes
(`spec/nh-rest-api.md §16.2`), or the evidence behind them. Users have none of those
files, so every finding also carries `url` — the public page (with the anchor of the
section) where the sentence or the evidence for it can be read — and `docs`, the
section of hubscope's own `docs/spec-rules.md` that explains the rule.
"""

from __future__ import annotations

import re
from functools import lru_cache

from proxy.model import Op

LEARN = "https://learn.microsoft.com/en-us/rest/api/notificationhubs"
GITHUB = "https://github.com"
DOCS = "docs/spec-rules.md"

SEED_PAGES: dict[str, tuple[str, str]] = {
    "seeds/create-registration.md": (
        "Create Registration",
        "https://learn.microsoft.com/en-us/previous-versions/azure/reference/dn223265(v=azure.100)",
    ),
    "seeds/create-or-update-registration.md": (
        "Create or update a registration",
        f"{LEARN}/create-update-registration",
    ),
    "seeds/create-registration-id.md": (
        "Create a registration ID",
        f"{LEARN}/create-registration-id",
    ),
    "seeds/create-or-overwrite-installation.md": (
        "Create or overwrite an installation",
        f"{LEARN}/create-overwrite-installation",
    ),
}
"""The four pages of Microsoft's Notification Hubs REST API reference hubscope was founded
on: their title, and their public address (`create-registration.md` was copied from the
2015 MSDN page it names in `ms:mtpsurl`, now under Learn's previous versions)."""

MOCK_DATA = (
    f"{GITHUB}/Azure/azure-notificationhubs-dotnet/tree/"
    "44ec46c23b5c6e253f2b823a5c9a5ebfd2bba165/src/Microsoft.Azure.NotificationHubs.Tests/MockData"
)
REGISTRATIONS = "https://learn.microsoft.com/en-us/azure/notification-hubs/notification-hubs-push-notification-registration-management"
TAGS = "https://learn.microsoft.com/en-us/azure/notification-hubs/notification-hubs-tags-segment-push-message"
NODE_RECORDINGS = (
    f"{GITHUB}/Azure/azure-sdk-for-node/blob/f21e2f5e24d55756255a610294210da17e2881ef/"
    "test/recordings/wnsservice-tests.nock.js"
)

EVIDENCE: dict[str, str] = {
    "spec/nh-rest-api.md §1.1": f"{LEARN}/rest-api-methods",
    "spec/nh-rest-api.md §1.2": f"{LEARN}/rest-api-methods",
    "spec/nh-rest-api.md §1.4": MOCK_DATA,
    "spec/nh-rest-api.md §1.6": f"{GITHUB}/Azure/azure-notificationhubs-dotnet/issues/224",
    "spec/nh-rest-api.md §2.2": f"{LEARN}/common-concepts#create-sas-security-token",
    "spec/nh-rest-api.md §2.3": f"{LEARN}/common-concepts#create-sas-security-token",
    "spec/nh-rest-api.md §3.2": REGISTRATIONS,
    "spec/nh-rest-api.md §3.4": f"{LEARN}/update-registration#request-headers",
    "spec/nh-rest-api.md §3.6": f"{LEARN}/delete-registration#request-headers",
    "spec/nh-rest-api.md §4.2": f"{GITHUB}/Azure/azure-sdk-for-js/issues/29081",
    "spec/nh-rest-api.md §4.3": f"{GITHUB}/Azure/azure-sdk-for-js/issues/23149",
    "spec/nh-rest-api.md §4.4": f"{LEARN}/create-registration#request-body",
    "spec/nh-rest-api.md §4.5": TAGS,
    "spec/nh-rest-api.md §5.2": MOCK_DATA,
    "spec/nh-rest-api.md §7.1": f"{LEARN}/create-overwrite-installation#request-body",
    "spec/nh-rest-api.md §7.2": f"{LEARN}/create-overwrite-installation#request-body",
    "spec/nh-rest-api.md §7.6": REGISTRATIONS,
    "spec/nh-rest-api.md §8": f"{LEARN}/update-installation",
    "spec/nh-rest-api.md §9.1": f"{LEARN}/send-template-notification#request",
    "spec/nh-rest-api.md §9.5": TAGS,
    "spec/nh-rest-api.md §13": TAGS,
    "spec/nh-rest-api.md §14": MOCK_DATA,
    "spec/nh-rest-api.md §15": f"{LEARN}/create-update-registration#request",
    "spec/nh-rest-api.md §16.2": MOCK_DATA,
    "spec/nh-rest-api.md §16.4": MOCK_DATA,
    "spec/real-clients.md §1c": f"{GITHUB}/Azure/azure-sdk-for-js/issues/29081",
    "corpus/real-traffic/SOURCES.md": (
        f"{GITHUB}/Azure/azure-sdk-for-js/blob/26ab9cda138f6faf32be77b8639459e0abd32caf/sdk/"
        "notificationhubs/notification-hubs/recordings/node/getregistration/"
        "recording_should_get_a_registration_by_the_given_registration_id.json"
    ),
    "azure-sdk-for-node recordings": NODE_RECORDINGS,
}
"""Spec sections and corpus files → the public page that holds their evidence (the page
the notes summarise, the recorded responses, or the issue where the service's behaviour
was reported)."""


SEED_OF: dict[Op, str] = {
    Op.CREATE_REGISTRATION: "seeds/create-registration.md",
    Op.CREATE_OR_UPDATE_REGISTRATION: "seeds/create-or-update-registration.md",
    Op.UPDATE_REGISTRATION: "seeds/create-or-update-registration.md",
    Op.CREATE_REGISTRATION_ID: "seeds/create-registration-id.md",
    Op.CREATE_OR_OVERWRITE_INSTALLATION: "seeds/create-or-overwrite-installation.md",
    Op.READ_INSTALLATION: "seeds/create-or-overwrite-installation.md",
    Op.PATCH_INSTALLATION: "seeds/create-or-overwrite-installation.md",
    Op.DELETE_INSTALLATION: "seeds/create-or-overwrite-installation.md",
}
"""The seed page about each operation (or its family); the others share Create Registration's
statements that hold for every call (the Authorization and x-ms-version headers)."""


def seed(op: Op, section: str) -> str:
    """`seeds/{page}.md#{section}` for the page closest to the operation."""
    return f"{SEED_OF.get(op, 'seeds/create-registration.md')}#{section}"


NAMED = re.compile(r"(?:https?://)?((?:github\.com|learn\.microsoft\.com)/[^\s);]+)")
"""A public address written into a source (`the service's 401 text (github.com/…)`)."""


@lru_cache(maxsize=256)
def url(source: str) -> str | None:
    """The public address for a finding's `source`, with its anchor; None when it has none."""
    for part in (p.strip() for p in source.split(";")):
        page, _, anchor = part.partition("#")
        if page in SEED_PAGES:
            base = SEED_PAGES[page][1]
            return f"{base}#{anchor}" if anchor else base
        named = NAMED.search(part)
        if named:
            return f"https://{named.group(1)}"
        for prefix, address in EVIDENCE.items():
            if part == prefix or part.startswith((f"{prefix} ", f"{prefix}(")):
                return address
    return None


def docs(rule_id: str) -> str:
    """The section of hubscope's `docs/spec-rules.md` that explains the rule."""
    return f"{DOCS}#{rule_id}"


NOTES = {
    "spec/nh-rest-api.md": "hubscope's notes on the API",
    "spec/real-clients.md": "hubscope's notes on real clients",
    "corpus/real-traffic/SOURCES.md": "a recording in hubscope's corpus",
}


def title(source: str) -> str:
    """A readable name for a source: the seed page's title and section, or whose notes."""
    first = source.split(";")[0].strip()
    page, _, anchor = first.partition("#")
    if page in SEED_PAGES:
        section = anchor.replace("-", " ").capitalize()
        return f"Microsoft Learn, {SEED_PAGES[page][0]}" + (f", {section}" if section else "")
    for prefix, name in NOTES.items():
        if first.startswith(prefix):
            return f"{name} ({first})"
    return first
