"""The demo's traffic: every seed operation, every platform, and the classic mistakes."""

from __future__ import annotations

import json
import logging
import re

from proxy.demo.client import ATOM_ENTRY, Answer, HubClient, atom_entry, cdata, headers_xml

log = logging.getLogger(__name__)

APNS_TOKEN = "62BCD3A3A6F5B6E8C0C5A1F0E5D8B3A2C4F1E7D9B0A3C5E8F2D4B6A8C0E2F4A6"
WNS_CHANNEL = "https://db5p.notify.windows.com/?token=AwYAAAB%2bdemo"
FCM_TOKEN = "fcm-token-dGVzdC1kZXZpY2UtMQ:APA91bH_demo"
JSON_TEMPLATE = '{"aps":{"alert":"$(message)"}}'
TOAST = (
    '<toast><visual><binding template="ToastText01">'
    '<text id="1">$(message)</text></binding></visual></toast>'
)

NATIVE_KINDS: dict[str, list[tuple[str, str]]] = {
    "AppleRegistrationDescription": [("DeviceToken", APNS_TOKEN)],
    "WindowsRegistrationDescription": [("ChannelUri", WNS_CHANNEL.replace("&", "&amp;"))],
    "GcmRegistrationDescription": [("GcmRegistrationId", "gcm-legacy-token-1")],
    "FcmV1RegistrationDescription": [("FcmV1RegistrationId", FCM_TOKEN)],
    "MpnsRegistrationDescription": [("ChannelUri", "https://s.notify.live.net/u/1/demo")],
    "AdmRegistrationDescription": [("AdmRegistrationId", "amzn1.adm-registration.v3.demo")],
    "BaiduRegistrationDescription": [("BaiduUserId", "baidu-user-1"), ("BaiduChannelId", "4242")],
    "BrowserRegistrationDescription": [
        ("Endpoint", "https://fcm.googleapis.com/fcm/send/demo-endpoint"),
        ("P256DH", "BPdemoP256dhKey"),
        ("Auth", "demoAuthSecret"),
    ],
    "XiaomiRegistrationDescription": [("XiaomiRegistrationId", "xiaomi-reg-1")],
}

TEMPLATE_EXTRAS: dict[str, list[tuple[str, str]]] = {
    "WindowsTemplateRegistrationDescription": [
        ("BodyTemplate", cdata(TOAST)),
        ("WnsHeaders", headers_xml("WnsHeader", [("X-WNS-Type", "wns/toast")])),
        ("TemplateName", "toast"),
    ],
    "AppleTemplateRegistrationDescription": [
        ("BodyTemplate", cdata(JSON_TEMPLATE)),
        ("Expiry", "2030-01-01T00:00:00Z"),
        ("TemplateName", "alert"),
    ],
    "MpnsTemplateRegistrationDescription": [
        ("BodyTemplate", cdata('<wp:Notification xmlns:wp="WPNotification"/>')),
        (
            "MpnsHeaders",
            headers_xml("MpnsHeader", [("X-WindowsPhone-Target", "toast")]),
        ),
        ("TemplateName", "toast"),
    ],
}


def template_fields(native: str) -> tuple[str, list[tuple[str, str]]]:
    """The template kind of a native kind, with its handle fields and template block."""
    kind = native.replace("RegistrationDescription", "TemplateRegistrationDescription")
    extras = TEMPLATE_EXTRAS.get(
        kind, [("BodyTemplate", cdata('{"data":{"msg":"$(message)"}}')), ("TemplateName", "data")]
    )
    return kind, NATIVE_KINDS[native] + extras


def tagged(tags: str, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("Tags", tags), *fields]


INSTALLATIONS: list[dict[str, object]] = [
    {
        "installationId": "demo-apns",
        "platform": "apns",
        "pushChannel": APNS_TOKEN.lower(),
        "userId": "user:42",
        "tags": ["user:42", "lang:en"],
        "templates": {"alert": {"body": JSON_TEMPLATE, "tags": ["alerts"]}},
    },
    {
        "installationId": "demo-wns",
        "platform": "wns",
        "pushChannel": WNS_CHANNEL,
        "tags": ["user:42"],
        "templates": {"toast": {"body": TOAST, "headers": {"X-WNS-Type": "wns/toast"}}},
    },
    {
        "installationId": "demo-fcmv1",
        "platform": "fcmV1",
        "pushChannel": FCM_TOKEN,
        "tags": ["user:7"],
    },
    {"installationId": "demo-gcm", "platform": "gcm", "pushChannel": "gcm-legacy-token-2"},
    {
        "installationId": "demo-adm",
        "platform": "adm",
        "pushChannel": "amzn1.adm-registration.v3.inst",
    },
    {"installationId": "demo-baidu", "platform": "baidu", "pushChannel": "baidu-user-2-4343"},
    {"installationId": "demo-xiaomi", "platform": "xiaomi", "pushChannel": "xiaomi-reg-2"},
    {
        "installationId": "demo-browser",
        "platform": "browser",
        "pushChannel": {
            "endpoint": "https://fcm.googleapis.com/fcm/send/inst",
            "p256dh": "BPinst",
            "auth": "instAuth",
        },
    },
    {
        "installationId": "demo-mpns",
        "platform": "mpns",
        "pushChannel": "https://s.notify.live.net/u/1/inst",
    },
]


