"""Real clients against the local hub: the captured JS 2.1.0 traffic, and the PyPI client live."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from azure_notification_hub import NotificationHubsClient, create_browser_notification
from azure_notification_hub.client import AzureNHError

from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.model import Op
from proxy.operations import classify
from proxy.sas import make_token
from tests.corpus import CorpusExchange, iter_local_capture, local_captures
from tests.hubclient import TIMEOUT

CAPTURED = [
    (f"{path.parent.name}/{e.source}", e)
    for path in local_captures()
    for e in iter_local_capture(path)
]
JS = "azure-notification-hubs-js-2.1.0/requests-http.jsonl"
# What the real service would refuse from these clients, with the reason (real-clients.md §1c):
# JS swaps the required Baidu pair, puts TemplateName before the required WnsHeaders,
# and its MPNS template lacks X-WindowsPhone-Target.
EXPECTED_400 = {
    f"{JS}#4": "'Element' 'BaiduChannelId'",
    f"{JS}#5": "'Element' 'BaiduChannelId'",
    f"{JS}#13": "'Element' 'TemplateName'",
    f"{JS}#17": "X-WindowsPhone-Target",
}
# Calls on ids the capture stub made up.
EXPECTED_404 = {
    "azure-notification-hub-unofficial-0.1.0/requests.jsonl#6",
    "azure-notification-hub-unofficial-0.1.0/requests.jsonl#7",
    f"{JS}#20",
    f"{JS}#21",
    f"{JS}#22",
    f"{JS}#23",
}
SERVICE_SUCCESS = {
    Op.CREATE_REGISTRATION: 200,
    Op.CREATE_REGISTRATION_ID: 201,
    Op.CREATE_OR_UPDATE_REGISTRATION: 200,
    Op.UPDATE_REGISTRATION: 200,
    Op.READ_REGISTRATION: 200,
    Op.DELETE_REGISTRATION: 200,
    Op.LIST_REGISTRATIONS: 200,
    Op.LIST_REGISTRATIONS_BY_TAG: 200,
    Op.LIST_REGISTRATIONS_BY_CHANNEL: 200,
    Op.CREATE_OR_OVERWRITE_INSTALLATION: 200,
    Op.READ_INSTALLATION: 200,
    Op.PATCH_INSTALLATION: 200,
    Op.DELETE_INSTALLATION: 204,
    Op.SEND: 201,
    Op.SEND_DIRECT: 201,
}
"""The real service's success status per operation: nh-rest-api §14 "real success" column
(MockData and azure-sdk-assets recordings), which the SDKs insist on (real-clients §1b, §2)."""
SKIPPED_HEADERS = {"host", "content-length", "authorization", "connection", "transfer-encoding"}


@pytest.fixture
async def running() -> AsyncIterator[RunningHub]:
    hub = await start_hub(HubSettings())
    try:
        yield hub
    finally:
        await hub.stop()


async def test_captured_client_traffic_gets_the_real_services_answers(running: RunningHub) -> None:
    key = running.settings.keys[FULL_RULE]
    statuses: dict[str, tuple[int, str]] = {}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        for label, exchange in CAPTURED:
            statuses[label] = await replay(session, running, exchange, key)
    for label, exchange in CAPTURED:
        status, text = statuses[label]
        if label in EXPECTED_400:
            assert status == 400 and EXPECTED_400[label] in text, (label, text)
        elif label in EXPECTED_404:
            assert status == 404, (label, text)
        else:
            op = classify(exchange.method, exchange.url).name
            assert status == SERVICE_SUCCESS[op], (label, op, status, text)
    assert len(statuses) == len(CAPTURED) >= 50


async def replay(
    session: aiohttp.ClientSession, running: RunningHub, exchange: CorpusExchange, key: str
) -> tuple[int, str]:
    """Send one captured request to the hub as it was, with a fresh signature."""
    headers = {k: v for k, v in exchange.request.headers if k.lower() not in SKIPPED_HEADERS}
    headers["Authorization"] = make_token(f"http://{running.host}/", FULL_RULE, key, lower=False)
    async with session.request(
        exchange.method, running.url + exchange.url, data=exchange.request.body, headers=headers
    ) as response:
        return response.status, await response.text()


BROWSER = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
    "p256dh": "BPkey",
    "auth": "authsecret",
}


async def test_pypi_client_installation_round_trip(running: RunningHub) -> None:
    client = NotificationHubsClient(running.connection_string(), "myhub")
    try:
        installation = {
            "installationId": "inst-py",
            "platform": "browser",
            "pushChannel": BROWSER,
            "tags": ["user:1"],
        }
        assert await asyncio.to_thread(client.create_or_update_installation, installation) == {}
        got = await asyncio.to_thread(client.get_installation, "inst-py")
        # The service labels the JSON application/xml, so this client hands back raw text.
        doc = json.loads(got["_raw_xml"])
        assert doc["pushChannel"] == BROWSER and doc["pushChannelExpired"] is False
        assert doc["expirationTime"] == "9999-12-31T23:59:59.9999999Z"
        patches = [
            {"op": "add", "path": "/tags", "value": "likes_football"},
            {"op": "remove", "path": "/tags/user:1"},
            {"op": "add", "path": "/userId", "value": "alice"},
        ]
        assert await asyncio.to_thread(client.update_installation, "inst-py", patches) == {}
        doc = json.loads((await asyncio.to_thread(client.get_installation, "inst-py"))["_raw_xml"])
        assert doc["tags"] == ["likes_football"] and doc["userId"] == "alice"
        listed = await asyncio.to_thread(client.list_registrations, 10)
        assert len(listed) == 1
        sent = await asyncio.to_thread(
            client.send_notification,
            create_browser_notification({"title": "hi"}),
            tag_expression="likes_football",
        )
        assert sent == {}
        assert await asyncio.to_thread(client.delete_installation, "inst-py") == {}
        with pytest.raises(AzureNHError) as missing:
            await asyncio.to_thread(client.get_installation, "inst-py")
        assert missing.value.status_code == 404
        assert "Installation not found." in missing.value.body
    finally:
        await asyncio.to_thread(client.close)


async def test_pypi_client_with_a_listen_key_cannot_list(running: RunningHub) -> None:
    client = NotificationHubsClient(
        running.connection_string("DefaultListenSharedAccessSignature"), "myhub"
    )
    try:
        with pytest.raises(AzureNHError) as denied:
            await asyncio.to_thread(client.list_registrations, 5)
        # 2020-06: 403 with no body (.NET MockData Listen-only recording; nh-rest-api §1.6).
        assert denied.value.status_code == 403
        assert denied.value.body == ""
    finally:
        await asyncio.to_thread(client.close)
