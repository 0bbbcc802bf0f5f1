"""Resend's pieces: the editable text, the edit read back and signed for its URL, and what
an edit changed in the request's meaning."""

from __future__ import annotations

import pytest

from proxy import sas
from proxy.exchange import Exchange, Message
from proxy.replay.load import Recorded, decode
from proxy.replay.resend import EditError, apply_edit, edit_text, request_changes, signed
from proxy.signing import Signer
from tests.replaying import apple, dotnet_sr

URL = "http://127.0.0.1:9/myhub/registrations/1-2-3?api-version=2020-06"
SIGNER = Signer("rule", "key")


def recorded() -> Recorded:
    original = sas.token_for_sr(dotnet_sr(URL), "rule", "other")
    exchange = Exchange(
        id="d" * 32, session="s", started_at=1.0, duration_ms=1.0, method="PUT", url=URL,
        request=Message(headers=(("Host", "127.0.0.1:9"), ("Authorization", original),
                                 ("Content-Type", "application/atom+xml"),
                                 ("Content-Length", "9")), body=apple("a,b", "1-2-3")),
        status=200, response=Message(headers=(), body=b""),
    )  # fmt: skip
    return Recorded(index=1, exchange=exchange, decoded=decode(exchange))


def test_the_edit_text_leaves_the_token_out_and_reads_back_signed() -> None:
    item = recorded()
    sent = signed(item, "http://127.0.0.1:7", SIGNER)
    text = edit_text(sent)
    assert text.startswith("PUT http://127.0.0.1:7/myhub/registrations/1-2-3?api-version=2020-06\n")
    assert "Authorization" not in text and "Host" not in text and "Content-Length" not in text
    again = apply_edit(text, item, SIGNER)
    assert (again.method, again.url, again.body) == (sent.method, sent.url, sent.body)
    assert [k for k, _ in again.headers] == [k for k, _ in sent.headers]
    moved = apply_edit(text.replace("1-2-3?", "9-9-9?"), item, SIGNER)
    token = sas.parse_token(dict(moved.headers)["Authorization"])
    assert token is not None and token.audience == "http://127.0.0.1/myhub/registrations/9-9-9/"
    assert sas.check_signature(token, "key")


def test_what_an_edit_changed_is_named() -> None:
    item = recorded()
    text = edit_text(signed(item, "http://127.0.0.1:7", SIGNER)).replace("a,b<", "a,c<")
    changes = request_changes(item, apply_edit(text.replace("PUT ", "POST ", 1), item, SIGNER))
    assert [(d.field, d.original, d.replay) for d in changes] == [
        ("request.method", "PUT", "POST"),
        ("request.record[0].tags", "a,b", "a,c"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("PUT /relative\n\n", "METHOD URL"),
        ("GET http://h/\nnot a header\n\n", "Name: value"),
    ],
)
def test_a_broken_edit_sends_nothing(text: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        apply_edit(text, recorded(), SIGNER)
