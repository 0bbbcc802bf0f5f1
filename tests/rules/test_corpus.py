"""The rules on real traffic: known client deviations found, real service answers not errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from proxy import sas
from proxy.decode import decode_exchange
from proxy.exchange import Exchange, Message
from proxy.model import Decoded
from proxy.rules import Finding, check, check_session
from tests.corpus import (
    LOCAL_CAPTURE,
    MockCall,
    http_mocks,
    iter_local_capture,
    iter_recording_entries,
    read_http_mock,
    recordings,
)

JS_HTTP = LOCAL_CAPTURE / "azure-notification-hubs-js-2.1.0" / "requests-http.jsonl"


def _local(path: Path) -> tuple[list[Finding], list[Finding], dict[str, Decoded]]:
    """Captured requests, judged at a time inside their own token's lifetime."""
    items = []
    for index, rec in enumerate(iter_local_capture(path)):
        token = sas.parse_token(rec.request.header("Authorization") or "")
        started = float(token.expiry - 1800) if token and token.expiry else 0.0
        url = f"http://{rec.request.header('Host')}{rec.url}"
        ex = Exchange(id=f"{path.parent.name}#{index}", session="s", started_at=started,
                      duration_ms=1.0, method=rec.method, url=url, request=rec.request)  # fmt: skip
        items.append((ex, decode_exchange(ex.method, ex.url, ex.request, None, None)))
    findings = [f for ex, dec in items for f in check(ex, dec)]
    return findings, check_session(items), {ex.id: dec for ex, dec in items}


def _kind(decoded: Decoded) -> str:
    devices = decoded.request.devices
    return devices[0].source_type if devices else decoded.operation.name.value


def test_js_sdk_registration_deviations() -> None:
    findings, _, decoded = _local(JS_HTTP)
    found = {(_kind(decoded[f.exchange_id]), f.rule, f.severity, f.pointer) for f in findings}
    assert found == {
        ("AppleTemplateRegistrationDescription", "registration.element-order-optional",
         "warning", "Expiry"),
        ("BaiduRegistrationDescription", "registration.element-order-required", "error",
         "BaiduUserId"),
        ("BaiduTemplateRegistrationDescription", "registration.element-order-required", "error",
         "BaiduUserId"),
        ("WindowsTemplateRegistrationDescription", "registration.element-order-required",
         "error", "WnsHeaders"),
        # the SDK's own test builds an MPNS template with X-NotificationClass only
        ("MpnsTemplateRegistrationDescription", "registration.mpns-target", "error",
         "MpnsHeaders"),
        ("installation", "installation.template-headers", "warning", "/templates/t1/headers"),
    }  # fmt: skip


def test_js_sdk_session_mixes_registrations_and_installations() -> None:
    _, session, _ = _local(JS_HTTP)
    assert [f.rule for f in session] == ["session.registration-and-installation"]


@pytest.mark.parametrize("name", ["azure-notification-hub-unofficial-0.1.0",
                                  "notificationhubs-rest-python-1.0.3"])  # fmt: skip
def test_python_clients_have_no_errors(name: str) -> None:
    findings, _, _ = _local(LOCAL_CAPTURE / name / "requests.jsonl")
    assert [f for f in findings if f.severity == "error"] == []


def _recorded(path: Path) -> list[tuple[Exchange, Decoded]]:
    """A test-proxy recording; its sanitized Authorization is replaced by a real-shaped token."""
    items = []
    for index, rec in enumerate(iter_recording_entries(path)):
        token = sas.make_token(f"https://{urlsplit(rec.url).netloc}/", "k", "key", now=0)
        headers = tuple(
            (k, token if k.lower() == "authorization" else v) for k, v in rec.request.headers
        )
        request = Message(headers=headers, body=rec.request.body)
        ex = Exchange(id=f"{path.parent.name}#{index}", session=str(path), started_at=60.0,
                      duration_ms=1.0, method=rec.method, url=rec.url, request=request,
                      status=rec.status, response=rec.response)  # fmt: skip
        items.append((ex, decode_exchange(ex.method, ex.url, request, ex.status, ex.response)))
    return items


