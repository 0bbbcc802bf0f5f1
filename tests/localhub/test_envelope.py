"""The Atom envelope and the description's namespace, read as the service's deserializer does.

Evidence: spec/nh-rest-api.md §4.1 (an `<entry>` in the Atom namespace whose `<content>`
holds the description in the servicebus `connect` namespace) and §4.2 (DataContract
deserialization matches namespace and name); real-clients.md §1c (the service's parse
errors name the `connect` namespace). The exact detail for a wrong namespace is inferred
from the DataContract serializer's message shape, not recorded.
"""

from __future__ import annotations

import pytest

from proxy.contract import CONNECT_NS
from tests.hubclient import CONNECT, HubClient, apple

ATOM = "http://www.w3.org/2005/Atom"
DESCRIPTION = "<Tags>a</Tags><DeviceToken>aabb</DeviceToken>"


def wrapped(description: str, entry_ns: str = ATOM) -> str:
    xmlns = f' xmlns="{entry_ns}"' if entry_ns else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><entry{xmlns}>'
        f'<content type="application/xml">{description}</content></entry>'
    )


@pytest.mark.parametrize(
    ("description", "namespace"),
    [
        # No xmlns: the description inherits the entry's default (Atom) namespace.
        (f"<AppleRegistrationDescription>{DESCRIPTION}</AppleRegistrationDescription>", ATOM),
        (
            f'<AppleRegistrationDescription xmlns="">{DESCRIPTION}</AppleRegistrationDescription>',
            "",
        ),
        (
            '<AppleRegistrationDescription xmlns="http://schemas.microsoft.com/other">'
            f"{DESCRIPTION}</AppleRegistrationDescription>",
            "http://schemas.microsoft.com/other",
        ),
    ],
)
async def test_a_description_outside_the_connect_namespace_is_400(
    hub: HubClient, description: str, namespace: str
) -> None:
    answer = await hub.call("POST", "/registrations", wrapped(description))
    assert answer.status == 400
    assert (
        f"Expecting element 'AppleRegistrationDescription' from namespace '{CONNECT_NS}'.. "
        f"Encountered 'Element'  with name 'AppleRegistrationDescription', "
        f"namespace '{namespace}'." in answer.text
    )
    assert (await hub.call("GET", "/registrations")).text.count("<entry") == 0


async def test_a_bare_description_without_entry_is_400(hub: HubClient) -> None:
    kind = "AppleRegistrationDescription"
    bare = f"<{kind} {CONNECT}>{DESCRIPTION}</{kind}>"
    answer = await hub.call("POST", "/registrations", bare)
    assert answer.status == 400
    assert f"Expecting element 'entry' from namespace '{ATOM}'" in answer.text
    assert "with name 'AppleRegistrationDescription'" in answer.text


async def test_an_entry_outside_the_atom_namespace_is_400(hub: HubClient) -> None:
    kind = "AppleRegistrationDescription"
    answer = await hub.call(
        "POST", "/registrations", wrapped(f"<{kind} {CONNECT}>{DESCRIPTION}</{kind}>", entry_ns="")
    )
    assert answer.status == 400
    assert (
        f"Expecting element 'entry' from namespace '{ATOM}'.. "
        "Encountered 'Element'  with name 'entry', namespace ''." in answer.text
    )


async def test_undeclared_prefixes_are_400(hub: HubClient) -> None:
    body = apple().replace('xmlns:i="http://www.w3.org/2001/XMLSchema-instance" ', "")
    body = body.replace("<Tags>", '<RegistrationId i:nil="true"/><Tags>')
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 400 and "namespace-well-formed" in answer.text


async def test_the_sdk_envelopes_are_accepted(hub: HubClient) -> None:
    js = apple().replace("<content", "<updated>2026-11-22T13:24:17.038Z</updated><content")
    assert (await hub.call("POST", "/registrations", js)).status == 200
    android = apple().replace("<content", "<id/><updated/><content")
    assert (await hub.call("POST", "/registrations", android)).status == 200
