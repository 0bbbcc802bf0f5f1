"""The local hub's registration operations, driven over real HTTP on 127.0.0.1."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from proxy.localhub import FULL_RULE, LISTEN_RULE, HubSettings, routes, start_hub
from proxy.model import Op
from proxy.sas import make_token
from tests.hubclient import API, ATOM_ENTRY, HUB, RID, TIMEOUT, HubClient, apple, entry


async def test_create_answers_200_with_the_service_entry(hub: HubClient) -> None:
    answer = await hub.call("POST", "/registrations", apple())
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/atom+xml; type=entry; charset=utf-8"
    # The 2023+ (Kestrel) service sends no ETag header: all five azure-sdk-assets recordings
    # (real-clients.md §3); the version is in <ETag> and p1:etag only.
    assert "ETag" not in answer.headers and "Content-Location" not in answer.headers
    assert answer.headers["TrackingId"]
    assert answer.text.startswith('<entry p1:etag="W/&quot;1&quot;" xmlns:p1=')
    assert "<ExpirationTime>9999-12-31T23:59:59.9999999</ExpirationTime>" in answer.text
    (device,) = answer.devices()
    assert RID.match(device.registration_id or "")
    assert device.handle == "00FC13ADFF785122B4AD28809A34209823412414"
    assert device.tags == ("a", "b")
    assert device.etag == "1"
    assert f"https://{hub.running.host}/{HUB}/registrations/{device.registration_id}" in answer.text


async def test_read_and_missing_registration(hub: HubClient) -> None:
    (created,) = (await hub.call("POST", "/registrations", apple())).devices()
    answer = await hub.call("GET", f"/registrations/{created.registration_id}")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/xml"
    # No ETag header on reads either (the recorded 2023+ GETs, real-clients.md §3).
    assert "ETag" not in answer.headers
    assert "<ExpirationTime>9999-12-31T23:59:59.9999999Z</ExpirationTime>" in answer.text
    assert f"/{HUB}/resources/{created.registration_id}" in answer.text
    missing = await hub.call("GET", "/registrations/1-2-3")
    assert missing.status == 404
    assert missing.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert re.fullmatch(
        r"<Error><Code>404</Code><Detail>\.TrackingId:[-0-9a-f]+_G0,TimeStamp:\d+/\d+/\d{4} "
        r"\d+:\d\d:\d\d [AP]M</Detail></Error>",
        missing.text,
    )


async def test_upsert_then_update_with_if_match(hub: HubClient) -> None:
    first = await hub.call("PUT", "/registrations/123-234-1", apple())
    assert first.status == 200 and first.devices()[0].registration_id == "123-234-1"
    assert "ETag" not in first.headers
    second = await hub.call("PUT", "/registrations/123-234-1", apple(tags="c"))
    assert second.devices()[0].etag == "2" and second.devices()[0].tags == ("c",)
    updated = await hub.call(
        "PUT", "/registrations/123-234-1", apple(), headers={"If-Match": '"2"'}
    )
    assert updated.status == 200 and updated.devices()[0].etag == "3"
    assert "ETag" not in updated.headers
    weak = await hub.call("PUT", "/registrations/123-234-1", apple(), headers={"If-Match": 'W/"3"'})
    assert weak.status == 200
    stale = await hub.call("PUT", "/registrations/123-234-1", apple(), headers={"If-Match": '"1"'})
    assert stale.status == 412 and "<Code>412</Code>" in stale.text
    star = await hub.call("PUT", "/registrations/123-234-1", apple(), headers={"If-Match": "*"})
    assert star.status == 200 and star.devices()[0].etag == "5"
    absent = await hub.call("PUT", "/registrations/9-9-9", apple(), headers={"If-Match": "*"})
    assert absent.status == 404


async def test_delete_honours_if_match(hub: HubClient) -> None:
    (created,) = (await hub.call("POST", "/registrations", apple())).devices()
    path = f"/registrations/{created.registration_id}"
    assert (await hub.call("DELETE", path, headers={"If-Match": '"7"'})).status == 412
    deleted = await hub.call("DELETE", path, headers={"If-Match": "*"})
    assert deleted.status == 200 and deleted.text == ""
    assert (await hub.call("DELETE", path, headers={"If-Match": "*"})).status == 404


@pytest.mark.parametrize("segment", ["registrationIDs", "registrationids", "RegistrationIds/"])
async def test_create_registration_id(hub: HubClient, segment: str) -> None:
    answer = await hub.call("POST", f"/{segment}")
    assert answer.status == 201 and answer.text == ""
    location = answer.headers["Location"]
    match = re.fullmatch(
        rf"https://{re.escape(hub.running.host)}/{HUB}/registrationids/(\S+)", location
    )
    assert match and RID.match(match.group(1))
    upsert = await hub.call("PUT", f"/registrations/{match.group(1)}", apple())
    assert upsert.status == 200


async def test_lists_by_tag_and_channel(hub: HubClient) -> None:
    await hub.call("POST", "/registrations", apple("aa11", "sports,news"))
    await hub.call("POST", "/registrations", apple("bb22", "news"))
    gcm = entry(
        "GcmRegistrationDescription", "<Tags>x</Tags><GcmRegistrationId>gcm-1</GcmRegistrationId>"
    )
    assert (await hub.call("POST", "/registrations", gcm)).status == 200
    everything = await hub.call("GET", "/registrations")
    assert everything.status == 200 and len(everything.devices()) == 3
    assert everything.text.startswith(
        '<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Registrations</title>'
    )
    news = await hub.call("GET", "/tags/news/registrations")
    assert {d.handle for d in news.devices()} == {"AA11", "BB22"}
    by_token = await hub.call("GET", "/registrations?$filter=DeviceToken+eq+%27aa11%27")
    assert [d.handle for d in by_token.devices()] == ["AA11"]
    by_channel = await hub.call("GET", "/registrations?$filter=ChannelUri%20eq%20'gcm-1'")
    assert [d.handle for d in by_channel.devices()] == ["gcm-1"]
    unsupported = await hub.call("GET", "/registrations?$filter=Tags+eq+%27news%27")
    assert unsupported.status == 400
    assert "Notification hubs do not support this query" in unsupported.text


async def test_paging_with_top_and_continuation_token(hub: HubClient) -> None:
    for n in range(5):
        await hub.call("POST", "/registrations", apple(f"{n:02d}ff"))
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = "/registrations?$top=2" + (f"&continuationtoken={token}" if token else "")
        answer = await hub.call("GET", query)
        assert answer.status == 200
        seen.extend(d.handle or "" for d in answer.devices())
        pages += 1
        token = answer.headers.get("X-MS-ContinuationToken")
        if token is None:
            break
        assert 'rel="next"' in answer.text
    assert pages == 3 and seen == [f"{n:02d}FF" for n in range(5)]
    first = await hub.call("GET", "/registrations?$top=2")
    token = first.headers["X-MS-ContinuationToken"]
    double = await hub.call(
        "GET", f"/registrations?$top=2&ContinuationToken={token.replace('%', '%25')}"
    )
    assert [d.handle for d in double.devices()] == ["02FF", "03FF"]
    bad = await hub.call("GET", "/registrations?$top=2&continuationtoken=%%%not-a-token")
    assert bad.status == 400


async def test_fcm_sdk_name_is_an_invalid_description(hub: HubClient) -> None:
    body = entry("FcmRegistrationDescription", "<GcmRegistrationId>x</GcmRegistrationId>")
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 400
    assert "<Detail>The specified resource description is invalid..TrackingId:" in answer.text


async def test_required_element_out_of_order_is_rejected_like_the_service(hub: HubClient) -> None:
    inner = "<Endpoint>https://push.example/x</Endpoint><Auth>secret</Auth><P256DH>key</P256DH>"
    body = entry("BrowserRegistrationDescription", inner)
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 400
    position = body.index("<Auth>") + 2
    assert (
        f"Failed to parse RegistrationDescription Error in line 1 position {position}. "
        "'Element' 'Auth' from namespace "
        "'http://schemas.microsoft.com/netservices/2010/10/servicebus/connect' is not expected. "
        "Expecting element 'P256DH'." in answer.text
    )


async def test_missing_required_element_names_the_end_element(hub: HubClient) -> None:
    answer = await hub.call(
        "POST", "/registrations", entry("AppleRegistrationDescription", "<Tags>a</Tags>")
    )
    assert answer.status == 400
    assert "'EndElement' 'AppleRegistrationDescription'" in answer.text
    assert "Expecting element 'DeviceToken'." in answer.text


async def test_optional_element_out_of_order_is_silently_dropped(hub: HubClient) -> None:
    body = entry("AppleRegistrationDescription", "<DeviceToken>abcd</DeviceToken><Tags>lost</Tags>")
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 200
    assert answer.devices()[0].tags == ()
    assert "<Tags>" not in answer.text


async def test_js_apple_template_loses_expiry(hub: HubClient) -> None:
    inner = (
        '<DeviceToken>abcd</DeviceToken><BodyTemplate><![CDATA[{"aps":{}}]]></BodyTemplate>'
        "<TemplateName>t1</TemplateName><Expiry>2030-01-01T00:00:00Z</Expiry>"
    )
    answer = await hub.call(
        "POST", "/registrations", entry("AppleTemplateRegistrationDescription", inner)
    )
    assert answer.status == 200
    (device,) = answer.devices()
    assert device.templates[0].name == "t1" and device.templates[0].expiry is None
    assert '<BodyTemplate><![CDATA[{"aps":{}}]]></BodyTemplate>' in answer.text


def wns_template(headers: str, name_first: bool = False) -> str:
    name = "<TemplateName>tpl</TemplateName>"
    wns = f"<WnsHeaders>{headers}</WnsHeaders>"
    tail = name + wns if name_first else wns + name
    inner = f"<ChannelUri>https://wns.example/c</ChannelUri><BodyTemplate><![CDATA[<toast/>]]></BodyTemplate>{tail}"
    return entry("WindowsTemplateRegistrationDescription", inner)


async def test_wns_template_rules(hub: HubClient) -> None:
    toast = "<WnsHeader><Header>X-WNS-Type</Header><Value>wns/toast</Value></WnsHeader>"
    ok = await hub.call("POST", "/registrations", wns_template(toast))
    assert ok.status == 200
    assert ok.devices()[0].templates[0].headers == (("X-WNS-Type", "wns/toast"),)
    other = "<WnsHeader><Header>X-WNS-Tag</Header><Value>t</Value></WnsHeader>"
    missing = await hub.call("POST", "/registrations", wns_template(other))
    assert missing.status == 400 and "X-WNS-Type" in missing.text
    js_order = await hub.call("POST", "/registrations", wns_template(toast, name_first=True))
    assert js_order.status == 400 and "Expecting element 'WnsHeaders'." in js_order.text


async def test_dotnet_base_type_root_and_nil_elements(hub: HubClient) -> None:
    inner = '<RegistrationId i:nil="true"/><Tags>n</Tags><DeviceToken>abcd</DeviceToken>'
    body = entry("AppleRegistrationDescription", inner, root="RegistrationDescription")
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 200
    assert "<AppleRegistrationDescription" in answer.text


@pytest.mark.parametrize("body", [b"", b"<entry", b"not xml", b'{"json": true}', b"<a/>"])
async def test_malformed_bodies_are_400(hub: HubClient, body: bytes) -> None:
    answer = await hub.call("POST", "/registrations", body)
    assert answer.status == 400 and "<Code>400</Code>" in answer.text


async def test_only_the_namespaces_hubs_are_served(hub: HubClient) -> None:
    """A hub the namespace lacks is 404 "No service is hosted at the specified address."
    (nh-rest-api §1.5, .NET MockData ManagementApi_ShouldCreateGetOrDeleteHub…)."""
    key = hub.running.settings.keys[FULL_RULE]
    nosuch = make_token(f"http://{hub.running.host}/nosuchhub", FULL_RULE, key)
    answer = await hub.call("POST", "/registrations", apple(), hub="nosuchhub", auth=nosuch)
    assert answer.status == 404
    assert "<Detail>No service is hosted at the specified address..TrackingId:" in answer.text
    assert (await hub.call("GET", "/registrations", hub="MyHub")).status == 200


async def test_named_hubs_and_the_option_that_forgives_unknown_ones() -> None:
    for settings, other_status in (
        (HubSettings.build(hubs=("myhub", "Second")), 404),
        (HubSettings.build(allow_unknown_hubs=True), 200),
    ):
        running = await start_hub(settings)
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
                client = HubClient(running, session)
                key = running.settings.keys[FULL_RULE]
                for name, status in (("second", 200),
                                     ("other", other_status)):  # fmt: skip
                    token = make_token(f"http://{running.host}/{name}", FULL_RULE, key)
                    answer = await client.call("GET", "/registrations", hub=name, auth=token)
                    assert answer.status == status, (settings, name, answer.text)
        finally:
            await running.stop()


def in_days(days: float) -> str:
    """A ScheduleTime as .NET and Java write it (`yyyy-MM-ddTHH:mm:ss`, UTC)."""
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


async def test_sends_answer_201_with_location(hub: HubClient) -> None:
    apple_send = {"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"}
    sent = await hub.call("POST", "/messages", '{"aps":{}}', headers=apple_send)
    assert sent.status == 201 and sent.text == ""
    assert re.fullmatch(
        rf"https://{re.escape(hub.running.host)}/{HUB}/messages/[0-9a-f]{{32}}-\d{{14}}-\d+-\d+\?{API}",
        sent.headers["Location"],
    )
    direct = {**apple_send, "ServiceBusNotification-DeviceHandle": "abcd"}
    assert (await hub.call("POST", "/messages?direct", "{}", headers=direct)).status == 201
    assert (await hub.call("POST", "/messages?direct", "{}", headers=apple_send)).status == 400
    scheduled = await hub.call(
        "POST",
        "/schedulednotifications",
        "{}",
        headers={**apple_send, "ServiceBusNotification-ScheduleTime": in_days(2)},
    )
    assert scheduled.status == 201 and "/schedulednotifications/" in scheduled.headers["Location"]
    windows = {"ServiceBusNotification-Format": "windows", "Content-Type": "application/xml"}
    wns = await hub.call("POST", "/messages", "<toast/>", headers=windows)
    assert wns.status == 400 and "X-WNS-Type" in wns.text
    assert (await hub.call("POST", "/messages", "{}", headers={})).status == 400
    assert (await hub.call("POST", "/messages", "x" * 70_000, headers=apple_send)).status == 413
    assert (await hub.call("DELETE", "/schedulednotifications/abc")).status == 200
    # At 2020-06 a rule without the claim gets 403 and no body: the .NET MockData recording
    # SendDirectNotificationAsync_ListenOnlyConnectionString_ThrowsUnauthorizedException.
    listen = await hub.call("POST", "/messages", "{}", headers=apple_send, rule=LISTEN_RULE)
    assert listen.status == 403 and listen.text == ""


async def test_unknown_operation_is_404_not_500(hub: HubClient) -> None:
    answer = await hub.call("POST", "/nothing/here", "x")
    assert answer.status == 404 and "<Error>" in answer.text


async def test_a_failing_view_becomes_an_nh_500(
    hub: HubClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(routes.HANDLERS, Op.READ_REGISTRATION, broken)  # type: ignore[arg-type]
    answer = await hub.call("GET", "/registrations/1-2-3")
    assert answer.status == 500
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    assert answer.text.startswith(
        "<Error><Code>500</Code><Detail>Internal Server Error.TrackingId:"
    )
    assert answer.headers["TrackingId"] in answer.text
    assert (await hub.call("GET", "/registrations/1-2-3")).status == 500
    monkeypatch.undo()
    assert (await hub.call("GET", "/registrations/1-2-3")).status == 404


async def test_next_link_keeps_the_filter(hub: HubClient) -> None:
    for _ in range(3):
        await hub.call("POST", "/registrations", apple("ab12"))
    answer = await hub.call("GET", "/registrations?$top=1&$filter=DeviceToken+eq+%27AB12%27")
    assert "%24filter=DeviceToken%20eq%20%27AB12%27" in answer.text
    token = answer.headers["X-MS-ContinuationToken"]
    rest = await hub.call(
        "GET", f"/registrations?$top=5&$filter=DeviceToken+eq+%27AB12%27&continuationtoken={token}"
    )
    assert len(rest.devices()) == 2 and "X-MS-ContinuationToken" not in rest.headers


async def test_list_by_tag_ignores_case(hub: HubClient) -> None:
    """Tags compare case-insensitively (nh-rest-api §4.5: ".NET compares them
    case-insensitively"); a case-sensitive lookup would miss these."""
    await hub.call("POST", "/registrations", apple("aa01", "Sports"))
    await hub.call("POST", "/registrations", apple("aa02", "news"))
    for asked in ("sports", "SPORTS", "Sports"):
        found = await hub.call("GET", f"/tags/{asked}/registrations")
        assert [d.handle for d in found.devices()] == ["AA01"], asked


async def test_the_error_position_is_the_first_offending_element(hub: HubClient) -> None:
    inner = "<Endpoint>https://e.example/x</Endpoint><Auth>a</Auth><Auth>b</Auth><P256DH>k</P256DH>"
    body = "\n" + entry("BrowserRegistrationDescription", inner).split("?>", 1)[1]
    answer = await hub.call("POST", "/registrations", body, headers={"Content-Type": ATOM_ENTRY})
    assert answer.status == 400
    line_start = body.index("\n") + 1
    column = body.index("<Auth>") - line_start + 2
    assert f"Error in line 2 position {column}. 'Element' 'Auth'" in answer.text
