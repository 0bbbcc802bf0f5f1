"""Every registration kind and every installation platform, through the proxy to the local hub,
lands in `devices` from both the request and the hub's answer."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from proxy import serve, store
from proxy.demo.client import ATOM_ENTRY, HubClient, atom_entry
from proxy.demo.scenario import INSTALLATIONS, NATIVE_KINDS, tagged, template_fields
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from tests.servers import start_proxy

PLATFORM_OF = {
    "Apple": "apns",
    "Windows": "wns",
    "Gcm": "gcm",
    "FcmV1": "fcmv1",
    "Mpns": "mpns",
    "Adm": "adm",
    "Baidu": "baidu",
    "Browser": "browser",
    "Xiaomi": "xiaomi",
}


async def test_all_kinds_and_platforms_round_trip_into_devices(tmp_path: Path) -> None:
    hub = await start_hub(HubSettings(hubs=frozenset({"rt"})))
    db = tmp_path / "rt.db"
    proxy = await start_proxy(hub.url, db, session="roundtrip")
    kinds: dict[str, list[tuple[str, str]]] = {}
    for native, fields in NATIVE_KINDS.items():
        kinds[native] = fields
        kind, template = template_fields(native)
        kinds[kind] = template
    assert len(kinds) == 18
    try:
        async with aiohttp.ClientSession() as session:
            client = HubClient(
                session,
                f"http://127.0.0.1:{proxy.port}",
                "rt",
                FULL_RULE,
                hub.settings.keys[FULL_RULE],
            )
            for kind, fields in kinds.items():
                answer = await client.call(
                    "POST",
                    "registrations",
                    content_type=ATOM_ENTRY,
                    body=atom_entry(kind, tagged(f"kind:{kind[:20]},roundtrip", fields)),
                )
                assert answer.status == 200, (kind, answer.body)
            for installation in INSTALLATIONS:
                answer = await client.call(
                    "PUT",
                    f"installations/{installation['installationId']}",
                    body=json.dumps(installation).encode(),
                    content_type="application/json",
                )
                assert answer.status == 200, (installation, answer.body)
                answer = await client.call("GET", f"installations/{installation['installationId']}")
                assert answer.status == 200
    finally:
        await serve.stop([proxy])
        await hub.stop()

    rows = store.connect(db, readonly=True)
    for direction in ("request", "response"):
        seen = {
            (r["source_type"], r["platform"]): r
            for r in rows.query(
                "select d.* from devices d join exchanges e on e.id = d.exchange_id "
                "where e.operation = 'create_registration' and d.direction = ?",
                [direction],
            )
        }
        for kind in kinds:
            prefix = kind.removesuffix("RegistrationDescription").removesuffix("Template")
            device = seen.get((kind, PLATFORM_OF[prefix]))
            assert device is not None, f"{kind} missing from {direction} devices"
            assert "roundtrip" in device["tags"].split(",")
            assert device["handle"], kind
            if "Template" in kind:
                assert device["template_body"], kind
            if direction == "response":
                assert device["registration_id"] and device["etag"], kind
    installations = {
        (r["installation_id"], r["direction"]): r
        for r in rows.query("select * from devices where kind = 'installation'")
    }
    for installation in INSTALLATIONS:
        ident = str(installation["installationId"])
        for direction in ("request", "response"):
            device = installations[(ident, direction)]
            assert device["platform"] == str(installation["platform"]).lower()
            assert device["handle"]
    tagged_user = rows.execute(
        "select count(distinct d.installation_id) from devices d "
        "join device_tags t on t.device_id = d.id "
        "where t.tag = 'user:42' and d.kind = 'installation'"
    ).fetchone()[0]
    assert tagged_user == 2
