"""Every spec rule with a passing and a failing example, built through the real decoder."""

from __future__ import annotations

import pytest

from proxy.rules import RULES, SESSION_RULES, check, check_session
from tests.rules.factories import (
    APPLE,
    BODY,
    HOST,
    MPNS,
    NOW,
    TOKEN_EL,
    WNS,
    XML_BODY,
    Item,
    el,
    entry,
    headers_xml,
    inst,
    installation,
    make,
    patch,
    reg,
    sas_header,
    tpl,
)
from tests.rules.test_sends import SEND_EXAMPLES

SR = "https%3A%2F%2Fns.servicebus.windows.net%2F"
PREVIEW = 1_361_543_849.0  # 22 February 2013, when the service took calls without api-version
GOOD_SE = str(int(NOW + 600))
PROXY_TOKEN = {
    "Host": "localhost:8443",
    **sas_header(sr="https%3A%2F%2Flocalhost%3A8443%2F", sig="x", se=GOOD_SE, skn="k"),
}
APPLE_TEMPLATE = "AppleTemplateRegistrationDescription"
WINDOWS_TEMPLATE = "WindowsTemplateRegistrationDescription"
MPNS_TEMPLATE = "MpnsTemplateRegistrationDescription"
BAIDU = "BaiduRegistrationDescription"
WNS_TYPE = headers_xml("Wns", X_WNS_Type="wns/toast")
RESPONSE_ATOM = {"Content-Type": "application/atom+xml; type=entry; charset=utf-8", "ETag": 'W/"1"'}

