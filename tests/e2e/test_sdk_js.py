"""The official @azure/notification-hubs SDK, unmodified, through the reverse proxy to the hub."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from proxy import serve, store
from proxy.cli import cli
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from tests.sdk import REGISTRATION_KINDS, check_life_cycle, run_node_script
from tests.servers import start_proxy


async def test_js_sdk_through_the_proxy_to_the_local_hub(tmp_path: Path) -> None:
    """Reverse mode, as the README says: only the Endpoint changes, and hubscope holds the key.

    The app calls the proxy as `localhost`; the strict hub is called as `127.0.0.1`. The
    SDK signs every token for `localhost`, so each call succeeds only because the proxy
    re-signs it for the hub.
    """
    hub = await start_hub(HubSettings(hubs=frozenset({"sdkhub"})))
    db = tmp_path / "sdk.db"
    proxy = await start_proxy(
        hub.url, db, session="js-sdk", keys={FULL_RULE: hub.settings.keys[FULL_RULE]}
    )
    try:
        cs = hub.connection_string().replace(hub.url, f"http://localhost:{proxy.port}")
        results = await run_node_script(
            "sdk_calls.mjs",
            {**os.environ, "HUBSCOPE_CS": cs, "HUBSCOPE_HUB": "sdkhub", "HUBSCOPE_INSECURE": "1"},
        )
    finally:
        await serve.stop([proxy])
        await hub.stop()
    check_life_cycle(results)

    db_ = store.connect(db, readonly=True)
    verdicts = {r["sas_verdict"] for r in db_.query("select sas_verdict from exchanges")}
    assert verdicts == {
        f"valid; re-signed by hubscope for http://127.0.0.1:{hub.port}/ "
        f"(the client signed for http://localhost:{proxy.port}/)"
    }
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


async def test_js_sdk_without_the_key_is_refused_and_hubscope_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What a user gets who follows the reverse recipe but gives no key: the service's 401."""
    hub = await start_hub(HubSettings())
    db = tmp_path / "nokey.db"
    proxy = await start_proxy(hub.url, db, session="no-key")
    try:
        cs = hub.connection_string().replace(hub.url, f"http://localhost:{proxy.port}")
        env = {**os.environ, "HUBSCOPE_CS": cs, "HUBSCOPE_HUB": "sdkhub", "HUBSCOPE_INSECURE": "1"}
        with caplog.at_level(logging.WARNING, logger="hubscope.proxy"):
            results = await run_node_script("sdk_calls.mjs", env)
    finally:
        await serve.stop([proxy])
        await hub.stop()
    assert results and all(r["status"] == 401 for r in results if not r["ok"])
    assert not [r for r in results if r["ok"]], "the hub refuses a token for another host"
    [line] = [r.getMessage() for r in caplog.records if "InvalidAudience" in r.getMessage()]
    assert "--connection-string" in line and "--forward" in line
    audit = CliRunner().invoke(cli, ["audit", "--db", str(db), "--format", "json"])
    rules = {f["rule"] for f in json.loads(audit.output)["findings"]}
    assert "sas.audience-proxy" in rules
