"""Tags, user ids, template names and template headers within the service's limits.

Evidence: spec/nh-rest-api.md §4.5 and §13 (tag grammar `[-_@#.:\\w]` or the reserved
`$InstallationId:{…}`/`$UserId:{…}`, at most 120 characters, at most 60 tags — the count
is contested, the stand-in is strict), §7.1 (userId characters), §7.4 and §4.4 (WNS
templates need `X-WNS-Type`, MPNS ones `X-WindowsPhone-Target`), §7.5 (`secondaryTiles` are
WNS only), §13 (template names ≤ 200 characters). hubscope's own `tags.grammar` and
`tags.length` rules call the same tags errors; the stand-in's send path already refused
them in tag expressions.
"""

from __future__ import annotations

import json

import pytest

from proxy.localhub.limits import (
    MAX_TEMPLATE_NAME,
    LimitExceeded,
    check_tags,
    check_template_name,
)
from tests.hubclient import HubClient, apple, entry

BAD_TAGS = {
    "grammar": ["my tag!"],
    "space": ["my tag"],
    "length": ["x" * 121],
    "count": [f"t{n}" for n in range(61)],
}
GOOD_TAGS = [
    "x" * 120,
    "$InstallationId:{a=b}",
    "user:42",
    "a-b_c@d#e.f",
    *(f"t{n}" for n in range(56)),
]


def installation(**extra: object) -> str:
    body = {"installationId": "i1", "platform": "apns", "pushChannel": "aa", **extra}
    return json.dumps(body)


@pytest.mark.parametrize("case", BAD_TAGS)
async def test_bad_tags_on_a_registration_are_400(hub: HubClient, case: str) -> None:
    answer = await hub.call("POST", "/registrations", apple(tags=",".join(BAD_TAGS[case])))
    assert answer.status == 400, answer.text
    assert "<Code>400</Code>" in answer.text and "Tags" in answer.text
    upsert = await hub.call("PUT", "/registrations/1-2-3", apple(tags=",".join(BAD_TAGS[case])))
    assert upsert.status == 400
    assert (await hub.call("GET", "/registrations")).text.count("<entry") == 0


@pytest.mark.parametrize("case", BAD_TAGS)
async def test_bad_tags_on_an_installation_are_400(hub: HubClient, case: str) -> None:
    answer = await hub.call("PUT", "/installations/i1", installation(tags=BAD_TAGS[case]))
    assert answer.status == 400, answer.text
    assert (await hub.call("GET", "/installations/i1")).status == 404


@pytest.mark.parametrize("case", BAD_TAGS)
async def test_bad_tags_added_by_patch_are_400_and_change_nothing(
    hub: HubClient, case: str
) -> None:
    assert (await hub.call("PUT", "/installations/i1", installation(tags=["kept"]))).status == 200
    ops = [{"op": "add", "path": "/tags", "value": tag} for tag in BAD_TAGS[case]]
    answer = await hub.call("PATCH", "/installations/i1", json.dumps(ops))
    assert answer.status == 400, answer.text
    assert json.loads((await hub.call("GET", "/installations/i1")).text)["tags"] == ["kept"]


async def test_bad_template_tags_are_400(hub: HubClient) -> None:
    templates = {"t": {"body": "{}", "tags": ["my tag!"]}}
    answer = await hub.call("PUT", "/installations/i1", installation(templates=templates))
    assert answer.status == 400 and "templates.t.tags" in answer.text


async def test_tags_at_the_limits_are_accepted(hub: HubClient) -> None:
    assert len(GOOD_TAGS) == 60
    created = await hub.call("POST", "/registrations", apple(tags=",".join(GOOD_TAGS)))
    assert created.status == 200, created.text
    assert created.devices()[0].tags == tuple(GOOD_TAGS)
    put = await hub.call("PUT", "/installations/i1", installation(tags=GOOD_TAGS))
    assert put.status == 200, put.text
    # The service adds a template's name as its tag, whatever the name's characters (§7.4).
    named = {"Template Name": {"body": "{}"}}
    body = installation(installationId="i2", templates=named)
    assert (await hub.call("PUT", "/installations/i2", body)).status == 200


