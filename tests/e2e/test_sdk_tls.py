"""Unmodified SDKs reach hubscope over HTTPS with nothing but the CA file trusted."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proxy import serve, store
from proxy.capture.app import make_app
from proxy.capture.settings import ProxySettings
from proxy.localhub import FULL_RULE, HubSettings, RunningHub, start_hub
from proxy.tls import authority as tls
from proxy.tls.site import TlsSite
from tests.sdk import run_node_script

HUB = "tlshub"


@dataclass
class TlsSetup:
    hub: RunningHub
    port: int
    db: Path
    ca: Path

    def connection_string(self) -> str:
        """The hub's own key and rule, with the Endpoint moved to the proxy's HTTPS port.

        The app calls the proxy as `localhost` while the hub is called as `127.0.0.1`, so
        every token reaches the strict hub only because the proxy re-signs it.
        """
        return self.hub.connection_string(scheme="sb").replace(
            self.hub.host, f"localhost:{self.port}"
        )


@pytest.fixture
async def through_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TlsSetup]:
    """The local hub on HTTP, and the recording proxy in front of it on HTTP and HTTPS."""
    monkeypatch.setenv(tls.HOME_ENV, str(tmp_path / "home"))
    hub = await start_hub(HubSettings(hubs=frozenset({HUB})))
    db = tmp_path / "tls.db"
    keys = {FULL_RULE: hub.settings.keys[FULL_RULE]}
    settings = ProxySettings(upstream=hub.url, db=db, session="tls", keys=keys)
    proxy = await serve.start(make_app(settings), serve.Listen("127.0.0.1", 0))
    ca = tls.ca_path()
    site = TlsSite(proxy.runner, "127.0.0.1", 0, tls.server_context(), ca_path=ca)
    await site.start()
    try:
        yield TlsSetup(hub=hub, port=site.port, db=db, ca=ca)
    finally:
        await serve.stop([proxy])
        await hub.stop()


def only_ca_trust(ca: Path) -> dict[str, str]:
    """The environment with NODE_EXTRA_CA_CERTS as the only TLS setting (no proxies)."""
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.pop("NODE_TLS_REJECT_UNAUTHORIZED", None)
    return {**env, "NODE_EXTRA_CA_CERTS": str(ca)}


def recorded(db: Path, at_least: int = 0) -> list[tuple[str, str, int]]:
    """The recorded exchanges, once the writer (a thread, live) has stored `at_least`."""
    deadline = time.monotonic() + 10
    while True:
        rows = list(
            store.connect(db, readonly=True).query(
                "select method, path, status from exchanges order by started_at"
            )
        )
        if len(rows) >= at_least or time.monotonic() > deadline:
            return [(r["method"], r["path"], r["status"]) for r in rows]
        time.sleep(0.05)


async def test_js_sdk_over_https_with_only_node_extra_ca_certs(through_tls: TlsSetup) -> None:
    cs = through_tls.connection_string()
    assert cs.startswith(f"Endpoint=sb://localhost:{through_tls.port}/;")
    env = {**only_ca_trust(through_tls.ca), "HUBSCOPE_CS": cs, "HUBSCOPE_HUB": HUB}
    results = await run_node_script("tls_smoke.mjs", env)

    steps = {r["step"]: r for r in results}
    assert list(steps) == [
        "registration.create",
        "registration.get",
        "registration.delete",
        "installation.createOrUpdate",
        "installation.get",
        "installation.delete",
    ]
    reg_id = steps["registration.create"]["id"]
    assert steps["registration.get"] == {
        "step": "registration.get",
        "id": reg_id,
        "tags": ["tls-smoke"],
    }
    assert steps["installation.get"]["platform"] == "apns"

    rows = recorded(through_tls.db, at_least=6)
    assert rows == [
        ("POST", f"/{HUB}/registrations", 200),
        ("GET", f"/{HUB}/registrations/{reg_id}", 200),
        ("DELETE", f"/{HUB}/registrations/{reg_id}", 200),
        ("PUT", f"/{HUB}/installations/tls-smoke-installation", 200),
        ("GET", f"/{HUB}/installations/tls-smoke-installation", 200),
        ("DELETE", f"/{HUB}/installations/tls-smoke-installation", 204),
    ]


async def test_js_sdk_without_the_ca_is_refused_and_the_proxy_says_why(
    through_tls: TlsSetup, caplog: pytest.LogCaptureFixture
) -> None:
    env = {
        **only_ca_trust(through_tls.ca),
        "HUBSCOPE_CS": through_tls.connection_string(),
        "HUBSCOPE_HUB": HUB,
        "HUBSCOPE_EXPECT_REJECT": "1",
    }
    del env["NODE_EXTRA_CA_CERTS"]
    with caplog.at_level(logging.INFO, logger="hubscope.tls"):
        (result,) = await run_node_script("tls_smoke.mjs", env)
        for _ in range(50):
            if caplog.records:
                break
            await asyncio.sleep(0.05)
    assert result["ok"] is False
    assert result["code"] in {"SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"}, (
        result
    )
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "hung up during the handshake" in m and str(through_tls.ca) in m for m in messages
    ), messages
    assert recorded(through_tls.db) == []


async def test_python_sdk_over_https_with_only_ssl_cert_file(
    through_tls: TlsSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-notification-hub-unofficial (httpx) honours SSL_CERT_FILE; sb:// becomes https://."""
    from azure_notification_hub import NotificationHubsClient

    monkeypatch.setenv("SSL_CERT_FILE", str(through_tls.ca))
    client = NotificationHubsClient(through_tls.connection_string(), HUB)
    installation = {"installationId": "py-tls", "platform": "apns", "pushChannel": "ab" * 32}

    def calls() -> dict[str, object]:
        with client:
            client.create_or_update_installation(installation)
            got: dict[str, object] = client.get_installation("py-tls")
            client.delete_installation("py-tls")
        return got

    got = await asyncio.to_thread(calls)
    # The service labels the JSON application/xml, so this client hands it back raw.
    body = json.loads(str(got["_raw_xml"])) if "_raw_xml" in got else got
    assert body["installationId"] == "py-tls"
    assert [(m, s) for m, _, s in recorded(through_tls.db, at_least=3)] == [
        ("PUT", 200),
        ("GET", 200),
        ("DELETE", 204),
    ]
