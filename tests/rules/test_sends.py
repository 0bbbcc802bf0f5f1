"""`send.tag-expression`: sends whose tag expression the service refuses, and the same sends on
the stand-in hub (which refuses them with 400)."""

from __future__ import annotations

import pytest

from proxy.rules import check
from tests.hubclient import HubClient
from tests.rules.factories import Item, make

FORMAT = {"ServiceBusNotification-Format": "template", "Content-Type": "application/json"}


def send(tags: str | None, path: str = "messages") -> Item:
    headers: dict[str, str | None] = {**FORMAT, "ServiceBusNotification-Tags": tags}
    return make("POST", path, '{"m":"hi"}', headers=headers, status=201)


SEND_EXAMPLES: dict[str, tuple[Item, Item]] = {
    "send.tag-expression": (send("(a || b) && !c"), send("||".join(f"t{n}" for n in range(21)))),
}

REFUSED = [
    "||".join(f"t{n}" for n in range(21)),
    "a && b && c && d && e && f && g",
    "(a || b",
    "a b",
    "bad tag!",
    "x" * 121,
]


@pytest.mark.parametrize("tags", REFUSED)
def test_the_rule_flags_what_the_hub_refuses(tags: str) -> None:
    [finding] = [f for f in check(*send(tags)) if f.rule == "send.tag-expression"]
    assert finding.severity == "error" and finding.pointer == "header:ServiceBusNotification-Tags"
    assert repr(tags[:200])[1:-1] in finding.actual


@pytest.mark.parametrize("tags", REFUSED)
async def test_the_hub_refuses_them(hub: HubClient, tags: str) -> None:
    headers = {**FORMAT, "ServiceBusNotification-Tags": tags}
    answer = await hub.call("POST", "/messages", '{"m":"hi"}', headers=headers)
    assert answer.status == 400


@pytest.mark.parametrize(
    "item",
    [send(None), send("  "), send("a", "messages?direct"), send("||".join(["a"] * 20))],
)
def test_nothing_to_say_about(item: Item) -> None:
    assert not [f for f in check(*item) if f.rule == "send.tag-expression"]


def test_a_scheduled_send_is_judged_too() -> None:
    item = send("a &&", "schedulednotifications")
    assert [f.rule for f in check(*item) if f.rule.startswith("send.")] == ["send.tag-expression"]