def _registration_id(answer: Answer) -> str | None:
    match = re.search(rb"<RegistrationId>([^<]+)</RegistrationId>", answer.body)
    if match:
        return match.group(1).decode()
    location = answer.headers.get("Location", "")
    return location.rstrip("/").split("?")[0].rsplit("/", 1)[-1] or None


async def run(client: HubClient) -> list[tuple[str, int]]:
    """Drive the whole scenario; returns (what, status) per call for the summary."""
    done: list[tuple[str, int]] = []

    async def call(what: str, method: str, path: str, **kw: object) -> Answer:
        answer = await client.call(method, path, **kw)  # type: ignore[arg-type]
        done.append((what, answer.status))
        log.debug("%s → %d", what, answer.status)
        return answer

    for native in NATIVE_KINDS:
        await call(
            f"create {native}",
            "POST",
            "registrations",
            body=atom_entry(native, tagged("demo,platform:native", NATIVE_KINDS[native])),
            content_type=ATOM_ENTRY,
        )
        kind, fields = template_fields(native)
        await call(
            f"create {kind}",
            "POST",
            "registrations",
            body=atom_entry(kind, tagged("demo,platform:template", fields)),
            content_type=ATOM_ENTRY,
        )

    # The recommended flow: create a registration ID, then create-or-update with PUT.
    new_id = await call(
        "create registration id", "POST", "registrationIDs", body=b"", content_type=ATOM_ENTRY
    )
    rid = _registration_id(new_id) or "missing-id"
    apple = NATIVE_KINDS["AppleRegistrationDescription"]
    put = await call(
        "create or update registration",
        "PUT",
        f"registrations/{rid}",
        body=atom_entry("AppleRegistrationDescription", tagged("user:42,lang:en", apple)),
        content_type=ATOM_ENTRY,
    )
    etag = put.headers.get("ETag") or 'W/"1"'
    await call(
        "update registration (If-Match)",
        "PUT",
        f"registrations/{rid}",
        body=atom_entry("AppleRegistrationDescription", tagged("user:42,lang:fr", apple)),
        content_type=ATOM_ENTRY,
        headers={"If-Match": etag},
    )
    await call(
        "update with a stale ETag",
        "PUT",
        f"registrations/{rid}",
        body=atom_entry("AppleRegistrationDescription", tagged("user:42", apple)),
        content_type=ATOM_ENTRY,
        headers={"If-Match": 'W/"1"'},
    )
    await call("read registration", "GET", f"registrations/{rid}")
    await call("list registrations by tag", "GET", "tags/user:42/registrations", query="&$top=10")
    await call(
        "list registrations by channel",
        "GET",
        "registrations",
        query=f"&$filter=DeviceToken+eq+%27{APNS_TOKEN}%27",
    )
    await call("list all registrations (page 1)", "GET", "registrations", query="&$top=5")

    for installation in INSTALLATIONS:
        await call(
            f"installation {installation['platform']}",
            "PUT",
            f"installations/{installation['installationId']}",
            body=json.dumps(installation).encode(),
            content_type="application/json",
        )
    await call("read installation", "GET", "installations/demo-apns")
    patch = [
        {"op": "add", "path": "/tags", "value": "likes:football"},
        {"op": "replace", "path": "/userId", "value": "user:43"},
    ]
    await call(
        "patch installation",
        "PATCH",
        "installations/demo-apns",
        body=json.dumps(patch).encode(),
        content_type="application/json-patch+json",
    )
    await call("delete installation", "DELETE", "installations/demo-mpns")
    await call(
        "template send",
        "POST",
        "messages",
        body=b'{"message":"Hello from hubscope"}',
        content_type="application/json;charset=utf-8",
        headers={
            "ServiceBusNotification-Format": "template",
            "ServiceBusNotification-Tags": "user:42",
        },
    )

    # The classic mistakes.
    for attempt in ("first", "second"):
        await call(
            f"duplicate registration ({attempt} app start)",
            "POST",
            "registrations",
            body=atom_entry(
                "AppleRegistrationDescription",
                tagged("user:99", [("DeviceToken", APNS_TOKEN[::-1])]),
            ),
            content_type=ATOM_ENTRY,
        )
    await call(
        "WNS template without X-WNS-Type",
        "POST",
        "registrations",
        body=atom_entry(
            "WindowsTemplateRegistrationDescription",
            [("ChannelUri", WNS_CHANNEL.replace("&", "&amp;")), ("BodyTemplate", cdata(TOAST))],
        ),
        content_type=ATOM_ENTRY,
    )
    await call("expired SAS token", "GET", f"registrations/{rid}", expired_token=True)
    await call(
        "FcmRegistrationDescription root",
        "POST",
        "registrations",
        body=atom_entry("FcmRegistrationDescription", [("GcmRegistrationId", "x")]),
        content_type=ATOM_ENTRY,
    )
    await call(
        "tags after the handle (silently dropped)",
        "POST",
        "registrations",
        body=atom_entry(
            "AppleRegistrationDescription", [("DeviceToken", APNS_TOKEN), ("Tags", "lost-tag")]
        ),
        content_type=ATOM_ENTRY,
    )
    await call(
        "installation without pushChannel",
        "PUT",
        "installations/broken",
        body=b'{"installationId":"broken","platform":"apns"}',
        content_type="application/json",
    )
    await call("delete registration", "DELETE", f"registrations/{rid}", headers={"If-Match": "*"})
    return done
