"""Redaction reaches every field and every key name it promises, down to the stored row.

Hand mutations that survived the suite before these tests: the `error` text not redacted
(a `?sig=` URL in an upstream failure reached the stored error) and `PrimaryKey` /
`SecondaryKey` JSON values no longer redacted.
"""

from __future__ import annotations

import json

import pytest

from proxy import redact
from proxy.exchange import Exchange, Message
from proxy.store import rows

SIG = "Zm9vYmFyYmF6c2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg%3D"
KEY = "c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5MTIzNDU="
URL = f"https://ns.servicebus.windows.net/myhub/messages?api-version=2020-06&sig={SIG}"


def failed_exchange() -> Exchange:
    return Exchange(
        id="e1",
        session="s",
        started_at=0.0,
        duration_ms=1.0,
        method="POST",
        url=URL,
        request=Message(headers=(), body=b""),
        error=f"upstream timed out: POST {URL} (SharedAccessKey={KEY})",
    )


def test_the_error_text_loses_signatures_and_keys() -> None:
    error = redact.exchange(failed_exchange()).error or ""
    assert SIG not in error and KEY not in error
    assert "sig=[redacted]" in error and "SharedAccessKey=[redacted]" in error
    assert error.startswith("upstream timed out: POST https://ns.servicebus.windows.net/")


def test_the_stored_error_and_url_hold_no_signature() -> None:
    built = rows.build([failed_exchange()], body_cap=1 << 20, keys={})
    [row] = built.exchanges
    stored = json.dumps(row, default=str)
    assert SIG not in stored and KEY not in stored
    assert "sig=[redacted]" in row["error"]


@pytest.mark.parametrize("name", ["PrimaryKey", "SecondaryKey", "SharedAccessKey"])
def test_json_key_values_are_redacted(name: str) -> None:
    body = json.dumps({"keyName": "DefaultFullSharedAccessSignature", name: KEY}).encode()
    out = redact.body(body)
    assert KEY.encode() not in out
    assert json.loads(out)[name] == redact.MARKER
    assert json.loads(out)["keyName"] == "DefaultFullSharedAccessSignature"
    spaced = f'{{"{name.lower()}" :  "{KEY}"}}'.encode()
    assert KEY.encode() not in redact.body(spaced)


@pytest.mark.parametrize("signature", ["abcSECRETsig%3D", "ZYXsecretSIG%3D", "0sig", "[sig"])
def test_a_header_with_a_secret_is_always_replaced(signature: str) -> None:
    """Whatever the signature sorts like, the redacted pairs are returned, never the input."""
    pairs = (("Accept", "*/*"), ("Authorization", f"SharedAccessSignature sr=x&sig={signature}"))
    out = redact.headers(pairs)
    assert out != pairs and signature not in repr(out)
    assert out[0] == pairs[0] and out[1][1].endswith("sig=[redacted]")


def test_clean_parts_come_back_as_the_same_objects() -> None:
    pairs = (("Content-Type", "application/json"), ("x-ms-version", "2020-06"))
    assert redact.headers(pairs) is pairs
    clean = Message(headers=pairs, body=b'{"installationId":"i1"}')
    assert redact.message(clean) is clean


@pytest.mark.parametrize("sig", [SIG, "abcLowerFirst%3D"])
@pytest.mark.parametrize("where", ["headers", "body", "both"])
def test_a_message_with_a_secret_in_one_part_is_redacted_there(where: str, sig: str) -> None:
    """Whether the redacted headers sort before or after the original ones."""
    token = f"SharedAccessSignature sr=x&sig={sig}&se=1&skn=k"
    headers = (("Authorization", token),) if where != "body" else (("Accept", "*/*"),)
    body = f'{{"note":"{token}"}}'.encode() if where != "headers" else b'{"a":1}'
    msg = Message(headers=headers, body=body)
    out = redact.message(msg)
    assert sig not in repr(out.headers) and sig.encode() not in out.body
    if where == "headers":
        assert out.body is msg.body
    if where == "body":
        assert out.headers is msg.headers
