"""`proxy.sas` at its edges: the second a token expires, and which key signs it."""

from __future__ import annotations

import dataclasses

import pytest

from proxy.sas import (
    ConnectionStringError,
    audience_matches,
    check_signature,
    make_token,
    parse_connection_string,
    parse_token,
    token_for_sr,
    verify,
)

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
    assert reason == "InvalidSignature: The token has an invalid signature."
    # A rule the hub does not have reads the same as a wrong key: the service names neither.
    assert verify(token, {"Other": KEY}, host=HOST) == reason


def test_a_token_for_another_hub_is_the_wrong_audience() -> None:
    for signed, called in (("ahub", "bhub"), ("zhub", "bhub")):
        token = parse_token(make_token(f"https://{HOST}/{signed}", RULE, KEY))
        assert token is not None
        reason = verify(token, {RULE: KEY}, host=HOST, hub=called)
        assert reason is not None and reason.startswith("InvalidAudience"), signed
    assert not audience_matches("not a url", HOST)
    assert audience_matches(f"https://{HOST.upper()}/MyHub/registrations", HOST, "myhub")


@pytest.mark.parametrize("missing", ["sr", "sig", "se", "skn"])
def test_a_token_missing_a_field_is_malformed_and_says_which(missing: str) -> None:
    fields = {"sr": "https%3a%2f%2fns%2f", "sig": "abc%3d", "se": "9999999999", "skn": RULE}
    del fields[missing]
    token = parse_token("SharedAccessSignature " + "&".join(f"{k}={v}" for k, v in fields.items()))
    assert token is not None
    assert (
        verify(token, {RULE: KEY}, host=HOST) == f"MalformedToken: The token is missing {missing}."
    )
    assert not check_signature(token, KEY)


def test_a_non_integer_expiry_is_malformed() -> None:
    token = parse_token("SharedAccessSignature sr=x&sig=y&se=soon&skn=k")
    assert token is not None and token.expiry is None
    assert (
        verify(token, {"k": KEY}, host=HOST)
        == "MalformedToken: The token's se is not a whole number of seconds."
    )


def test_make_token_lower_cases_unless_told_and_lasts_an_hour() -> None:
    token = parse_token(make_token("HTTPS://NS.example/Hub", RULE, KEY, now=1000))
    assert token is not None and token.sr == "https%3a%2f%2fns.example%2fhub"
    assert token.expiry == 1000 + 3600
    kept = parse_token(make_token("HTTPS://NS.example/Hub", RULE, KEY, lower=False, now=1000))
    assert kept is not None and kept.sr == "HTTPS%3A%2F%2FNS.example%2FHub"
    raw = parse_token(token_for_sr("x", RULE, KEY, now=1000))
    assert raw is not None and raw.expiry == 4600


def test_parsed_values_cannot_be_changed() -> None:
    token = parse_token(make_token(f"https://{HOST}/", RULE, KEY))
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.sig = "forged"  # type: ignore[misc, union-attr]
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_connection_string("Endpoint=sb://x/").key = "k"  # type: ignore[misc]


def test_connection_strings_skip_empty_parts_and_name_the_bad_one() -> None:
    parsed = parse_connection_string(
        f"Endpoint=sb://x/;;SharedAccessKeyName=n;SharedAccessKey={KEY}"
    )
    assert (parsed.key_name, parsed.key) == ("n", KEY)
    with pytest.raises(ConnectionStringError, match="part 2 has no '='"):
        parse_connection_string("Endpoint=sb://x/;oops;SharedAccessKey=k")
