"""`api-version` on the stand-in hub: required, known, and late enough for the operation.

Evidence: spec/nh-rest-api.md §1.2 (`api-version` is required on every operation; the
versions clients and recordings use), §9.2 (direct send from 2015-04, batch from 2015-08).
The service's exact wording for a missing or unknown version is not recorded anywhere we
have: the stand-in refuses with 400 and its own detail (docs/stand-in-hub.md).
"""

from __future__ import annotations

import pytest

from proxy.localhub.versions import KNOWN
from tests.hubclient import HubClient, apple


async def test_a_call_without_api_version_is_400(hub: HubClient) -> None:
    answer = await hub.call("POST", "/registrations", apple(), api="")
    assert answer.status == 400
    assert "<Detail>The api-version query parameter is required.TrackingId:" in answer.text
    listed = await hub.call("GET", "/registrations", api="")
    assert listed.status == 400


@pytest.mark.parametrize("version", ["1999-01", "2020-07", "2020-06-01", "latest"])
async def test_an_unknown_api_version_is_400(hub: HubClient, version: str) -> None:
    answer = await hub.call("POST", "/registrations", apple(), api=f"api-version={version}")
    assert answer.status == 400
    assert f"The api-version '{version}' is not supported" in answer.text
    assert (await hub.call("GET", "/registrations")).text.count("<entry") == 0


@pytest.mark.parametrize("version", KNOWN)
async def test_every_known_version_is_served(hub: HubClient, version: str) -> None:
    answer = await hub.call("POST", "/registrations", apple(), api=f"api-version={version}")
    assert answer.status == 200, answer.text
    assert f"?api-version={version}</id>" in answer.text


async def test_direct_and_batch_sends_need_their_documented_versions(hub: HubClient) -> None:
    headers = {
        "ServiceBusNotification-Format": "apple",
        "Content-Type": "application/json",
        "ServiceBusNotification-DeviceHandle": "aa",
    }
    early = await hub.call("POST", "/messages?direct", "{}", headers=headers,
                           api="api-version=2015-01")  # fmt: skip
    assert early.status == 400 and "needs api-version 2015-04 or later" in early.text
    ok = await hub.call("POST", "/messages?direct", "{}", headers=headers,
                        api="api-version=2015-04")  # fmt: skip
    assert ok.status == 201
    batch = await hub.call("POST", "/messages/$batch?direct", "x", headers=headers,
                           api="api-version=2015-04")  # fmt: skip
    assert batch.status == 400 and "needs api-version 2015-08 or later" in batch.text
