"""SAS on the local hub: every token shape real clients send, and each way a token fails."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from proxy.localhub import FULL_RULE, LISTEN_RULE
from proxy.sas import make_token, signature, token_for_sr
from tests.hubclient import HUB, HubClient, apple


def shapes(host: str) -> dict[str, tuple[str, bool]]:
    """Resource URI and lower-casing per client family (§2.3)."""
    return {
        "js-namespace-root": (f"https://{host}/", False),
        "dotnet-http-path": (f"http://{host}/{HUB}/registrations/", True),
        "java-full-url": (f"https://{host}/{HUB}/registrations?api-version=2020-06", True),
        "hub-url": (f"http://{host}/{HUB}", True),
        "upper-hex-hub": (f"https://{host}/{HUB}", False),
    }


@pytest.mark.parametrize(
    "shape",
    ["js-namespace-root", "dotnet-http-path", "java-full-url", "hub-url", "upper-hex-hub"],
)
async def test_every_sr_shape_is_accepted(hub: HubClient, shape: str) -> None:
    resource, lower = shapes(hub.running.host)[shape]
    key = hub.running.settings.keys[FULL_RULE]
    token = make_token(resource, FULL_RULE, key, lower=lower)
    answer = await hub.call("POST", "/registrations", apple(), auth=token)
    assert answer.status == 200, answer.text


async def test_field_order_does_not_matter(hub: HubClient) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    sr = quote(f"{hub.running.url}/{HUB}".lower(), safe="").lower()
    se = str(int(time.time()) + 600)
    sig = quote(signature(sr, se, key), safe="")
    token = f"SharedAccessSignature sig={sig}&se={se}&skn={FULL_RULE}&sr={sr}"
    assert (await hub.call("GET", "/registrations", auth=token)).status == 200


async def test_missing_token_is_401(hub: HubClient) -> None:
    """Nothing in the corpus sends no token; the text is the Service Bus gateway's (NH runs on
    it: same `<Error>` shape and `InvalidSignature: …` wording as recorded), as Microsoft
    documents it: "Unauthorized | MissingToken: The authorization header was not found."
    (learn.microsoft.com, service-bus-messaging/service-bus-resource-manager-exceptions);
    the spec's [.NET] error codes name it 40102 MissingToken (§1.5)."""
    for auth in ("", "   "):
        answer = await hub.call("GET", "/registrations/1", auth=auth)
        assert answer.status == 401
        assert "<Detail>MissingToken: The authorization header was not found..TrackingId:" in (
            answer.text
        ), repr(auth)


async def test_bad_signature_is_401(hub: HubClient) -> None:
    token = make_token(f"http://{hub.running.host}/{HUB}", FULL_RULE, "not-the-key")
    answer = await hub.call("GET", "/registrations/1", auth=token)
    assert answer.status == 401
    assert "InvalidSignature: The token has an invalid signature..TrackingId:" in answer.text


async def test_expired_token_is_401(hub: HubClient) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    token = make_token(f"http://{hub.running.host}/{HUB}", FULL_RULE, key, ttl=-10)
    answer = await hub.call("GET", "/registrations/1", auth=token)
    assert answer.status == 401 and "ExpiredToken" in answer.text


async def test_unknown_rule_and_wrong_audience_are_401(hub: HubClient) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    unknown = make_token(f"http://{hub.running.host}/{HUB}", "SomeOtherRule", key)
    assert (await hub.call("GET", "/registrations/1", auth=unknown)).status == 401
    elsewhere = token_for_sr(quote("https://ns.servicebus.windows.net/", safe=""), FULL_RULE, key)
    answer = await hub.call("GET", "/registrations/1", auth=elsewhere)
    assert answer.status == 401 and "InvalidAudience" in answer.text
    other_hub = make_token(f"http://{hub.running.host}/otherhub", FULL_RULE, key)
    assert (await hub.call("GET", "/registrations/1", auth=other_hub)).status == 401


async def test_malformed_token_is_401(hub: HubClient) -> None:
    for auth in ("Bearer abc", "SharedAccessSignature sr=x", "SharedAccessSignature &&&=="):
        answer = await hub.call("GET", "/registrations/1", auth=auth)
        assert answer.status == 401, auth


async def test_listen_rule_rights(hub: HubClient) -> None:
    created = await hub.call("POST", "/registrations", apple(), rule=LISTEN_RULE)
    assert created.status == 200
    rid = created.devices()[0].registration_id
    assert (await hub.call("GET", f"/registrations/{rid}", rule=LISTEN_RULE)).status == 200
    assert (await hub.call("POST", "/registrationids", rule=LISTEN_RULE)).status == 201
    by_channel = await hub.call(
        "GET", "/registrations?$filter=DeviceToken+eq+%27AA%27", rule=LISTEN_RULE
    )
    assert by_channel.status == 200
    put = await hub.call(
        "PUT",
        "/installations/i1",
        '{"installationId":"i1","platform":"wns","pushChannel":"https://wns.example/c"}',
        rule=LISTEN_RULE,
    )
    assert put.status == 200
    for path in ("/registrations", "/tags/a/registrations"):
        # 2020-06: 403, no body (the .NET MockData Listen-only recording, nh-rest-api §1.6).
        denied = await hub.call("GET", path, rule=LISTEN_RULE)
        assert (denied.status, denied.text) == (403, "")
        assert "Content-Type" not in denied.headers and denied.headers["TrackingId"]
        assert denied.headers["x-ms-correlation-request-id"]
        # 2017-04: 401 with the recorded detail (ManagementApi_FailsWithAuthorizationException).
        old = await hub.call("GET", path, rule=LISTEN_RULE, api="api-version=2017-04")
        assert old.status == 401
        assert "<Detail>Manage claim is required for this operation..TrackingId:" in old.text
    assert (await hub.call("DELETE", f"/registrations/{rid}", rule=LISTEN_RULE)).status == 200


