"""The benchmark's traffic: what the Notification Hubs JS SDK sends, and what the hub answers.

Shapes are taken from the real-traffic corpus (azure-sdk-for-js recordings and the
local captures): a create-registration POST in Atom XML answered with an Atom entry,
and an installation PUT in JSON answered with an empty 200. Both carry a SAS
`Authorization` header, so the recorder's redaction does real work.
"""

from __future__ import annotations

import uuid

HUB = "myhub"
API = "api-version=2020-06"
# A well-formed SAS token expiring in 2033; the signature is fake (nothing checks it).
AUTH = (
    "SharedAccessSignature sr=http%3A%2F%2F127.0.0.1%2F&sig=APYeJtWb0zRhnd%2B%2FNVQaH71cqo3wvACIS"
    "g%2F0j9Qv6xU%3D&se=2000000000&skn=DefaultFullSharedAccessSignature"
)
COMMON_HEADERS = {
    "Authorization": AUTH,
    "x-ms-version": "2020-06",
    "Accept-Encoding": "gzip,deflate",
    "User-Agent": (
        "azsdk-js-notificationhubs/2.1.0 core-rest-pipeline/1.24.0 Node/20.20.2 (Linux; x64)"
    ),
}
ATOM_CT = "application/atom+xml;type=entry;charset=utf-8"


def device_token(n: int) -> str:
    return f"{n:016x}" * 4


def registration_body(n: int) -> bytes:
    """The SDK's createRegistration body (an Apple registration with tags)."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<entry xmlns="http://www.w3.org/2005/Atom"><updated>2026-11-22T13:24:17.038Z</updated>'
        '<content type="application/xml"><AppleRegistrationDescription '
        'xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
        f"<Tags>likes_football,likes_hockey,user_{n % 1000}</Tags>"
        f"<DeviceToken>{device_token(n)}</DeviceToken>"
        "</AppleRegistrationDescription></content></entry>"
    ).encode()


def installation_id(n: int) -> str:
    return str(uuid.UUID(int=(0x0E7C5973714C4BA9A2337C4497D5F43B + n) % (1 << 128)))


def installation_body(n: int) -> bytes:
    """The SDK's createOrUpdateInstallation body (APNs, tags, one template)."""
    return (
        f'{{"installationId":"{installation_id(n)}","platform":"apns",'
        f'"pushChannel":"{device_token(n)}","tags":["likes_hockey","likes_football",'
        f'"user_{n % 1000}"],"templates":{{"greeting":{{"body":"{{\\"aps\\":{{\\"alert\\":'
        f'\\"$(message)\\"}}}}","tags":["greeting"]}}}}}}'
    ).encode()


def registration_request(n: int) -> tuple[str, str, dict[str, str], bytes]:
    headers = dict(COMMON_HEADERS)
    headers["Content-Type"] = ATOM_CT
    headers["x-ms-azsdk-telemetry"] = (
        "class=NotificationHubsServiceClient;method=createRegistration"
    )
    return "POST", f"/{HUB}/registrations?{API}", headers, registration_body(n)


def installation_request(n: int) -> tuple[str, str, dict[str, str], bytes]:
    headers = dict(COMMON_HEADERS)
    headers["Content-Type"] = "application/json"
    headers["x-ms-azsdk-telemetry"] = (
        "class=NotificationHubsServiceClient;method=createOrUpdateInstallation"
    )
    return "PUT", f"/{HUB}/installations/{installation_id(n)}?{API}", headers, installation_body(n)


def request(n: int) -> tuple[str, str, dict[str, str], bytes]:
    """The n-th request of the mix: even → create registration, odd → installation PUT."""
    return registration_request(n) if n % 2 == 0 else installation_request(n)


# ---- the hub's answers ----


def registration_id(n: int) -> str:
    return f"6697408331423959588-2655644891200398098-{n}"


def registration_response(n: int, host: str) -> tuple[list[tuple[str, str]], bytes]:
    rid = registration_id(n)
    url = f"http://{host}/{HUB}/registrations/{rid}?{API}"
    body = (
        '<entry a:etag="W/&quot;1&quot;" xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:a="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<id>{url}</id><title type="text">{rid}</title>'
        "<published>2026-11-22T13:24:17Z</published><updated>2026-11-22T13:24:17Z</updated>"
        f'<link rel="self" href="{url}"/><content type="application/xml">'
        "<AppleRegistrationDescription "
        'xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><ETag>1</ETag>'
        "<ExpirationTime>9999-12-31T23:59:59.999</ExpirationTime>"
        f"<RegistrationId>{rid}</RegistrationId>"
        f"<Tags>likes_football,likes_hockey,user_{n % 1000}</Tags>"
        f"<DeviceToken>{device_token(n).upper()}</DeviceToken>"
        "</AppleRegistrationDescription></content></entry>"
    ).encode()
    headers = [
        ("Content-Type", "application/atom+xml; type=entry; charset=utf-8"),
        ("Content-Location", url),
        ("ETag", 'W/"1"'),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Strict-Transport-Security", "max-age=2592000"),
        ("TrackingId", "13051373-7296-476c-87c1-0527a9e31042"),
        ("x-ms-correlation-request-id", "c4bb2a96-f4f1-453c-abda-1bd1371bc563"),
    ]
    return headers, body


def installation_response() -> tuple[list[tuple[str, str]], bytes]:
    headers = [
        ("Content-Type", "application/xml; charset=utf-8"),
        ("Server", "Microsoft-HTTPAPI/2.0"),
        ("Strict-Transport-Security", "max-age=2592000"),
        ("TrackingId", "7fbf5a66-8361-4475-b757-f4b701270780"),
        ("x-ms-correlation-request-id", "821d8fe8-b54f-450a-91aa-389d299893c8"),
    ]
    return headers, b""
