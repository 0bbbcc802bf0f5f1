"""`proxy.sas` against every token the corpus captured from real clients, and the five sr shapes."""

from __future__ import annotations

import time
from urllib.parse import quote

import pytest

from proxy.sas import audience_matches, make_token, parse_connection_string, parse_token, verify
from tests.corpus import LOCAL_CAPTURE, CorpusExchange, iter_local_capture, local_captures

FAKE_KEY = "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
KEYS = {"DefaultFullSharedAccessSignature": FAKE_KEY}


def test_the_readme_still_documents_the_fake_key() -> None:
    assert FAKE_KEY in (LOCAL_CAPTURE / "README.md").read_text(encoding="utf-8")


CAPTURED = [
    exchange
    for path in local_captures()
    for exchange in iter_local_capture(path)
    if exchange.request.header("authorization")
]


def test_the_corpus_has_tokens_from_every_capture() -> None:
    assert {e.source.split("#")[0] for e in CAPTURED} >= {"requests.jsonl", "requests-http.jsonl"}
    assert len(CAPTURED) >= 40


@pytest.mark.parametrize("exchange", CAPTURED, ids=[e.source for e in CAPTURED])
def test_every_captured_token_verifies(exchange: CorpusExchange) -> None:
    token = parse_token(exchange.request.header("authorization") or "")
    assert token is not None and token.expiry is not None
    host = exchange.request.header("host") or ""
    hub = exchange.url.split("/")[1]
    assert verify(token, KEYS, host=host, hub=hub, now=token.expiry - 1) is None
    expired = verify(token, KEYS, host=host, hub=hub, now=token.expiry + 1)
    assert expired is not None and expired.startswith("ExpiredToken")
    assert (
        verify(
            token,
            {"DefaultFullSharedAccessSignature": "wrong"},
            host=host,
            hub=hub,
            now=token.expiry - 1,
        )
        is not None
    )


def test_captured_field_orders_include_the_docs_order() -> None:
    orders = {parse_token(e.request.header("authorization") or "").order for e in CAPTURED}  # type: ignore[union-attr]
    assert ("sr", "sig", "se", "skn") in orders
    assert ("sig", "se", "skn", "sr") in orders


HOST = "ns.servicebus.windows.net"
SHAPES = {
    "namespace root, JS upper-case hex": (f"https://{HOST}/", False),
    ".NET http path with trailing slash": (f"http://{HOST}/hub/registrations/", True),
    "Java full URL with query": (f"https://{HOST}/hub/registrations?api-version=2020-06", True),
    "hub URL": (f"http://{HOST}/hub", True),
    "https hub URL, not lower-cased": (f"https://{HOST}/Hub", False),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_five_sr_shapes(shape: str) -> None:
    resource, lower = SHAPES[shape]
    token = parse_token(make_token(resource, "rule", "k3y=", lower=lower))
    assert token is not None
    assert verify(token, {"rule": "k3y="}, host=HOST, hub="hub") is None
    assert verify(token, {"rule": "other"}, host=HOST, hub="hub") is not None
    assert verify(token, {"rule": "k3y="}, host="elsewhere.example", hub="hub") is not None


def test_upper_hex_is_signed_as_sent() -> None:
    token = parse_token(make_token(f"https://{HOST}/", "rule", "key", lower=False))
    assert token is not None and token.sr == quote(f"https://{HOST}/", safe="")
    assert "%3A%2F%2F" in token.sr


def test_audience_scopes() -> None:
    assert audience_matches(f"https://{HOST}/", HOST, "hub")
    assert audience_matches(f"http://{HOST}:443/HUB/x", HOST, "hub")
    assert not audience_matches(f"https://{HOST}/other", HOST, "hub")


def test_the_audience_path_is_a_scope_over_the_request_path() -> None:
    path = "/MyHub/registrations/12-34?api-version=2020-06"
    for scope in (
        "",
        "/",
        "/myhub",
        "/MYHUB/",
        "/myhub/registrations/",
        "/myhub/registrations/12-34/",
    ):
        assert audience_matches(f"https://{HOST}{scope}?x=1", HOST, path=path), scope
    for scope in ("/other", "/myhub/installations", "/myhub/registrations/12-345", "/myhubx"):
        assert not audience_matches(f"https://{HOST}{scope}", HOST, path=path), scope
    assert not audience_matches(f"https://localhost/{HOST}", HOST, path=path)
    assert not audience_matches("ns.servicebus.windows.net/myhub", HOST, path=path), "no scheme"
    assert not audience_matches("https://[::1/", HOST, path=path), "unparseable"


def test_expiry_and_malformed_tokens() -> None:
    token = parse_token(make_token(f"https://{HOST}/", "rule", "key", now=time.time() - 7200))
    assert token is not None
    assert (verify(token, {"rule": "key"}, host=HOST) or "").startswith("ExpiredToken")
    partial = parse_token("SharedAccessSignature sr=x&se=1")
    assert partial is not None
    assert (verify(partial, {"rule": "key"}, host=HOST) or "").startswith("MalformedToken")
    assert parse_token("Bearer x") is None


def test_connection_string_parsing() -> None:
    cs = parse_connection_string(
        f"Endpoint=sb://{HOST}/;SharedAccessKeyName=DefaultFullSharedAccessSignature;"
        f"SharedAccessKey={FAKE_KEY};"
    )
    assert cs.key == FAKE_KEY and cs.base_url == f"https://{HOST}"
    assert FAKE_KEY not in repr(cs)