async def test_the_send_path_refuses_the_same_tags(hub: HubClient) -> None:
    headers = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}
    for tag in ("my tag!", "x" * 121):
        sent = await hub.call("POST", "/messages", "{}",
                              headers={**headers, "ServiceBusNotification-Tags": tag})  # fmt: skip
        assert sent.status == 400, tag


@pytest.mark.parametrize("user_id", ["john doe", "a/b", "é!"])
async def test_a_user_id_outside_the_grammar_is_400(hub: HubClient, user_id: str) -> None:
    answer = await hub.call("PUT", "/installations/i1", installation(userId=user_id))
    assert answer.status == 400 and "userId" in answer.text
    patched = await hub.call("PUT", "/installations/i1", installation(userId="alice@x.y:1=2"))
    assert patched.status == 200
    ops = json.dumps([{"op": "replace", "path": "/userId", "value": user_id}])
    assert (await hub.call("PATCH", "/installations/i1", ops)).status == 400


async def test_secondary_tiles_are_for_wns_only(hub: HubClient) -> None:
    tiles = {"tile1": {"pushChannel": "https://wns.example/t", "tags": ["a"]}}
    apns = await hub.call("PUT", "/installations/i1", installation(secondaryTiles=tiles))
    assert apns.status == 400 and "secondaryTiles" in apns.text
    wns = installation(platform="wns", pushChannel="https://wns.example/c", secondaryTiles=tiles)
    assert (await hub.call("PUT", "/installations/i1", wns)).status == 200


async def test_template_names_of_more_than_200_characters_are_400(hub: HubClient) -> None:
    long_name, limit = "n" * 250, "n" * 200
    put = await hub.call("PUT", "/installations/i1",
                         installation(templates={long_name: {"body": "{}"}}))  # fmt: skip
    assert put.status == 400 and "250 characters" in put.text
    ok = await hub.call("PUT", "/installations/i1", installation(templates={limit: {"body": "{}"}}))
    assert ok.status == 200
    inner = (
        "<DeviceToken>aa</DeviceToken><BodyTemplate>{{}}</BodyTemplate>"
        "<TemplateName>{}</TemplateName>"
    )
    for name, status in ((long_name, 400), (limit, 200)):
        body = entry("AppleTemplateRegistrationDescription", inner.format(name))
        assert (await hub.call("POST", "/registrations", body)).status == status


@pytest.mark.parametrize(
    ("platform", "channel", "header"),
    [
        ("wns", "https://wns.example/c", "X-WNS-Type"),
        ("mpns", "https://mpns.example/c", "X-WindowsPhone-Target"),
    ],
)
async def test_windows_templates_need_their_mandatory_header(
    hub: HubClient, platform: str, channel: str, header: str
) -> None:
    base = {"platform": platform, "pushChannel": channel}
    bare = {"t": {"body": "<toast/>"}}
    answer = await hub.call("PUT", "/installations/i1", installation(**base, templates=bare))
    assert answer.status == 400
    assert f"The mandatory HTTP header '{header}' is missing." in answer.text
    with_header = {"t": {"body": "<toast/>", "headers": {header.lower(): "toast"}}}
    ok = await hub.call("PUT", "/installations/i1", installation(**base, templates=with_header))
    assert ok.status == 200
    ops = json.dumps([{"op": "add", "path": "/templates/u", "value": json.dumps(bare["t"])}])
    assert (await hub.call("PATCH", "/installations/i1", ops)).status == 400


def test_the_limits_sit_exactly_at_their_numbers_and_say_what_they_cut() -> None:
    check_template_name("n" * MAX_TEMPLATE_NAME)
    with pytest.raises(LimitExceeded) as long_name:
        check_template_name("n" * 201)
    assert str(long_name.value) == (
        f"The template name '{'n' * 40}…' has 201 characters; at most 200 are allowed"
    )
    with pytest.raises(LimitExceeded) as long_tag:
        check_tags(["t" * 121], "Tags")
    assert str(long_tag.value) == (
        f"The tag '{'t' * 40}…' in Tags has 121 characters; at most 120 are allowed"
    )
