"""`proxy.signing`: a client's `sr` pointed at another host, and tokens re-signed in its shape."""

from __future__ import annotations

import re
import time
from urllib.parse import quote, unquote

import pytest

from proxy import sas
from proxy.signing import Signer, retarget

HUB_HOST = "ns.servicebus.windows.net"
KEY = "c2VjcmV0LWtleQ=="

RETARGET = {
    "js root, upper hex, port kept when the target has one": (
        quote("https://localhost:8443/", safe=""),
        ("127.0.0.1", 8082),
        quote("https://127.0.0.1:8082/", safe=""),
    ),
    "js root, the real hub has no port": (
        quote("https://localhost:8443/", safe=""),
        (HUB_HOST, None),
        quote(f"https://{HUB_HOST}/", safe=""),
    ),
    ".NET http path, lower hex, no port": (
        quote("http://localhost/myhub/registrations/abc/", safe="").lower(),
        (HUB_HOST, None),
        quote(f"http://{HUB_HOST}/myhub/registrations/abc/", safe="").lower(),
    ),
    ".NET never signs a port, even when the target has one": (
        quote("http://localhost/myhub/installations/i1/", safe="").lower(),
        ("127.0.0.1", 8082),
        quote("http://127.0.0.1/myhub/installations/i1/", safe="").lower(),
    ),
    "Java full URL with query": (
        quote("https://localhost:8443/myhub/registrations/?api-version=2020-06", safe="").lower(),
        (HUB_HOST, None),
        quote(f"https://{HUB_HOST}/myhub/registrations/?api-version=2020-06", safe="").lower(),
    ),
    "hub URL, case kept in the path": (
        quote("https://LOCALHOST:8443/MyHub", safe=""),
        (HUB_HOST, None),
        quote(f"https://{HUB_HOST}/MyHub", safe=""),
    ),
    "unencoded": ("http://localhost:8080/myhub/", (HUB_HOST, 443), f"http://{HUB_HOST}:443/myhub/"),
    "IPv6 client address": (
        quote("https://[::1]:8443/", safe=""),
        (HUB_HOST, None),
        quote(f"https://{HUB_HOST}/", safe=""),
    ),
    "IPv6 target": (
        quote("https://localhost:8443/", safe=""),
        ("::1", 8082),
        quote("https://[::1]:8082/", safe=""),
    ),
}


@pytest.mark.parametrize("case", RETARGET)
def test_retarget_changes_only_the_host(case: str) -> None:
    sr, (host, port), expected = RETARGET[case]
    assert retarget(sr, host, port) == expected


@pytest.mark.parametrize("sr", ["", "localhost", quote("localhost/hub", safe=""), "%ZZ"])
def test_retarget_refuses_what_is_not_a_url(sr: str) -> None:
    assert retarget(sr, HUB_HOST) is None


def test_resign_keeps_rule_expiry_field_order_and_escaping() -> None:
    se = str(int(time.time()) + 600)
    client_sr = quote("https://localhost:8443/", safe="")
    escape = re.compile(r"%[0-9A-F]{2}")
    sig = escape.sub(
        lambda m: m.group(0).lower(), quote(sas.signature(client_sr, se, KEY), safe="")
    )
    assert "%" in sig
    sent = f"SharedAccessSignature skn=Full%20Rule&se={se}&sr={client_sr}&sig={sig}"
    token = sas.parse_token(sent)
    assert token is not None
    signer = Signer("Full Rule", KEY)
    assert signer.verifies(token)
    new_sr = retarget(client_sr, HUB_HOST)
    assert new_sr is not None
    fresh = sas.parse_token(signer.resign(token, new_sr))
    assert fresh is not None
    assert fresh.order == ("skn", "se", "sr", "sig")
    assert (fresh.skn, fresh.se, fresh.sr) == ("Full%20Rule", se, new_sr)
    assert not escape.search(fresh.sig or ""), "the client's lower-case hex is kept"
    assert unquote(fresh.sig or "") == sas.signature(new_sr, se, KEY)
    assert sas.verify(fresh, {"Full Rule": KEY}, host=HUB_HOST, path="/myhub/x") is None
    assert not Signer("Full Rule", "another-key").verifies(token)
    assert KEY not in repr(signer)
