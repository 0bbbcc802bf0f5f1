"""Hostile bodies: the decoders must refuse them quickly, never expand or read anything."""

from __future__ import annotations

import gzip
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy.decode import decode_body, decode_exchange
from proxy.decode.xml import MAX_BODY_BYTES
from proxy.exchange import Message
from proxy.model import DecodedBody, Op, Operation

CREATE = Operation(name=Op.CREATE_REGISTRATION, hub="h")
PUT = Operation(name=Op.CREATE_OR_OVERWRITE_INSTALLATION, hub="h", resource_id="i")
SB = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"


def decode(body: bytes, content_type: str | None = "application/atom+xml",
           operation: Operation = CREATE) -> DecodedBody:
    started = time.perf_counter()
    result = decode_body(body, content_type, operation=operation, direction="request")
    assert time.perf_counter() - started < 2.0, "decoding a hostile body must stay fast"
    return result


def registration(token: str) -> str:
    return (f'<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">'
            f'<AppleRegistrationDescription xmlns="{SB}"><DeviceToken>{token}</DeviceToken>'
            "</AppleRegistrationDescription></content></entry>")


@pytest.fixture
def secret_file(tmp_path: Path) -> tuple[Path, str]:
    marker = "HUBSCOPE-XXE-MARKER-5f0c2e"
    path = tmp_path / "secret.txt"
    path.write_text(marker)
    return path, marker


def xxe_bodies(path: Path) -> dict[str, bytes]:
    uri = path.as_uri()
    doc = registration("&xxe;")
    return {
        "general": f'<!DOCTYPE e [<!ENTITY xxe SYSTEM "{uri}">]>{doc}'.encode(),
        "lowercase": f'<!doctype e [<!entity xxe SYSTEM "{uri}">]>{doc}'.encode(),
        "parameter": (f'<!DOCTYPE e [<!ENTITY % p SYSTEM "{uri}"> %p;]>'
                      f"{registration('x')}").encode(),
        "external-dtd": f'<!DOCTYPE e SYSTEM "{uri}">{registration("x")}'.encode(),
        "plain-path": f'<!DOCTYPE e [<!ENTITY xxe SYSTEM "{path}">]>{doc}'.encode(),
        "declaration-first": (f'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY xxe SYSTEM '
                              f'"{uri}">]>{doc}').encode(),
        "utf-16": f'<!DOCTYPE e [<!ENTITY xxe SYSTEM "{uri}">]>{doc}'.encode("utf-16"),
        "bom": b"\xef\xbb\xbf" + f'<!DOCTYPE e [<!ENTITY xxe SYSTEM "{uri}">]>{doc}'.encode(),
        "fake-cdata": (f'<!-- <![CDATA[ --><!DOCTYPE e [<!ENTITY xxe SYSTEM "{uri}">]>'
                       f"{doc.replace('</entry>', '<x>]]></x></entry>')}").encode(),
    }


@pytest.mark.parametrize(
    "variant",
    ["general", "lowercase", "parameter", "external-dtd", "plain-path", "declaration-first",
     "utf-16", "bom", "fake-cdata"],
)
def test_xxe_never_reads_the_file(secret_file: tuple[Path, str], variant: str) -> None:
    path, marker = secret_file
    result = decode(xxe_bodies(path)[variant])
    assert result.decode_error is not None
    assert "DOCTYPE" in result.decode_error
    assert result.devices == ()
    assert marker not in repr(result)


def test_xinclude_is_not_processed(secret_file: tuple[Path, str]) -> None:
    path, marker = secret_file
    include = f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{path.as_uri()}"/>'
    result = decode(registration(include).encode())
    assert marker not in repr(result)


def test_xxe_through_the_exchange(secret_file: tuple[Path, str]) -> None:
    path, marker = secret_file
    body = xxe_bodies(path)["general"]
    decoded = decode_exchange("POST", "/h/registrations", Message(headers=(), body=body), 200,
                              Message(headers=(), body=body))
    assert marker not in repr(decoded)
    assert decoded.request.decode_error and decoded.response and decoded.response.decode_error


def test_billion_laughs() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = f"<!DOCTYPE lolz [{entities}]>{registration('&lol9;')}".encode()
    result = decode(body)
    assert result.decode_error is not None and "DOCTYPE" in result.decode_error
    assert "lollol" not in repr(result)


def test_quadratic_blowup() -> None:
    body = (f'<!DOCTYPE e [<!ENTITY a "{"a" * 50_000}">]>'
            f"{registration('&a;' * 50_000)}").encode()
    result = decode(body)
    assert result.decode_error is not None and "DOCTYPE" in result.decode_error


def test_undeclared_entity_is_an_error_not_an_expansion() -> None:
    result = decode(registration("&xxe;").encode())
    assert result.decode_error is not None and "xxe" in result.decode_error


def test_fifty_megabytes_is_capped() -> None:
    body = registration("A" * (50 * 1024 * 1024)).encode()
    result = decode(body)
    assert result.decode_error == f"body too large to decode ({len(body)} bytes)"
    json_body = b'{"installationId":"' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    result = decode(json_body, "application/json", PUT)
    assert result.format == "json"
    assert result.decode_error == f"body too large to decode ({len(json_body)} bytes)"


def test_just_under_the_cap_still_decodes() -> None:
    body = registration("A" * (MAX_BODY_BYTES - 1000)).encode()
    assert len(body) <= MAX_BODY_BYTES
    assert decode(body).devices[0].handle == "A" * (MAX_BODY_BYTES - 1000)


