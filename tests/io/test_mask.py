"""Safe to share: a masked export holds none of the original handles, tags or ids, still
parses, decodes with the pseudonyms in the same places, and one value keeps one
pseudonym across URLs, headers and bodies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from lxml import etree

from proxy import sas, serve
from proxy.exchange import Exchange, Message
from proxy.io.mask import Masker, parse_kinds
from proxy.localhub import FULL_RULE, HubSettings, start_hub
from proxy.localhub.settings import generate_key
from proxy.replay.load import decode
from tests.exports import export, import_, rows
from tests.replaying import NS, entry
from tests.servers import start_proxy

HANDLE = "5F0E8C1B2A3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7"
FCM = "dXN1cjpmY20tdG9rZW4tMTIzNDU2Nzg5MA:APA91bHhsKo-_b7S"
CHANNEL = "https://db5.notify.windows.com/?token=AwYAAAD%2bX2lo&extra=yes"
INSTALLATION_ID = "inst-7f3a9c21-b0de"
USER = "alice.liddell@example.com"
TAGS = ["user:alice-42", "lang:fr-ca", "follows_RedSox", "team:blue-whales"]
ORIGINALS = [HANDLE, FCM, CHANNEL, INSTALLATION_ID, USER, *TAGS]


async def _calls(base: str, key: str) -> list[str]:
    """Realistic traffic through the proxy; returns the registration ids the hub assigned."""
    url = f"{base}/myhub"
    token = sas.make_token(f"{url}", FULL_RULE, key)
    apple = entry(
        f"<AppleRegistrationDescription {NS}><Tags>{TAGS[0]},{TAGS[1]}</Tags>"
        f"<DeviceToken>{HANDLE}</DeviceToken></AppleRegistrationDescription>"
    )
    wns = entry(
        f"<WindowsRegistrationDescription {NS}><Tags>{TAGS[2]}</Tags>"
        f"<ChannelUri>{CHANNEL.replace('&', '&amp;')}</ChannelUri></WindowsRegistrationDescription>"
    )
    fcm = entry(
        f"<FcmV1RegistrationDescription {NS}><Tags>{TAGS[0]}</Tags>"
        f"<FcmV1RegistrationId>{FCM}</FcmV1RegistrationId></FcmV1RegistrationDescription>"
    )
    installation = {"installationId": INSTALLATION_ID, "platform": "apns",
                    "pushChannel": HANDLE.lower(), "userId": USER, "tags": TAGS[:2]}  # fmt: skip
    patch = [{"op": "add", "path": "/tags", "value": TAGS[3]}]
    atom = {"Content-Type": "application/atom+xml;type=entry;charset=utf-8"}
    ids: list[str] = []
    async with aiohttp.ClientSession() as http:

        async def call(method: str, path: str, body: Any = None, **headers: str) -> str:
            sent = {"Authorization": token, "x-ms-version": "2020-06", **headers}
            data = json.dumps(body) if isinstance(body, list | dict) else body
            async with http.request(method, f"{url}{path}", data=data, headers=sent) as answer:
                assert answer.status < 300, (method, path, answer.status, await answer.text())
                return await answer.text()

        for body in (apple, wns, fcm):
            text = await call("POST", "/registrations?api-version=2020-06", body, **atom)
            ids.append(text.split("<RegistrationId>")[1].split("<")[0])
        await call("GET", f"/registrations/{ids[0]}?api-version=2020-06")
        await call("GET", f"/tags/{TAGS[0].replace(':', '%3A')}/registrations?api-version=2020-06")
        inst = f"/installations/{INSTALLATION_ID}?api-version=2020-06"
        await call("PUT", inst, installation, **{"Content-Type": "application/json"})
        await call("PATCH", inst, patch, **{"Content-Type": "application/json-patch+json"})
        await call("GET", inst)
        await call(
            "POST", "/messages?api-version=2020-06", '{"aps":{"alert":"hi"}}',
            **{"Content-Type": "application/json;charset=utf-8",
               "ServiceBusNotification-Format": "apple",
               "ServiceBusNotification-Tags": f"{TAGS[2]} && {TAGS[1]}"},
        )  # fmt: skip
        await call(
            "POST", "/messages?direct&api-version=2020-06", '{"aps":{"alert":"hi"}}',
            **{"Content-Type": "application/json;charset=utf-8",
               "ServiceBusNotification-Format": "apple",
               "ServiceBusNotification-DeviceHandle": HANDLE},
        )  # fmt: skip
        await call("DELETE", f"/registrations/{ids[1]}?api-version=2020-06", **{"If-Match": "*"})
    return ids


@pytest.fixture
async def realistic(tmp_path: Path) -> tuple[Path, list[str]]:
    key = generate_key()
    hub = await start_hub(
        HubSettings.build(
            connection_string=f"Endpoint=sb://x/;SharedAccessKeyName={FULL_RULE};SharedAccessKey={key}"
        )
    )
    db = tmp_path / "hubscope.db"
    try:
        proxy = await start_proxy(hub.url, db, session="real")
        try:
            ids = await _calls(f"http://127.0.0.1:{proxy.port}", key)
        finally:
            await serve.stop([proxy])
    finally:
        await hub.stop()
    return db, ids


def _bodies(document: dict[str, Any]) -> list[str]:
    out = []
    for e in document["log"]["entries"]:
        if "postData" in e["request"]:
            out.append(e["request"]["postData"]["text"])
        out.append(e["response"]["content"].get("text", ""))
    return [b for b in out if b]


@pytest.mark.parametrize("fmt", ["har", "jsonl"])
async def test_masked_exports_hold_no_original_and_still_parse(
    realistic: tuple[Path, list[str]], tmp_path: Path, fmt: str
) -> None:
    db, ids = realistic
    plain = tmp_path / f"plain.{fmt}"
    masked = tmp_path / f"masked.{fmt}"
    await export(db, "-o", str(plain))
    await export(db, "-o", str(masked), "--mask", "handles,tags,ids")
    secrets = [*ORIGINALS, *ids, CHANNEL.replace("&", "&amp;"), "user%3Aalice-42"]
    assert all(s.lower() in plain.read_text().lower() for s in ORIGINALS + ids)
    text = masked.read_text().lower()
    assert [s for s in secrets if s.lower() in text] == []
    if fmt == "har":
        document = json.loads(masked.read_text())
        for body in _bodies(document):
            if body.startswith("<"):
                etree.fromstring(body.encode())
            elif body.startswith(("{", "[")):
                json.loads(body)
    else:
        for line in masked.read_text().splitlines():
            value = json.loads(line)
            for side in ("request", "response"):
                body = (value[side] or {}).get("text") or ""
                if body.startswith("<"):
                    etree.fromstring(body.encode())
                elif body.startswith(("{", "[")):
                    json.loads(body)
    copy = await import_(db, masked)
    original, pseudo = rows(db, "real"), rows(db, copy)
    assert [(r["operation"], r["status"]) for r in original] == [
        (r["operation"], r["status"]) for r in pseudo
    ]
    assert all(r["request_decode_error"] is None and r["response_decode_error"] is None
               for r in pseudo)  # fmt: skip


async def test_one_value_one_pseudonym_across_url_headers_and_bodies(
    realistic: tuple[Path, list[str]], tmp_path: Path
) -> None:
    db, ids = realistic
    masked = tmp_path / "masked.jsonl"
    await export(db, "-o", str(masked), "--mask", "all")
    lines = [json.loads(line) for line in masked.read_text().splitlines()]
    create, read = lines[0], lines[3]
    registration = create["decoded"]["response"]["devices"][0]["registration_id"]
    assert registration != ids[0] and len(registration) == len(ids[0])
    assert read["url"].split("/registrations/")[1].startswith(registration + "?")
    handle = create["decoded"]["request"]["devices"][0]["handle"]
    assert len(handle) == 64 and int(handle, 16) and handle != HANDLE
    put, patch, got = lines[5], lines[6], lines[7]
    inst = put["decoded"]["request"]["devices"][0]["installation_id"]
    assert inst.startswith("installation-")
    assert f"/installations/{inst}?" in put["url"] and f"/installations/{inst}?" in got["url"]
    assert got["decoded"]["response"]["devices"][0]["handle"] == handle.lower()
    tag = create["decoded"]["request"]["devices"][0]["tags"][0]
    assert tag.startswith("tag-") and tag in put["decoded"]["request"]["devices"][0]["tags"]
    assert f"/tags/{tag}/registrations" in lines[4]["url"]
    added = json.loads(patch["request"]["text"])[0]["value"]
    assert added.startswith("tag-") and added in got["decoded"]["response"]["devices"][0]["tags"]
    expression = dict(lines[8]["request"]["headers"])["ServiceBusNotification-Tags"]
    assert " && " in expression and all(t.startswith("tag-") for t in expression.split(" && "))
    direct = dict(lines[9]["request"]["headers"])["ServiceBusNotification-DeviceHandle"]
    assert direct == handle.upper()
    wns = lines[1]["decoded"]["request"]["devices"][0]["handle"]
    assert wns.startswith("https://masked.invalid/handle-")
    assert lines[1]["findings"] == [] or all(
        CHANNEL not in f["actual"] for f in lines[1]["findings"]
    )


def test_only_the_chosen_kinds_are_masked() -> None:
    body = (
        f'{{"installationId":"{INSTALLATION_ID}","platform":"apns","pushChannel":"{HANDLE}",'
        f'"tags":["{TAGS[0]}"]}}'
    ).encode()
    exchange = Exchange(
        id="c" * 32, session="s", started_at=1.0, duration_ms=1.0, method="PUT",
        url=f"https://ns.servicebus.windows.net/hub/installations/{INSTALLATION_ID}?api-version=2020-06",
        request=Message(headers=(("Content-Type", "application/json"),), body=body),
        status=200, response=Message(headers=(), body=b""),
    )  # fmt: skip
    masker = Masker(parse_kinds("tags"))
    masker.learn(exchange, decode(exchange))
    out = masker.exchange(exchange)
    assert TAGS[0] not in out.request.body.decode() and HANDLE in out.request.body.decode()
    assert INSTALLATION_ID in out.url
    assert json.loads(out.request.body)["tags"] == ["tag-1"]


def test_escaped_values_markup_and_keys_are_handled() -> None:
    masker = Masker(parse_kinds("all"))
    masker._add("handles", CHANNEL, "handle")
    masker._add("tags", "platform", "tag")  # a tag named like a JSON key
    masker._add("ids", INSTALLATION_ID, "installation")
    xml = (
        f"<r a='{CHANNEL.replace('&', '&amp;')}'><ChannelUri>{CHANNEL.replace('&', '&amp;')}"
        '</ChannelUri><![CDATA[{"platform":"platform"}]]><platform>x</platform></r>'
    ).encode()
    out = masker.body(xml).decode()
    assert "notify.windows.com" not in out
    assert "<platform>x</platform>" in out and '{"platform":"tag-1"}' in out
    etree.fromstring(out.encode())
    data = json.dumps({"platform": "platform", "uri": CHANNEL, "note": "ü"}).encode()
    assert json.loads(masker.body(data)) == {
        "platform": "tag-1", "uri": "https://masked.invalid/handle-1", "note": "ü",
    }  # fmt: skip
    audience = "http%3a%2f%2fns%2fhub%2finstallations%2f" + INSTALLATION_ID.lower()
    header = masker.headers((("Authorization", f"SharedAccessSignature sr={audience}&sig=x"),))
    assert INSTALLATION_ID.lower() not in header[0][1] and "%2finstallation-1" in header[0][1]
    with pytest.raises(ValueError, match="--mask takes"):
        parse_kinds("handles,phones")
