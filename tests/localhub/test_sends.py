"""Sends on the local hub: tag expressions, limits, and debug-send outcomes."""

from __future__ import annotations

import pytest

from proxy.decode.xml import local_name, parse_xml
from proxy.tagexpr import InvalidTagExpression, parse_tag_expression
from tests.hubclient import HubClient, apple, entry

APPLE = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("expression", "tags", "expected"),
    [
        ("a", {"a"}, True),
        ("A", {"a"}, True),
        ("a && b", {"a"}, False),
        ("(follows_RedSox || follows_Cardinals) && location_Boston",
         {"follows_Cardinals", "location_Boston"}, True),
        ("!a", {"b"}, True),
        ("a||b||c", {"c"}, True),
        ("$InstallationId:{inst-1}", {"$InstallationId:{inst-1}"}, True),
        ("!(a && b) && c", {"a", "b", "c"}, False),
    ],
)  # fmt: skip
def test_tag_expressions(expression: str, tags: set[str], expected: bool) -> None:
    assert parse_tag_expression(expression)(tags) is expected


@pytest.mark.parametrize(
    "expression",
    ["a &&", "(a", "a b", "a & b", "bad tag!", "x" * 121, "||".join(f"t{n}" for n in range(21)),
     "&&".join(f"t{n}" for n in range(7)), ")"],
)  # fmt: skip
def test_invalid_tag_expressions(expression: str) -> None:
    with pytest.raises(InvalidTagExpression):
        parse_tag_expression(expression)


def test_twenty_or_tags_are_allowed() -> None:
    parse_tag_expression("||".join(f"t{n}" for n in range(20)))


async def test_bad_tag_expression_is_400(hub: HubClient) -> None:
    headers = {**APPLE, "ServiceBusNotification-Tags": "a && (b"}
    answer = await hub.call("POST", "/messages", "{}", headers=headers)
    assert answer.status == 400 and "tag expression" in answer.text


async def test_debug_send_reports_the_registrations_it_would_reach(hub: HubClient) -> None:
    await hub.call("POST", "/registrations", apple("aa01", "sports"))
    await hub.call("POST", "/registrations", apple("aa02", "news"))
    template = entry(
        "AppleTemplateRegistrationDescription",
        "<Tags>sports</Tags><DeviceToken>aa03</DeviceToken><BodyTemplate>{}</BodyTemplate>",
    )
    await hub.call("POST", "/registrations", template)
    headers = {**APPLE, "ServiceBusNotification-Tags": "sports || weather"}
    answer = await hub.call("POST", "/messages?test", "{}", headers=headers)
    assert answer.status == 201
    root, _ = parse_xml(answer.text.encode())
    assert local_name(root) == "NotificationOutcome"
    values = {local_name(c): c for c in root}
    assert values["Success"].text == "1" and values["Failure"].text == "0"
    (result,) = values["Results"]
    fields = {local_name(c): c.text for c in result}
    assert fields["ApplicationPlatform"] == "apple" and fields["PnsHandle"] == "AA01"
    templated = {**headers, "ServiceBusNotification-Format": "template"}
    answer = await hub.call("POST", "/messages?test=true", "{}", headers=templated)
    assert "<PnsHandle>AA03</PnsHandle>" in answer.text and "<Success>1</Success>" in answer.text
    broadcast = await hub.call("POST", "/messages?test", "{}", headers=APPLE)
    assert "<Success>2</Success>" in broadcast.text
    plain = await hub.call("POST", "/messages", "{}", headers=headers)
    assert plain.status == 201 and plain.text == ""


async def test_a_debug_send_lists_at_most_ten_registrations(hub: HubClient) -> None:
    """Each test send reaches at most 10 devices (nh-rest-api §9.7, §13)."""
    for n in range(12):
        assert (await hub.call("POST", "/registrations", apple(f"{n:04x}", "all"))).status == 200
    headers = {**APPLE, "ServiceBusNotification-Tags": "all"}
    answer = await hub.call("POST", "/messages?test", "{}", headers=headers)
    assert answer.status == 201
    assert "<Success>10</Success>" in answer.text
    assert answer.text.count("<RegistrationResult>") == 10