def test_invalid_utf8() -> None:
    result = decode(registration("AB\xff").encode("latin-1"), "application/atom+xml")
    assert result.decode_error is not None
    assert "invalid utf-8 at byte" in result.decode_error
    result = decode(b'{"installationId":"\xc3\x28"}', "application/json", PUT)
    assert result.decode_error is not None and "invalid utf-8" in result.decode_error


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")])
def test_json_nested_100000_deep(opener: str, closer: str) -> None:
    body = (opener * 100_000 + "1" + closer * 100_000).encode()
    result = decode(body, "application/json", PUT)
    assert result.decode_error == "failed to parse as JSON: JSON nested too deeply"


def test_json_nested_deep_inside_an_installation() -> None:
    body = ('{"installationId":"i","pushVariables":' + "[" * 100_000 + "]" * 100_000 + "}")
    result = decode(body.encode(), "application/json", PUT)
    assert result.decode_error == "failed to parse as JSON: JSON nested too deeply"


def test_xml_nested_100000_deep() -> None:
    body = registration("<a>" * 100_000 + "</a>" * 100_000).encode()
    result = decode(body)
    assert result.decode_error is not None and result.decode_error.startswith(
        "failed to parse as Atom"
    )


def test_duplicate_keys_are_recorded() -> None:
    body = b'{"installationId":"a","platform":"apns","installationId":"b","pushChannel":"c"}'
    result = decode(body, "application/json", PUT)
    (device,) = result.devices
    assert device.installation_id == "b"
    assert device.elements == ("installationId", "platform", "installationId", "pushChannel")
    assert result.notes == ("duplicate JSON key 'installationId' (the last value is used)",)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_rejected(constant: str) -> None:
    body = f'{{"installationId":"i","pushVariables":{{"a":{constant}}}}}'.encode()
    result = decode(body, "application/json", PUT)
    assert result.decode_error is not None and constant in result.decode_error


def test_nul_bytes() -> None:
    xml = decode(registration("A\x00B").encode())
    assert xml.decode_error is not None
    raw = decode(b'{"installationId":"a\x00b"}', "application/json", PUT)
    assert raw.decode_error is not None and "control character" in raw.decode_error
    escaped = decode(b'{"installationId":"a\\u0000b"}', "application/json", PUT)
    assert escaped.devices[0].installation_id == "a\x00b"


def test_unknown_and_non_text_encodings() -> None:
    for name in ("x-no-such-charset", "rot13", "base64"):
        body = f'<?xml version="1.0" encoding="{name}"?>{registration("A")}'.encode()
        result = decode(body)
        assert result.decode_error is not None and name in result.decode_error


@settings(max_examples=300, deadline=None, database=None)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.text(alphabet='<>/{}[]":,&;!?=xmlnsi DOCTYPE\x00é', max_size=200).map(str.encode),
    ),
    content_type=st.sampled_from([None, "application/json", "application/xml",
                                  "application/atom+xml; charset=utf-16", "text/plain",
                                  "application/json; charset=bogus"]),
)
def test_decode_body_never_raises(body: bytes, content_type: str | None) -> None:
    for operation in (CREATE, PUT, Operation(name=Op.UNKNOWN), Operation(name=Op.SEND)):
        result = decode_body(body, content_type, operation=operation, direction="response")
        assert isinstance(result, DecodedBody)


@settings(max_examples=200, deadline=None, database=None)
@given(method=st.text(max_size=8), url=st.text(max_size=80),
       if_match=st.one_of(st.none(), st.text(max_size=5)))
def test_decode_exchange_never_raises(method: str, url: str, if_match: str | None) -> None:
    headers = () if if_match is None else (("If-Match", if_match),)
    decoded = decode_exchange(method, url, Message(headers=headers, body=b"{"), None, None)
    assert decoded.request.format == "json" and decoded.request.decode_error


@pytest.mark.parametrize("variant", ["general", "parameter", "external-dtd"])
def test_parser_alone_never_reads_the_file(
    secret_file: tuple[Path, str], variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the DOCTYPE pre-check disabled, lxml must still not expand."""
    monkeypatch.setattr("proxy.decode.xml._FORBIDDEN", re.compile(r"(?!x)x"))
    path, marker = secret_file
    result = decode(xxe_bodies(path)[variant])
    assert marker not in repr(result)
    assert result.decode_error is not None


def test_a_compressed_body_is_decoded_as_its_sender_meant_it() -> None:
    body = gzip.compress(registration("ab12").encode())
    request = Message(headers=(("Content-Encoding", "gzip"),), body=body)
    decoded = decode_exchange("POST", "/h/registrations", request, 201, None)
    assert decoded.request.decode_error is None
    assert decoded.request.devices[0].handle == "ab12"


def test_a_compressed_bomb_is_bounded_and_said() -> None:
    bomb = gzip.compress(registration("A" * (MAX_BODY_BYTES + 1)).encode())
    request = Message(headers=(("Content-Encoding", "gzip"),), body=bomb)
    decoded = decode_exchange("POST", "/h/registrations", request, 201, None)
    assert decoded.request.decode_error is not None
    assert "could not be inflated" in decoded.request.decode_error
    assert "too large" in decoded.request.decode_error


def test_an_unknown_encoding_is_a_decode_error() -> None:
    request = Message(headers=(("Content-Encoding", "br"),), body=b"\x0b\x02\x80")
    decoded = decode_exchange("POST", "/h/registrations", request, 201, None)
    assert decoded.request.decode_error is not None and "br" in decoded.request.decode_error