EXAMPLES: dict[str, tuple[Item, Item]] = {
    "common.route": (make("GET", "registrations/1"), make("PATCH", "registrations/1", APPLE)),
    "common.route-unknown": (make("GET", "registrations"), make("GET", "", query=None)),
    "common.api-version": (reg(TOKEN_EL), reg(TOKEN_EL, query=None)),
    "common.version-known": (
        reg(TOKEN_EL),
        reg(TOKEN_EL, query="api-version=2099-01", headers={"x-ms-version": None}),
    ),
    "common.x-ms-version": (reg(TOKEN_EL), reg(TOKEN_EL, headers={"x-ms-version": None})),
    "common.version-consistent": (
        reg(TOKEN_EL),
        reg(TOKEN_EL, headers={"x-ms-version": "2015-01"}),
    ),
    "common.content-type-present": (reg(TOKEN_EL), reg(TOKEN_EL, headers={"Content-Type": None})),
    "common.content-type": (
        reg(TOKEN_EL, headers={"Content-Type": "application/atom+xml; charset=utf-8; type=entry"}),
        inst(installation(), headers={"Content-Type": "text/plain"}),
    ),
    "common.authorization": (reg(TOKEN_EL), reg(TOKEN_EL, headers={"Authorization": "Bearer x"})),
    "common.authorization-unjudged": (
        reg(TOKEN_EL, headers={"Authorization": None}, status=401),
        reg(TOKEN_EL, headers={"Authorization": "Sanitized"}),
    ),
    "common.api-version-accepted": (
        reg(TOKEN_EL, query=None, status=200, started_at=NOW),
        reg(TOKEN_EL, query=None, status=200, started_at=PREVIEW),
    ),
    "common.query-separator": (
        make("POST", "messages", "{}", query="api-version=2013-07", status=201),
        make("POST", "Messages&api-version=2013-07", "{}", query=None, status=201),
    ),
    "sas.fields": (
        reg(TOKEN_EL, headers=sas_header(sr=SR, sig="x", se=GOOD_SE, skn="k")),
        reg(TOKEN_EL, headers=sas_header(sr=SR, sig="x", skn="k")),
    ),
    "sas.skn": (
        reg(TOKEN_EL, headers=sas_header(sr=SR, sig="x", se=GOOD_SE, skn="k")),
        reg(TOKEN_EL, headers=sas_header(sr=SR, sig="x", se=GOOD_SE)),
    ),
    "sas.expired": (reg(TOKEN_EL), reg(TOKEN_EL, started_at=NOW + 7200)),
    "sas.audience": (
        reg(
            TOKEN_EL,
            headers=sas_header(
                sr="http%3a%2f%2fns.servicebus.windows.net%2fmyhub%2f", sig="x", se=GOOD_SE, skn="k"
            ),
        ),
        reg(
            TOKEN_EL,
            headers=sas_header(
                sr="https%3A%2F%2Fother.servicebus.windows.net%2F", sig="x", se=GOOD_SE, skn="k"
            ),
        ),
    ),  # fmt: skip
    "sas.audience-proxy": (
        reg(TOKEN_EL, headers=PROXY_TOKEN, verdict="valid; re-signed by hubscope for https://ns/"),
        reg(TOKEN_EL, headers=PROXY_TOKEN, status=401),
    ),
    "sas.signature": (
        reg(TOKEN_EL, verdict="valid"),
        reg(TOKEN_EL, verdict="invalid: the signature does not match the configured key"),
    ),
    "registration.body": (reg(TOKEN_EL), make("POST", "registrations", "<entry><content>")),
    "registration.fcm-root": (
        reg(el("GcmRegistrationId", "r"), root="GcmRegistrationDescription"),
        reg(el("GcmRegistrationId", "r"), root="FcmRegistrationDescription"),
    ),
    "registration.type": (reg(TOKEN_EL), reg(el("X", "1"), root="NokiaRegistrationDescription")),
    "registration.required-elements": (reg(TOKEN_EL), reg(el("Tags", "a"))),
    "registration.element-order-required": (
        reg(el("BaiduUserId", "u"), el("BaiduChannelId", "c"), root=BAIDU),
        reg(el("BaiduChannelId", "c"), el("BaiduUserId", "u"), root=BAIDU),
    ),
    "registration.element-order-optional": (
        reg(el("Tags", "a"), TOKEN_EL),
        reg(TOKEN_EL, el("Tags", "a")),
    ),
    "registration.unknown-element": (reg(TOKEN_EL), reg(TOKEN_EL, el("Colour", "red"))),
    "registration.read-only": (reg(TOKEN_EL), reg(el("RegistrationId", "1-2-3"), TOKEN_EL)),
    "registration.id-matches-url": (
        make(
            "PUT",
            "registrations/1-2-3",
            entry("AppleRegistrationDescription", el("RegistrationId", "1-2-3"), TOKEN_EL),
        ),
        make(
            "PUT",
            "registrations/1-2-3",
            entry("AppleRegistrationDescription", el("RegistrationId", "9-9-9"), TOKEN_EL),
        ),
    ),  # fmt: skip
    "registration.template-body": (
        reg(TOKEN_EL, BODY, root=APPLE_TEMPLATE),
        reg(TOKEN_EL, el("Expiry", "2030-01-01"), root=APPLE_TEMPLATE),
    ),
    "registration.wns-type": (
        reg(WNS, XML_BODY, WNS_TYPE, root=WINDOWS_TEMPLATE),
        reg(WNS, XML_BODY, headers_xml("Wns", X_WNS_Tag="t"), root=WINDOWS_TEMPLATE),
    ),
    "registration.mpns-target": (
        reg(MPNS, XML_BODY, headers_xml("Mpns", X_WindowsPhone_Target="toast"), root=MPNS_TEMPLATE),
        reg(MPNS, XML_BODY, headers_xml("Mpns", X_NotificationClass="2"), root=MPNS_TEMPLATE),
    ),
    "registration.template-body-kind": (
        reg(TOKEN_EL, BODY, root=APPLE_TEMPLATE),
        reg(TOKEN_EL, XML_BODY, root=APPLE_TEMPLATE),
    ),
    "registration.priority": (
        reg(TOKEN_EL, BODY, el("Priority", "10"), root=APPLE_TEMPLATE),
        reg(TOKEN_EL, BODY, el("Priority", "7"), root=APPLE_TEMPLATE),
    ),
    "registration-id.no-body": (
        make("POST", "registrationIDs"),
        make("POST", "registrationIDs", APPLE),
    ),
    "registration.if-match-format": (
        make("PUT", "registrations/1", APPLE, headers={"If-Match": 'W/"3"'}),
        make("PUT", "registrations/1", APPLE, headers={"If-Match": "three"}),
    ),
    "registration.delete-if-match": (
        make("DELETE", "registrations/1", headers={"If-Match": "*"}),
        make("DELETE", "registrations/1"),
    ),
    "registration.read-if-match": (
        make("GET", "registrations/1"),
        make("GET", "registrations/1", headers={"If-Match": "*"}),
    ),
    "tags.grammar": (
        reg(el("Tags", "a_b,$UserId:{bob@x.y},c:d"), TOKEN_EL),
        reg(el("Tags", "my tag!"), TOKEN_EL),
    ),
    "tags.length": (reg(el("Tags", "t" * 120), TOKEN_EL), inst(installation(tags=["t" * 121]))),
    "tags.count": (
        inst(installation(tags=[f"t{i}" for i in range(60)])),
        inst(installation(tags=[f"t{i}" for i in range(61)])),
    ),
    "installation.body": (inst(installation()), inst("[1, 2")),
    "installation.required-fields": (
        inst(installation()),
        inst(installation(pushChannel=None)),
    ),
    "installation.id-matches-url": (inst(installation()), inst(installation(installationId="i2"))),
    "installation.platform": (inst(installation()), inst(installation(platform="nokia"))),
    "installation.platform-casing": (
        inst(installation(platform="APNS")),
        inst(installation(platform="fcmV1")),
    ),
    "installation.read-only": (
        inst(installation(expirationTime=None)),
        inst(installation(lastUpdate="2020-01-01")),
    ),
    "installation.user-id": (
        inst(installation(userId="bob@x.y")),
        inst(installation(userId="bob smith")),
    ),
    "installation.template-body": (tpl("apns", body='{"aps":{}}'), tpl("apns", tags=["t"])),
    "installation.wns-type": (
        tpl("wns", body="<toast/>", headers={"X-WNS-Type": "wns/toast"}),
        tpl("wns", body="<toast/>"),
    ),
    "installation.mpns-headers": (
        tpl("mpns", body="<toast/>", headers={"X-WindowsPhone-Target": "toast"}),
        tpl("mpns", body="<toast/>", headers={"X-NotificationClass": "2"}),
    ),
    "installation.template-body-kind": (
        tpl("wns", body="raw text", headers={"X-WNS-Type": "wns/raw"}),
        tpl("gcm", body="<data/>"),
    ),
    "installation.template-headers": (
        tpl("wns", body="<toast/>", headers={"X-WNS-Type": "wns/toast"}),
        tpl("apns", body="{}", headers={"apns-priority": "10"}),
    ),
    "installation.template-expiry": (
        tpl("apns", body="{}", expiry="$(exp)"),
        tpl("gcm", body="{}", expiry="$(exp)"),
    ),
    "installation.secondary-tiles": (
        inst(installation(platform="wns", secondaryTiles={"t1": {"pushChannel": "https://c"}})),
        inst(installation(secondaryTiles={"t1": {"pushChannel": "https://c"}})),
    ),
    "installation.secondary-tile-channel": (
        inst(installation(platform="wns", secondaryTiles={"t1": {"pushChannel": "https://c"}})),
        inst(installation(platform="wns", secondaryTiles={"t1": {"tags": ["a"]}})),
    ),
    "installation.patch-body": (
        patch([{"op": "add", "path": "/tags", "value": "a"}]),
        patch({"op": "add", "path": "/tags", "value": "a"}),
    ),
    "installation.patch-op": (
        patch([{"op": "remove", "path": "/tags/a"}]),
        patch([{"op": "move", "from": "/tags", "path": "/userId"}]),
    ),
    "installation.patch-path": (
        patch([{"op": "replace", "path": "/templates/t1/body", "value": "{}"}]),
        patch([{"op": "add", "path": "/appId", "value": "x"}]),
    ),
    "installation.patch-value": (
        patch([{"op": "add", "path": "/userId", "value": "bob"}]),
        patch([{"op": "add", "path": "/userId"}]),
    ),
    "response.status": (
        reg(TOKEN_EL, status=400, response_headers={"Content-Type": "application/xml"}),
        reg(TOKEN_EL, status=418),
    ),
    "response.status-docs-differ": (
        reg(TOKEN_EL, status=201, response_headers=RESPONSE_ATOM),
        reg(TOKEN_EL, status=200, response_headers=RESPONSE_ATOM),
    ),
    "response.throttled": (
        reg(TOKEN_EL, status=403),
        reg(TOKEN_EL, status=429, response_headers={"Retry-After": "10"}),
    ),
    "response.etag": (
        reg(TOKEN_EL, status=200, response_headers=RESPONSE_ATOM),
        reg(TOKEN_EL, status=200, response_headers={"Content-Type": "application/atom+xml"}),
    ),
    "response.registration-id-location": (
        make(
            "POST",
            "registrationIDs",
            status=201,
            response_headers={"Content-Location": f"https://{HOST}/myhub/registrations/1-2-3"},
        ),
        make(
            "POST",
            "registrationIDs",
            status=201,
            response_headers={"Location": f"https://{HOST}/myhub/registrationids/1-2-3"},
        ),
    ),  # fmt: skip
    "response.registration-id-missing": (
        make(
            "POST",
            "registrationIDs",
            status=201,
            response_headers={"Location": f"https://{HOST}/myhub/registrationids/1-2-3"},
        ),
        make("POST", "registrationIDs", status=201),
    ),  # fmt: skip
    "response.installation-location": (
        inst(
            installation(),
            status=200,
            response_headers={"Content-Location": f"https://{HOST}/myhub/installations/i1"},
        ),
        inst(installation(), status=200),
    ),  # fmt: skip
    "response.content-type": (
        make(
            "GET",
            "installations/i1",
            status=200,
            response_body='{"installationId":"i1"}',
            response_headers={"Content-Type": "application/json"},
        ),
        make(
            "GET",
            "installations/i1",
            status=200,
            response_body='{"installationId":"i1"}',
            response_headers={"Content-Type": "application/xml; charset=utf-8"},
        ),
    ),  # fmt: skip
}
EXAMPLES.update(SEND_EXAMPLES)


def _rule_findings(item: Item, rule_id: str) -> list[str]:
    return [f.severity for f in check(*item) if f.rule == rule_id]


def test_every_rule_has_examples() -> None:
    assert {r.id for r in RULES} == set(EXAMPLES)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_passing_example(rule_id: str) -> None:
    passing, _ = EXAMPLES[rule_id]
    assert _rule_findings(passing, rule_id) == []


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_failing_example(rule_id: str) -> None:
    _, failing = EXAMPLES[rule_id]
    severity = next(r.severity for r in RULES if r.id == rule_id)
    found = _rule_findings(failing, rule_id)
    assert found and set(found) == {severity}, check(*failing)


def test_session_rules_have_examples() -> None:
    from tests.rules.test_session import SESSION_EXAMPLES

    assert {r.id for r in SESSION_RULES} == set(SESSION_EXAMPLES)


def test_check_session_is_empty_for_one_clean_exchange() -> None:
    assert check_session([reg(TOKEN_EL)]) == []
