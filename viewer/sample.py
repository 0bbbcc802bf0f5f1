"""A small, realistic recorded session for tests, the demo and the benchmark.

Registrations (Atom) and installations (JSON) on several platforms, a tag change, a
rotated handle, an `<Error>` answer and one call without `api-version` (a known finding).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from proxy import store
from proxy.exchange import Exchange, Message, new_id
from proxy.store import rows

NS = "https://contoso.servicebus.windows.net"
HUB = "myhub"
SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
SAS = (
    "SharedAccessSignature sr=https%3a%2f%2fcontoso.servicebus.windows.net%2fmyhub"
    "&sig=REDACTED&se=1900000000&skn=Full"
)
ATOM = "application/atom+xml;type=entry;charset=utf-8"
APNS_TOKEN = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"
APNS_ROTATED = "11ab24beee896233c5be39910b4531093452352532459108989f688d002ef9a1"
FCM_TOKEN = "fcm-eXaMpLe:APA91bH-installation-token-0001"
REG_ID = "8155629011389213557-5546734466329651938-1"
REG_ID_2 = "8155629011389213557-5546734466329651938-2"
INSTALLATION_ID = "inst-0001"


def apple_entry(token: str, tags: str, *, reg_id: str | None = None) -> bytes:
    ids = (
        f"<RegistrationId>{reg_id}</RegistrationId><ETag>1</ETag>"
        "<ExpirationTime>9999-12-31T23:59:59.9999999Z</ExpirationTime>"
        if reg_id else ""
    )  # fmt: skip
    return (
        '<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom">'
        '<content type="application/xml">'
        f'<AppleRegistrationDescription xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns="{SB}">{ids}<Tags>{tags}</Tags><DeviceToken>{token}</DeviceToken>'
        "</AppleRegistrationDescription></content></entry>"
    ).encode()


def installation(tags: list[str], token: str = FCM_TOKEN) -> bytes:
    template = {"body": '{"message":{"data":{"m":"$(m)"}}}'}
    body = {"installationId": INSTALLATION_ID, "platform": "fcmv1", "pushChannel": token,
            "tags": tags, "templates": {"hello": template}}  # fmt: skip
    return json.dumps(body).encode()


def exchange(
    method: str, path: str, status: int, *, body: bytes = b"", content_type: str | None = None,
    answer: bytes = b"", answer_type: str | None = None, session: str, at: float,
    api_version: str | None = "2015-01",
) -> Exchange:  # fmt: skip
    """One recorded call with the headers a real SDK sends."""
    query = f"?api-version={api_version}" if api_version else ""
    headers = [("Authorization", SAS), ("x-ms-version", "2015-01")]
    if content_type:
        headers.append(("Content-Type", content_type))
    answer_headers = [("Content-Type", answer_type)] if answer_type else []
    return Exchange(
        id=new_id(), session=session, started_at=at, duration_ms=12.5, method=method,
        url=f"{NS}/{HUB}/{path}{query}", request=Message(headers=tuple(headers), body=body),
        status=status, reason="OK" if status < 400 else "Error",
        response=Message(headers=tuple(answer_headers), body=answer), client="127.0.0.1:50000",
    )  # fmt: skip


def scenario(session: str = "demo", start: float | None = None) -> list[Exchange]:
    """Eight calls, one second apart, telling a device's story (and a duplicate)."""
    t = start if start is not None else time.time() - 60
    error = (b"<Error><Code>404</Code><Detail>Registration not found.TrackingId:1a2b,"
             b"TimeStamp:2026-11-23T10:00:00</Detail></Error>")  # fmt: skip
    return [
        exchange("POST", "registrations", 201, body=apple_entry(APNS_TOKEN, "user:42,lang:en"),
                 content_type=ATOM, answer=apple_entry(APNS_TOKEN, "user:42,lang:en",
                 reg_id=REG_ID), answer_type=ATOM, session=session, at=t),
        exchange("GET", f"registrations/{REG_ID}", 200, answer=apple_entry(
                 APNS_TOKEN, "user:42,lang:en", reg_id=REG_ID), answer_type=ATOM,
                 session=session, at=t + 1),
        exchange("PUT", f"registrations/{REG_ID}", 200,
                 body=apple_entry(APNS_ROTATED, "user:42,lang:fr,beta", reg_id=REG_ID),
                 content_type=ATOM, answer=apple_entry(APNS_ROTATED, "user:42,lang:fr,beta",
                 reg_id=REG_ID), answer_type=ATOM, session=session, at=t + 2),
        exchange("PUT", f"installations/{INSTALLATION_ID}", 200,
                 body=installation(["user:42", "android"]), content_type="application/json",
                 session=session, at=t + 3),
        exchange("PUT", f"installations/{INSTALLATION_ID}", 200,
                 body=installation(["user:42", "android", "vip"]),
                 content_type="application/json", session=session, at=t + 4, api_version=None),
        exchange("GET", "registrations/does-not-exist", 404, answer=error,
                 answer_type="application/xml", session=session, at=t + 5),
        exchange("DELETE", f"registrations/{REG_ID}", 200, session=session, at=t + 6),
        exchange("POST", "registrations", 201, body=apple_entry(APNS_TOKEN, "user:42"),
                 content_type=ATOM, answer=apple_entry(APNS_TOKEN, "user:42",
                 reg_id=REG_ID_2), answer_type=ATOM, session=session, at=t + 7),
    ]  # fmt: skip


def record(db_path: str | Path, exchanges: list[Exchange], *, kind: str = "demo") -> None:
    """Write exchanges through the real row builder (decoders included), as the proxy does."""
    db = store.connect(db_path)
    try:
        for name in dict.fromkeys(ex.session for ex in exchanges):
            store.ensure_session(db, name, kind=kind, upstream=NS)
        store.write_rows(db, rows.build(exchanges, body_cap=1 << 20, keys={}))
    finally:
        db.conn.close()


FCM_ERROR = (
    b"<Error><Code>400</Code><Detail>The content type for a 'FcmRegistrationDescription'"
    b" registration is not supported. TrackingId:9f8e7d6c-0000-4bad-beef-000000000400,"
    b"TimeStamp:2026-11-23T10:00:07</Detail></Error>"
)


def troubles(session: str = "demo", start: float | None = None) -> list[Exchange]:
    """Two calls that fail: a legacy FCM registration the service refuses (400, with a rule
    that says why) and a busy hub (503)."""
    t = start if start is not None else time.time() - 30
    fcm = apple_entry(APNS_TOKEN, "user:42").replace(
        b"AppleRegistrationDescription", b"FcmRegistrationDescription"
    ).replace(b"DeviceToken", b"FcmRegistrationId")
    return [
        exchange("POST", "registrations", 400, body=fcm, content_type=ATOM, answer=FCM_ERROR,
                 answer_type="application/xml; charset=utf-8", session=session, at=t),
        exchange("GET", f"registrations/{REG_ID}", 503, session=session, at=t + 1),
    ]  # fmt: skip
