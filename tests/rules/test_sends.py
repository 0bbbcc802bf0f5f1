"""Send rules: a tag expression the service refuses (the stand-in hub answers those 400), and a
missing expression written as text."""

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
    "send.tags-undefined": (send("undefined_users"), send("undefined")),
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


@pytest.mark.parametrize("text", ["undefined", "null", " None "])
def test_a_missing_value_written_as_text(text: str) -> None:
    [finding] = [f for f in check(*send(text)) if f.rule == "send.tags-undefined"]
    assert finding.severity == "warning" and text.strip() in finding.actual