async def test_the_audience_must_name_the_host_the_hub_is_called_as(hub: HubClient) -> None:
    """No loopback leniency: `localhost` is another audience than `127.0.0.1`, as on Azure."""
    key = hub.running.settings.keys[FULL_RULE]
    port = hub.running.port
    for name in ("localhost", "[::1]", "127.0.0.2", "example.com"):
        token = make_token(f"http://{name}:{port}/{HUB}", FULL_RULE, key)
        answer = await hub.call("GET", "/registrations", auth=token)
        assert answer.status == 401, name
        assert (
            "<Detail>InvalidAudience: The authorization header contains a token with a wrong "
            "audience..TrackingId:" in answer.text
        ), answer.text
    for sr_host in ("127.0.0.1", "127.0.0.1:1", "127.0.0.1:443", "127.0.0.1".upper()):
        token = make_token(f"HTTPS://{sr_host}/{HUB}", FULL_RULE, key, lower=False)
        assert (await hub.call("GET", "/registrations", auth=token)).status == 200, sr_host


async def test_the_host_header_decides_not_the_socket(hub: HubClient) -> None:
    """Behind a forward proxy the hub is called as the namespace, whatever address it has."""
    key = hub.running.settings.keys[FULL_RULE]
    namespace = "made-up.servicebus.windows.net"
    token = make_token(f"https://{namespace}/", FULL_RULE, key, lower=False)
    as_namespace = {"Host": namespace}
    answer = await hub.call("GET", "/registrations", auth=token, headers=as_namespace)
    assert answer.status == 200, answer.text
    assert (await hub.call("GET", "/registrations", auth=token)).status == 401
    local = make_token(f"http://{hub.running.host}/{HUB}", FULL_RULE, key)
    refused = await hub.call("GET", "/registrations", auth=local, headers=as_namespace)
    assert refused.status == 401 and "InvalidAudience" in refused.text


@pytest.mark.parametrize(
    ("scope", "status"),
    [
        ("", 200),
        (f"/{HUB}", 200),
        (f"/{HUB.upper()}/", 200),
        (f"/{HUB}/registrations/", 200),
        (f"/{HUB}/registrations/?api-version=2020-06", 200),
        (f"/{HUB}/installations/", 401),
        (f"/{HUB}x", 401),
        (f"/{HUB}/registrations/abc", 401),
        ("/otherhub/registrations", 401),
    ],
)
async def test_the_audience_path_is_a_prefix_of_the_request_path(
    hub: HubClient, scope: str, status: int
) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    token = make_token(f"http://{hub.running.host}{scope}", FULL_RULE, key)
    answer = await hub.call("GET", "/registrations", auth=token)
    assert answer.status == status, answer.text
    if status == 401:
        assert "InvalidAudience" in answer.text


async def test_the_service_texts_for_each_refusal(hub: HubClient) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    details = {
        "": "MissingToken: The authorization header was not found.",
        "Bearer abc": "MalformedToken: The credentials contained in the authorization header "
        "are not in the WRAP format.",
        make_token(f"http://{hub.running.host}/{HUB}", FULL_RULE, key, now=0): (
            "ExpiredToken: The token is expired. Expiration time: '1970-01-01 01:00:00Z'."
        ),
        make_token(f"http://{hub.running.host}/{HUB}", "NoSuchRule", key): (
            "InvalidSignature: The token has an invalid signature."
        ),
    }
    for auth, detail in details.items():
        answer = await hub.call("GET", "/registrations/1", auth=auth)
        assert answer.status == 401 and f"<Detail>{detail}.TrackingId:" in answer.text, auth


@pytest.mark.parametrize("se", ["+99999999999", " 99999999999", "9_999_999_999", "1e11", ""])
async def test_se_must_be_plain_digits(hub: HubClient, se: str) -> None:
    key = hub.running.settings.keys[FULL_RULE]
    sr = quote(f"http://{hub.running.host}/{HUB}", safe="").lower()
    sig = quote(signature(sr, se, key), safe="")
    token = f"SharedAccessSignature sr={sr}&sig={sig}&se={quote(se)}&skn={FULL_RULE}"
    answer = await hub.call("GET", "/registrations", auth=token)
    assert answer.status == 401 and "MalformedToken" in answer.text, se
