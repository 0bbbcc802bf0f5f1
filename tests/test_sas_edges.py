"""`proxy.sas` at its edges: the second a token expires, and which key signs it."""

from __future__ import annotations

from proxy.sas import make_token, parse_token, verify

KEY = "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
RULE = "DefaultFullSharedAccessSignature"
HOST = "ns.servicebus.windows.net"


def test_a_token_is_good_through_its_expiry_second_and_expired_after() -> None:
    token = parse_token(make_token(f"https://{HOST}/myhub", RULE, KEY, ttl=0, now=1_800_000_000))
    assert token is not None and token.expiry == 1_800_000_000
    assert verify(token, {RULE: KEY}, host=HOST, hub="myhub", now=1_800_000_000) is None
    late = verify(token, {RULE: KEY}, host=HOST, hub="myhub", now=1_800_000_000.5)
    assert late is not None and late.startswith("ExpiredToken")


def test_another_rules_key_does_not_verify() -> None:
    token = parse_token(make_token(f"https://{HOST}/", RULE, KEY))
    assert token is not None
    reason = verify(token, {RULE: KEY[::-1]}, host=HOST)
    assert reason == "InvalidSignature: the token has an invalid signature"
    assert verify(token, {"Other": KEY}, host=HOST) == (
        f"InvalidSignature: no key named {RULE!r} on this hub"
    )