@pytest.mark.parametrize("path", recordings(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recordings_against_real_hubs_have_no_errors(path: Path) -> None:
    items = _recorded(path)
    findings = [f for ex, dec in items for f in check(ex, dec)] + check_session(items)
    assert [f for f in findings if f.severity == "error"] == []
    # the only warnings: the beta SDK's delete-sent-as-GET and the tests' repeated POSTs
    warnings = {f.rule for f in findings if f.severity == "warning"}
    assert warnings <= {"registration.read-if-match", "session.duplicate-registration"}


def test_real_service_200_for_create_is_a_note() -> None:
    notes: Counter[tuple[str, int | None, str]] = Counter()
    for path in recordings():
        for ex, dec in _recorded(path):
            for f in check(ex, dec):
                if f.rule == "response.status-docs-differ":
                    notes[(dec.operation.name.value, ex.status, f.severity)] += 1
    assert notes[("create_registration", 200, "note")] >= 1


def _mock_method(call: MockCall) -> str:
    """The .NET mocks keep no method; infer it from the path and the answer."""
    parts = [p.lower() for p in urlsplit(call.path).path.split("/") if p]
    resource = parts[1] if len(parts) > 1 else ""
    body = call.response.body.lstrip()[:1]
    if resource in ("registrationids", "messages") or call.response.header("Content-Location"):
        return "POST"
    if resource == "schedulednotifications":
        return "POST" if len(parts) == 2 else "DELETE"
    if resource == "installations":
        return "DELETE" if call.status == 204 else "GET" if body in (b"{", b"<") else "PUT"
    if resource == "registrations" and len(parts) == 3 and not body and call.status == 200:
        return "DELETE"
    return "GET"


def test_dotnet_recorded_responses_have_no_errors_or_warnings() -> None:
    seen: Counter[tuple[str, str]] = Counter()
    for path in http_mocks():
        for index, call in enumerate(read_http_mock(path, lenient=True)):
            method, url = _mock_method(call), f"https://ns.servicebus.windows.net{call.path}"
            request = Message(headers=(), body=b"")
            ex = Exchange(id=f"{path.name}#{index}", session="s", started_at=0.0,
                          duration_ms=1.0, method=method, url=url, request=request,
                          status=call.status, response=call.response)  # fmt: skip
            dec = decode_exchange(method, url, request, call.status, call.response)
            for f in check(ex, dec):
                if f.rule.startswith("response."):  # requests were not recorded
                    seen[(f.rule, f.severity)] += 1
    assert {severity for _, severity in seen} == {"note"}
    assert seen[("response.status-docs-differ", "note")] > 0
    assert seen[("response.content-type", "note")] > 0  # installation JSON labelled XML


DOTNET_BODY = (
    '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
    '<RegistrationDescription xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
    'i:type="AppleTemplateRegistrationDescription" '
    'xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">'
    '<ExpirationTime i:nil="true"/><RegistrationId i:nil="true"/><Tags>a,b</Tags>'
    "<DeviceToken>00FC13ADFF785122</DeviceToken>"
    '<BodyTemplate><![CDATA[{"aps":{"alert":"$(m)"}}]]></BodyTemplate>'
    '<Expiry i:nil="true"/><TemplateName>t</TemplateName>'
    "</RegistrationDescription></content></entry>"
)


def test_dotnet_i_type_root_is_accepted() -> None:
    url = "https://ns.servicebus.windows.net/myhub/registrations?api-version=2020-06"
    token = sas.make_token("http://ns.servicebus.windows.net/myhub/registrations/", "k", "x")
    request = Message(headers=(("Authorization", token), ("TrackingId", "t"),
                               ("Content-Type", "application/atom+xml; charset=utf-8; type=entry")),
                      body=DOTNET_BODY.encode())  # fmt: skip
    ex = Exchange(id="net", session="s", started_at=0.0, duration_ms=1.0, method="POST",
                  url=url, request=request)  # fmt: skip
    findings = check(ex, decode_exchange("POST", url, request, None, None))
    # .NET never sends x-ms-version: a documented header the service does not require
    assert [(f.rule, f.severity) for f in findings] == [("common.x-ms-version", "warning")]
