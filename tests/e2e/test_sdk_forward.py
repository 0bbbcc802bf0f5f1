"""Unmodified SDKs with their real connection string, through `hubscope proxy --forward`.

The app changes nothing but its environment: `HTTPS_PROXY` and the CA file. Its
Endpoint names a made-up namespace; `--map-remote` sends that namespace's traffic to
`hubscope hub`, which is called with the namespace's Host and checks each token's
audience against it, as the service does.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from proxy import store
from proxy.localhub import FULL_RULE
from proxy.localhub.settings import generate_key
from proxy.tls import authority as tls
from tests.sdk import REGISTRATION_KINDS, check_life_cycle, clean_env, run_node_script
from tests.servers import free_port, hubscope_process

NAMESPACE = "hubscope-e2e-made-up.servicebus.windows.net"
HUB = "sdkhub"


@dataclass
class Forwarding:
    proxy: str
    hub_host: str
    db: Path
    ca: Path
    key: str
    proxy_output: subprocess.Popen[bytes]

    def connection_string(self, rule: str = FULL_RULE) -> str:
        """What the app keeps: the real namespace's connection string."""
        return f"Endpoint=sb://{NAMESPACE}/;SharedAccessKeyName={rule};SharedAccessKey={self.key}"


@pytest.fixture
def forwarding(tmp_path: Path) -> Iterator[Forwarding]:
    """`hubscope hub` and `hubscope proxy --forward --map-remote NS=hub`, as real processes."""
    key = generate_key()
    hub_port, proxy_port = free_port(), free_port()
    db = tmp_path / "forward.db"
    hub_cs = (
        f"Endpoint=sb://127.0.0.1:{hub_port}/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}"
    )
    hub_args = ["hub", "--listen", f"127.0.0.1:{hub_port}", "--connection-string", hub_cs]
    hub_args += ["--hub", HUB]  # the stand-in serves only the hub names it is given
    proxy_args = [
        "proxy",
        "--forward",
        "--listen",
        f"127.0.0.1:{proxy_port}",
        "--map-remote",
        f"{NAMESPACE}=http://127.0.0.1:{hub_port}",
        "--db",
        str(db),
        "--session",
        "forward",
    ]
    with hubscope_process(hub_args, url=f"http://127.0.0.1:{hub_port}/"):
        with hubscope_process(proxy_args, url=f"http://127.0.0.1:{proxy_port}/") as proxy:
            yield Forwarding(
                proxy=f"http://127.0.0.1:{proxy_port}",
                hub_host=f"127.0.0.1:{hub_port}",
                db=db,
                ca=tls.ca_path(),
                key=key,
                proxy_output=proxy,
            )


async def recorded(db: Path, at_least: int) -> list[dict[str, object]]:
    """The recorded exchanges, once the writer process has stored `at_least` of them."""
    rows: list[dict[str, object]] = []
    for _ in range(200):
        if db.exists():
            query = "select * from exchanges order by started_at"
            rows = list(store.connect(db, readonly=True).query(query))
        if len(rows) >= at_least:
            break
        await asyncio.sleep(0.05)
    return rows


def header(row: dict[str, object], name: str) -> list[str]:
    pairs = json.loads(str(row["request_headers"]))
    return [value for key, value in pairs if key.lower() == name]


async def test_js_sdk_through_https_proxy_changes_nothing_in_the_app(
    forwarding: Forwarding,
) -> None:
    env = clean_env(
        HTTPS_PROXY=forwarding.proxy,
        NODE_EXTRA_CA_CERTS=str(forwarding.ca),
        HUBSCOPE_CS=forwarding.connection_string(),
        HUBSCOPE_HUB=HUB,
    )
    results = await run_node_script("sdk_calls.mjs", env)
    by_call = check_life_cycle(results)

    rows = await recorded(forwarding.db, at_least=len(by_call))
    assert len(rows) >= len(by_call), "every SDK call is recorded (lists may take pages)"
    assert {h for r in rows for h in header(r, "host")} == {NAMESPACE}
    assert {str(r["url"]).split("/")[2] for r in rows} == {NAMESPACE}, "as the app addressed it"
    assert all(header(r, "authorization") for r in rows)
    statuses = {(r["operation"], r["status"]) for r in rows}
    assert ("create_registration", 200) in statuses
    assert ("create_or_overwrite_installation", 200) in statuses
    assert ("delete_installation", 204) in statuses
    assert not [r for r in rows if r["status"] == 401], "the hub accepted every token as sent"
    kinds = {
        r["source_type"]
        for r in store.connect(forwarding.db, readonly=True).query(
            "select source_type from devices where direction = 'request'"
        )
    }
    assert {f"{k}RegistrationDescription" for k in REGISTRATION_KINDS} <= kinds


async def test_python_sdk_through_https_proxy_changes_nothing_in_the_app(
    forwarding: Forwarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-notification-hub-unofficial (httpx) reads HTTPS_PROXY and SSL_CERT_FILE itself."""
    from azure_notification_hub import NotificationHubsClient

    for name in os.environ.keys() - clean_env().keys():
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", forwarding.proxy)
    monkeypatch.setenv("SSL_CERT_FILE", str(forwarding.ca))
    client = NotificationHubsClient(forwarding.connection_string(), HUB)
    installation = {
        "installationId": "py-forward",
        "platform": "apns",
        "pushChannel": "ab" * 32,
        "tags": ["python"],
    }

    def calls() -> tuple[dict[str, object], list[dict[str, object]]]:
        with client:
            client.create_or_update_installation(installation)
            client.update_installation(
                "py-forward", [{"op": "add", "path": "/tags", "value": "forwarded"}]
            )
            got: dict[str, object] = client.get_installation("py-forward")
            listed = client.list_registrations(top=10)
            client.delete_installation("py-forward")
        return got, listed

    got, listed = await asyncio.to_thread(calls)
    # The service labels the JSON application/xml, so this client hands it back raw.
    body = json.loads(str(got["_raw_xml"])) if "_raw_xml" in got else got
    assert body["installationId"] == "py-forward"
    assert sorted(body["tags"]) == ["forwarded", "python"]
    assert listed, "the installation shows up as a registration"
    rows = await recorded(forwarding.db, at_least=5)
    assert [(r["method"], r["status"]) for r in rows] == [
        ("PUT", 200),
        ("PATCH", 200),
        ("GET", 200),
        ("GET", 200),
        ("DELETE", 204),
    ]
    assert {h for r in rows for h in header(r, "host")} == {NAMESPACE}
    assert {h for r in rows for h in header(r, "user-agent")} == {
        h for h in header(rows[0], "user-agent") if h.startswith("python-httpx/")
    }
