"""The official @azure/notification-hubs SDK, unmodified, through the proxy to the local hub."""

from __future__ import annotations

import os
from pathlib import Path

from proxy import serve, store
from proxy.localhub import HubSettings, start_hub
from tests.sdk import run_node_script
from tests.servers import start_proxy

REGISTRATION_KINDS = [
    "Apple",
    "AppleTemplate",
    "Adm",
    "AdmTemplate",
    "Baidu",
    "BaiduTemplate",
    "Browser",
    "BrowserTemplate",
    "Gcm",
    "GcmTemplate",
    "FcmV1",
    "FcmV1Template",
    "Windows",
    "WindowsTemplate",
    "Xiaomi",
    "XiaomiTemplate",
    "Mpns",
    "MpnsTemplate",
]
# JS 2.1.0 writes BaiduChannelId before BaiduUserId; both are required DataContract members,
# so the service (and the faithful local hub) refuses the body (real-clients.md §1c).
REFUSED = {"createRegistration Baidu", "createRegistration BaiduTemplate"}


async def test_js_sdk_through_the_proxy_to_the_local_hub(tmp_path: Path) -> None:
    hub = await start_hub(HubSettings(hubs=frozenset({"sdkhub"})))
    db = tmp_path / "sdk.db"
    proxy = await start_proxy(hub.url, db, session="js-sdk")
    try:
        cs = hub.connection_string().replace(hub.url, f"http://127.0.0.1:{proxy.port}")
        results = await run_node_script(
            "sdk_calls.mjs",
            {**os.environ, "HUBSCOPE_CS": cs, "HUBSCOPE_HUB": "sdkhub", "HUBSCOPE_INSECURE": "1"},
        )
    finally:
        await serve.stop([proxy])
        await hub.stop()
    by_call = {r["call"]: r for r in results}
    failed = {name: r for name, r in by_call.items() if not r["ok"] and name not in REFUSED}
    assert not failed, failed
    for name in REFUSED:
        assert by_call[name]["ok"] is False and by_call[name]["status"] == 400, by_call[name]
    assert len(by_call) >= 18 + 8 + 8 + 9
    assert "upserted" in (by_call["getRegistration"]["result"]["tags"])
    assert set(by_call["listRegistrationsByTag"]["result"]) >= {
        by_call[f"createRegistration {k}"]["result"]["registrationId"] for k in ("Apple", "Gcm")
    }
    assert by_call["getInstallation"]["result"]["tags"] == ["likes_football"]

    db_ = store.connect(db, readonly=True)
    recorded = {
        (r["operation"], r["status"]) for r in db_.query("select operation, status from exchanges")
    }
    assert ("create_registration", 200) in recorded
    assert ("create_registration_id", 201) in recorded
    assert ("create_or_overwrite_installation", 200) in recorded
    assert ("patch_installation", 200) in recorded
    assert ("delete_installation", 204) in recorded
    kinds = {
        r["source_type"]
        for r in db_.query("select source_type from devices where direction = 'request'")
    }
    assert {f"{k}RegistrationDescription" for k in REGISTRATION_KINDS} <= kinds
    platforms = {
        r["platform"] for r in db_.query("select platform from devices where kind = 'installation'")
    }
    assert platforms == {"apns", "fcmv1", "gcm", "wns", "browser", "xiaomi", "baidu", "adm"}
    [apple] = db_.query(
        "select d.* from devices d join exchanges e on e.id = d.exchange_id "
        "where e.operation = 'create_registration' and d.direction = 'request' "
        "and d.source_type = 'AppleRegistrationDescription'"
    )
    assert apple["handle"] == "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
    assert apple["tags"] == "sdk,likes_hockey"
    tagged = db_.execute("select count(*) from device_tags where tag = 'likes_hockey'").fetchone()[
        0
    ]
    assert tagged > 18
